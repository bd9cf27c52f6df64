import NIOCore
import ResponsesJSON

/// Receiving a turn's events: delivery to the caller, the recoveries that happen before anything
/// was delivered, and the end of the turn. Event loop only.
extension Session {
    /// One event of the turn's lane, its header decoded by the connection's reader.
    func laneReceived(_ message: ByteBuffer, header: EventHeader, on c: WebSocketConnection) {
        // An event for a lane without a turn (a stray after a cancel's discarding ended) is dropped.
        guard let turn = current, turn.connection === c, !turn.isFinished else { return }
        received(message, for: turn, at: c.lastReadAt)
        message.withUnsafeReadableBytes { deliver(message, frame: $0, header: header, for: turn) }
    }

    /// One event of an HTTP/SSE stream.
    func handle(_ message: ByteBuffer, for turn: Turn, receivedAt now: NIODeadline) {
        received(message, for: turn, at: now)
        deliver(message, for: turn)
    }

    private func received(_ message: ByteBuffer, for turn: Turn, at now: NIODeadline) {
        let size = UInt64(message.readableBytes)
        turn.bytesReceived &+= size
        count.add(.bytesReceived, size)
        if turn.firstEventAt == nil { turn.firstEventAt = now }
        turn.lastEventAt = now
    }

    private func deliver(_ message: ByteBuffer, for turn: Turn, redacted: Bool = false) {
        message.withUnsafeReadableBytes { frame in
            do {
                deliver(message, frame: frame, header: try EventHeader.decode(frame), for: turn, redacted: redacted)
            } catch {
                abortTransport(of: turn)
                complete(turn, RWSError(.protocolViolation, "the server sent an event that is not a JSON object with a \"type\" (\(error)); the connection was closed"))
            }
        }
    }

    /// The connection's reader could not decode an event while `c` carries this session's turn.
    func protocolViolation(on c: WebSocketConnection, _ message: String) {
        guard let turn = current, turn.connection === c, !turn.isFinished else { return }
        turn.connection = nil
        detach(lost: true)
        apply(.connectionGone(c.id))
        complete(turn, RWSError(.protocolViolation, message))
    }

    private func deliver(_ message: ByteBuffer, frame: UnsafeRawBufferPointer, header: EventHeader, for turn: Turn, redacted: Bool = false) {
        // A server that echoes a credential (in an error, a failed response's message, a
        // response object) gets it replaced before any caller sees the event. Deltas, the
        // hot path, carry model output and are not scanned.
        if !redacted, header.delta.count == 0, !client.redactor.isEmpty, let clean = client.redactor.redacted(frame) {
            deliver(ByteBuffer(bytes: clean), for: turn, redacted: true)
            return
        }
        if header.type == .error, turn.delivered == 0, recover(turn, from: header, frame: frame) { return }
        // A terminal event of another response does not end this turn: it is delivered as
        // an ordinary event, labelled with its own id, and the turn waits for its own end
        // (or a timeout). Failing the turn instead would give up on a response the server
        // may still be sending; ending it OK would chain to a response that is not ours.
        if turn.heldResult != nil, header.type == .responseCreated, header.responseID.count > 0 {
            adoptSuccessor(turn, header: header, frame: frame)
        }
        let foreign = isForeign(header, frame: frame, of: turn)
        if !foreign { note(header, frame: frame, of: turn) }
        count.add(.events)
        turn.delivered += 1
        var keepGoing = true
        let label: [UInt8] = foreign ? [] : turn.responseID
        if let handler = turn.handler {
            if !turn.detached {
                keepGoing = label.withUnsafeBytes { rid in
                    DeliveredEvent.with(frame: frame, header: header, responseID: rid, scratch: &scratch, handler)
                }
            }
        } else if turn.enqueue(PendingEvent(frame: message, header: header, responseID: label), on: client.loop) {
            pauseReading(for: turn)
        }
        // The callback may have cancelled or freed the turn.
        guard !turn.isFinished else { return }
        if header.type.isTerminal && !foreign {
            finish(turn, terminal: header, frame: frame)
        } else if !keepGoing {
            cancelOnLoop(turn, RWSError(.aborted, "the event callback returned RWS_STOP"))
        } else if turn.heldResult != nil {
            endIfSteersSettled(turn)
        }
    }

    /// Recoveries for errors that arrive before the caller saw any event of the turn. Returns
    /// true when the turn was sent again, so the error is not delivered.
    private func recover(_ turn: Turn, from header: EventHeader, frame: UnsafeRawBufferPointer) -> Bool {
        guard header.errorCode.count > 0 else { return false }
        let code = String(decoding: UnsafeRawBufferPointer(rebasing: frame[header.errorCode.start..<header.errorCode.end]), as: UTF8.self)
        switch code {
        case "previous_response_not_found":
            // The cache lost the chain (eviction, restart): send the full context once, on a
            // fresh chain (§5.2, §5.10). Never for a caller's explicit previous_response_id.
            guard chain.canRecoverMissingParent(sentChaining: turn.sentChaining, wasIncremental: turn.flags.contains(.incremental),
                                                alreadyRecovered: turn.recoveredMissingParent) else { return false }
            turn.recoveredMissingParent = true
            apply(.cacheMissed)
            client.log(.info, "previous_response_not_found: sending the turn again with its full context")
            dispatch(turn)
            return true
        case "websocket_stream_limit_reached":
            // The connection has no lane name left for this session (§5.1): it moves to another
            // connection (its cache is there: a store:false chain resends its context), within
            // the turn's reconnect budget.
            guard let lease = attachment, let c = turn.connection, lease.connection === c,
                  turn.reconnects < client.config.maxReconnects else { return false }
            turn.reconnects += 1
            turn.connection = nil
            attachment = nil
            lease.shared.nameRefused(for: self)
            apply(.connectionGone(c.id))
            client.log(.info, "websocket_stream_limit_reached: the session moves to another connection")
            dispatch(turn)
            return true
        case "websocket_connection_limit_reached":
            // The connection is at its end of life (§5.7): continue on a new one, silently.
            guard let c = turn.connection else { return false }
            turn.connection = nil
            retire(c, turn: turn)
            dispatch(turn)
            return true
        default:
            return false
        }
    }

    /// Whether a response event carries an id other than the one this turn learnt from its
    /// `response.created` (an `error` event has no response id and is never foreign).
    private func isForeign(_ header: EventHeader, frame: UnsafeRawBufferPointer, of turn: Turn) -> Bool {
        guard header.type != .error, !turn.responseID.isEmpty, header.responseID.count > 0 else { return false }
        let id = UnsafeRawBufferPointer(rebasing: frame[header.responseID.start..<header.responseID.end])
        return !id.elementsEqual(turn.responseID)
    }

    /// Journal and id bookkeeping for one delivered event.
    private func note(_ header: EventHeader, frame: UnsafeRawBufferPointer, of turn: Turn) {
        switch header.type {
        case .responseCreated, .responseQueued, .responseInProgress:
            if turn.responseID.isEmpty, header.responseID.count > 0 {
                turn.responseID = Array(frame[header.responseID.start..<header.responseID.end])
            }
            if turn.phase < .created { turn.phase = .created }
            if header.type == .responseInProgress { releaseParentBarrier() }
            if turn.hasSteers { sendHeldSteers(turn) }
        case .error:
            break
        case .steerAccepted, .steerPending, .steerFailed:
            noteSteer(header, frame: frame, of: turn)
        default:
            if turn.phase < .outputStarted { turn.phase = .outputStarted }
        }
    }

    private func finish(_ turn: Turn, terminal header: EventHeader, frame: UnsafeRawBufferPointer) {
        var result = TurnResult(status: .ok)
        if header.type == .error {
            let code = header.errorCode.count > 0
                ? String(decoding: UnsafeRawBufferPointer(rebasing: frame[header.errorCode.start..<header.errorCode.end]), as: UTF8.self) : nil
            var text = ""
            DeliveredEvent.with(frame: frame, header: header, responseID: UnsafeRawBufferPointer(start: nil, count: 0), scratch: &scratch) {
                text = String(decoding: $0.errorMessage, as: UTF8.self)
            }
            result.status = Status.forServerError(code: code, status: header.errorStatus)
            result.errorCode = code
            result.errorStatus = header.errorStatus
            result.message = "the server rejected the request: \(code ?? "error")\(header.errorStatus != 0 ? " (status \(header.errorStatus))" : ""): \(text)"
            if result.status == .connectionLimit, let c = turn.connection, connection === c {
                // §5.7: the connection is unusable after this error; it closes once every
                // lane has left it (a lost connection: the next one counts as a reconnect).
                turn.connection = nil
                detach(lost: true)
                apply(.connectionGone(c.id))
            }
        } else {
            let summary: ResponseSummary
            do {
                summary = try ResponseSummary.decode(frame, response: header.response)
            } catch {
                abortTransport(of: turn)
                complete(turn, RWSError(.protocolViolation, "the terminal event's response object is malformed: \(error)"))
                return
            }
            result.response = summary
            result.responseJSON = Array(frame[header.response.start..<header.response.end])
            if header.type == .responseFailed || summary.status == "failed" {
                result.status = .responseFailed
                result.errorCode = summary.errorCode
                result.message = "the response failed: \(summary.errorCode ?? "error"): \(summary.errorMessage ?? "no message")"
            } else if !summary.id.isEmpty {
                advanceChain(turn, response: summary)
            }
        }
        if !holdsForSteers(turn, result) { complete(turn, result) }
    }

    /// A completed (or incomplete) response becomes the head of the chain; its new input and its
    /// output items join the transcript.
    private func advanceChain(_ turn: Turn, response: ResponseSummary) {
        apply(.completed(Chain.Completion(
            request: turn.request, sentItems: turn.sentItems, sentChaining: turn.sentChaining, responseID: response.id,
            outputItems: response.outputItems, connection: turn.transport == .webSocket ? turn.connection?.id : nil)))
        standbyAfterTurn()
    }

    // MARK: ending turns

    func complete(_ turn: Turn, _ error: RWSError) {
        var result = TurnResult(status: error.status, message: error.message)
        result.errorStatus = error.httpStatus
        result.requestID = error.requestID
        complete(turn, result: &result)
    }

    func complete(_ turn: Turn, _ result: TurnResult) {
        var result = result
        complete(turn, result: &result)
    }

    private func complete(_ turn: Turn, result: inout TurnResult) {
        guard !turn.isFinished else { return }
        // The result names the turn's own response even when it ended without a terminal
        // event (an error, a timeout, a lost connection after response.created).
        if result.response.id.isEmpty, !turn.responseID.isEmpty {
            result.response.id = String(decoding: turn.responseID, as: UTF8.self)
        }
        // Messages may hold text the server sent (error events, response.failed, close
        // reasons): a server that echoes the caller's credentials must not get them into logs.
        result.requestID = result.requestID ?? turn.requestID
        if result.status != .ok { result.message = RequestID.appending(result.requestID, to: result.message) }
        result.message = client.redactor.redact(result.message)
        if result.status != .ok {
            client.log(.warning, "turn failed: \(result.status): \(result.message)",
                       ["status": "\(result.status)", "request_id": result.requestID ?? ""])
        }
        if let code = result.errorCode { result.errorCode = client.redactor.redact(code) }
        let now = NIODeadline.now()
        result.transport = turn.transport
        result.bytesSent = turn.bytesSent
        result.bytesReceived = turn.bytesReceived
        result.elapsedMicros = turn.microsSinceStart(now)
        result.firstEventMicros = turn.firstEventAt.map(turn.microsSinceStart) ?? 0
        result.flags = turn.flags
        if !turn.handshakeOnly {
            if result.status == .ok { count.add(.turnsOK) }
            if result.status == .outcomeUnknown { count.add(.unknownOutcomes) }
        }
        unpause(turn)
        turn.http = nil
        releaseParentBarrier()
        turn.complete(result)
        if current === turn {
            current = nil
            startNext()
        }
    }

    func cancelOnLoop(_ turn: Turn, _ error: RWSError) {
        if let i = queue.firstIndex(where: { $0 === turn }) {
            queue.remove(at: i)
            complete(turn, error)
            return
        }
        guard current === turn, !turn.isFinished else { return }
        if turn.phase >= .sending { abandon(turn) }
        complete(turn, error)
    }

    /// Stops the events of `turn`'s response (§5.9: the protocol has no cancel message). Alone
    /// on its connection, the session closes it; on a connection other lanes use, its lane
    /// drops events until that response ends instead. The request is never replayed.
    func abandon(_ turn: Turn) {
        guard let c = turn.connection, let lease = attachment, lease.connection === c,
              lease.shared.isShared(besides: self) else {
            abortTransport(of: turn)
            return
        }
        turn.connection = nil
        lease.shared.poison(self)
        // The lane's cached response will be the cancelled one, not the chain's head.
        apply(.cacheMissed)
    }

    func abortTransport(of turn: Turn) {
        if let c = turn.connection { abortConnection(c) }
        if let http = turn.http {
            turn.http = nil
            http.cancel()
        }
    }

    /// Closes `c` at once, for every lane on it (a write failed, or the session is alone on
    /// it). The turn on it is detached first: the close the connection reports
    /// (synchronously) must not end that turn with another status than the caller's.
    func abortConnection(_ c: WebSocketConnection) {
        if let turn = current, turn.connection === c { turn.connection = nil }
        if connection === c { detach(lost: true) }
        apply(.connectionGone(c.id))
        c.abort()
    }

    // MARK: the bounded pull queue

    /// The turn's undelivered events went over max_queued_bytes: stop reading its connection
    /// until the caller has pulled half of them (TCP backpressure; nothing is dropped).
    private func pauseReading(for turn: Turn) {
        count.add(.readPauses)
        if let c = turn.connection {
            c.setReadingPaused(true)
            turn.pausedConnection = c
        }
        turn.http?.setReadingPaused(true)
    }

    /// What a pull-mode turn calls (from the reader's thread) once a paused queue has drained.
    /// Set before the turn is queued, so it is in place before the loop can pause; weak, so a
    /// freed session or turn is not kept alive by it.
    static func drainHandler(session: Session, turn: Turn) -> @Sendable () -> Void {
        let loop = session.client.loop
        return { [weak session, weak turn] in
            guard let session, let turn else { return }
            loop.execute { session.resumeReading(for: turn) }
        }
    }

    private func resumeReading(for turn: Turn) {
        guard current === turn, !turn.isFinished else { return }
        // The pause was ours: the idle clock starts again now.
        turn.lastEventAt = .now()
        unpause(turn)
    }

    /// Reads again wherever `turn` paused them; also when it ends paused (its terminal event
    /// came in the read that went over the limit, or it was cancelled), so that the connection
    /// it leaves to the next turn reads.
    private func unpause(_ turn: Turn) {
        turn.pausedConnection?.setReadingPaused(false)
        turn.pausedConnection = nil
        turn.http?.setReadingPaused(false)
    }

    // MARK: timeouts

    /// One timer per turn, re-armed from the last event's time instead of per event, so that
    /// streaming costs no timer allocation per event.
    func armWatchdog(_ turn: Turn) {
        guard let deadline = client.config.deadlines.next(times(of: turn)) else { return }
        turn.watchdog = client.loop.scheduleTask(deadline: deadline) { [self] in watchdogFired(turn) }
    }

    private func times(of turn: Turn) -> TurnDeadlines.Times {
        TurnDeadlines.Times(startedAt: turn.startedAt, lastEventAt: turn.lastEventAt, firstEventAt: turn.firstEventAt,
                            readingPaused: turn.isReadingPaused)
    }

    private func watchdogFired(_ turn: Turn) {
        guard current === turn, !turn.isFinished else { return }
        let now = NIODeadline.now()
        var reason: String?
        switch client.config.deadlines.verdict(times(of: turn), now: now) {
        case .expired(let why): reason = why
        case .restartIdle: turn.lastEventAt = now
        case .rearm: break
        }
        guard let reason else {
            armWatchdog(turn)
            return
        }
        if let held = turn.heldResult {
            // Its response ended; only a steer's answer is missing: the steer is lost, not the turn.
            complete(turn, held)
            return
        }
        abortTransport(of: turn)
        complete(turn, RWSError(.timeout, "\(reason); the connection was closed and the request was not replayed"))
    }
}

// MARK: connection callbacks, from the SharedConnection (event loop)

extension Session {
    /// Whether the session's turn runs on `c` (connection-level errors go to such sessions).
    func hasTurnInFlight(on c: WebSocketConnection) -> Bool {
        guard let turn = current else { return false }
        return turn.connection === c && !turn.isFinished
    }

    /// The connection was found unusable while this session had no turn on it (most likely
    /// the connection-limit error pushed on an idle socket, §5.7): the next turn rotates.
    func connectionExpired(_ c: WebSocketConnection) {
        guard connection === c else { return }
        detach(lost: false)
        apply(.connectionGone(c.id))
        count.add(.rotations)
    }

    func connection(_ c: WebSocketConnection, closedWith error: TransportError?) {
        if connection === c { detach(lost: true) }
        apply(.connectionGone(c.id))
        guard let turn = current, turn.connection === c, !turn.isFinished else { return }
        if let held = turn.heldResult {
            complete(turn, held)   // the response had ended; its steers' outcomes are lost
            return
        }
        if turn.phase == .notSent {
            // Closed before the request was written (Session.send): retry or fail as a connect.
            connectFailed(turn, error ?? TransportError(.closed, "the connection closed before the request was written"))
            return
        }
        complete(turn, RWSError(transport: error, phase: turn.phase))
    }
}

extension Session: HTTPStreamDelegate {
    public func httpStream(_ stream: HTTPSSEConnection, didReceiveEvent data: ByteBuffer) {
        guard let turn = current, turn.http === stream, !turn.isFinished else { return }
        if turn.phase == .sending { turn.phase = .sent }
        if turn.requestID == nil { turn.requestID = stream.requestID }
        handle(data, for: turn, receivedAt: .now())
    }

    public func httpStream(_ stream: HTTPSSEConnection, didFinishWith error: TransportError?) {
        guard let turn = current, turn.http === stream, !turn.isFinished else { return }
        if let id = stream.requestID { turn.requestID = id }
        if let error {
            if retryRefusedPost(turn, error) { return }
            // Before any answer the request may still be unsent (connect, TLS, non-2xx status).
            let phase: TurnPhase = turn.firstEventAt == nil && error.kind != .closed ? .notSent : turn.phase
            complete(turn, RWSError(transport: error, phase: phase))
        } else {
            // The answer ended cleanly (Content-Length reached, last chunk, or a close-delimited
            // body's end) without this turn's terminal event: the request was sent and the
            // server may have run it. However the stream was framed, that is a lost outcome,
            // not a protocol error, and it is never resent.
            complete(turn, RWSError(.outcomeUnknown, "the HTTP event stream ended after the request was sent and before a terminal event (response.completed, .failed, .incomplete or error); the server may have run it, so it was not replayed"))
        }
    }
}
