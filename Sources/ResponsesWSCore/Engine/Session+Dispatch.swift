import NIOCore

/// Getting a turn to the server: transport, connection, reconnects with backoff, HTTP/SSE
/// fallback, and rotation of aged connections. Event loop only.
extension Session {
    func startNext() {
        guard current == nil, !closed, !queue.isEmpty, forksStarting == 0 else { return }
        let turn = queue.removeFirst()
        current = turn
        turn.lastEventAt = .now()
        armWatchdog(turn)
        dispatch(turn)
    }

    /// Sends `turn` (again): over HTTP when WebSocket mode is off or unavailable, else on the
    /// session's connection, a pooled one or a new one.
    func dispatch(_ turn: Turn) {
        guard current === turn, !turn.isFinished, !closed else { return }
        turn.phase = .notSent
        turn.responseID = []
        turn.connection = nil
        turn.http = nil
        turn.requestID = nil
        if client.prefersHTTP {
            if client.config.transport != .http { turn.flags.insert(.fallback) }
            sendHTTP(turn)
            return
        }
        if let lease = attachment {
            if !lease.connection.isOpen {
                detach(lost: true)
            } else if client.isNearEndOfLife(lease.connection) || lease.shared.expired {
                retire(lease.connection, turn: turn)
            }
        }
        if let c = connection {
            if turn.handshakeOnly { complete(turn, TurnResult(status: .ok)); return }
            send(turn, on: c)
            return
        }
        connectAndSend(turn)
    }

    /// Leases a lane on a connection, then sends the session's current turn (which may have
    /// changed meanwhile: a cancelled turn's successor uses the same lease).
    private func connectAndSend(_ turn: Turn) {
        guard !leasing else { return }
        leasing = true
        client.lease(for: self, lane: streamID, preferring: preferredConnection).whenComplete { [self] result in
            leasing = false
            switch result {
            case .success(let lease):
                guard !closed else {
                    lease.shared.leave(self)
                    return
                }
                attachment = lease
                guard let turn = current, !turn.isFinished else { return }
                if lease.fresh {
                    count.session.add(.connects)
                    if lostConnection {
                        count.add(.reconnects)
                        turn.flags.insert(.reconnected)
                        client.log(.info, "reconnected after a lost or refused connection", ["attempt": String(turn.reconnects)])
                    }
                }
                lostConnection = false
                dispatch(turn)
            case .failure(let error):
                guard let turn = current, !turn.isFinished else { return }
                if let failure = error as? LeaseFailure {
                    connectFailed(turn, failure.error, fallBack: failure.fallBack)
                } else {
                    connectFailed(turn, error as? TransportError ?? TransportError(.connect, "cannot connect: \(error)"))
                }
            }
        }
    }

    /// A connection could not be made (or was gone before the request was written): fall back
    /// to HTTP/SSE, retry after a backoff within the budget, or fail the turn.
    /// `fallBack`: already decided for every session waiting on the same connect.
    func connectFailed(_ turn: Turn, _ error: TransportError, fallBack: Bool? = nil) {
        if fallBack ?? client.noteWebSocketFailure(error) {
            count.session.add(.fallbacks)
            turn.flags.insert(.fallback)
            sendHTTP(turn)
            return
        }
        let asked = retryAfter(turn, error)
        if case .ended = asked { return }
        guard isRetryable(error), turn.reconnects < client.config.maxReconnects else {
            complete(turn, RWSError(transport: error, phase: .notSent))
            return
        }
        lostConnection = true
        scheduleRetry(turn, notBefore: asked.wait)
    }

    /// Sends `turn` again after the backoff of its next attempt, or `wait` if that is longer.
    func scheduleRetry(_ turn: Turn, notBefore wait: TimeAmount) {
        turn.reconnects += 1
        let delay = max(client.config.backoff(attempt: turn.reconnects), wait)
        client.log(.info, "retrying in \(delay.millisecondsText) ms (attempt \(turn.reconnects) of \(client.config.maxReconnects))",
                   ["delay_ms": delay.millisecondsText, "attempt": String(turn.reconnects), "max_reconnects": String(client.config.maxReconnects)])
        turn.retry = client.loop.scheduleTask(in: delay) { [self] in
            turn.retry = nil
            dispatch(turn)
        }
    }

    /// Failures that another attempt may cure. Never: bad URLs, DNS, TLS verification,
    /// 401/403 (a clear auth error, not a retry storm), 404/405 without fallback, nor a close
    /// with a final code (§5.8).
    private func isRetryable(_ error: TransportError) -> Bool {
        switch error.kind {
        case .closed:
            return error.closeCode.map(Self.isRecoverableClose) ?? true
        case .connect, .timeout, .tls, .protocolViolation:
            return true
        case .proxy:
            // Unreachable, or the proxy could not reach the server (502/503/504); never a
            // refusal (403, 407): retrying those only repeats them.
            return error.httpStatus.map { $0 >= 500 } ?? true
        case .upgradeRefused:
            let status = error.httpStatus ?? 0
            if status == 404 || status == 405 { return client.config.fallback == .auto }
            return status == 429 || status >= 500
        default:
            return false
        }
    }

    /// §5.8, as the official SDKs' reconnect helpers read close codes: going away, no status,
    /// abnormal, internal error, service restart, try again later, TLS failure. Every other code
    /// (1000 normal, 1002 protocol, 1003, 1007, 1008 policy, 1009 too big, 1010, ...) is final.
    static func isRecoverableClose(_ code: UInt16) -> Bool {
        [1001, 1005, 1006, 1011, 1012, 1013, 1015].contains(code)
    }

    // MARK: WebSocket

    func send(_ turn: Turn, on c: WebSocketConnection) {
        guard c.isOpen else {
            detach(lost: false)
            connectFailed(turn, TransportError(.closed, "the connection closed before the request was written"))
            return
        }
        let plan = chain.plan(turn.request, on: c.id, afterMissingParent: turn.recoveredMissingParent)
        let body = turn.request.webSocketBody(items: plan.items, previousResponseID: plan.previousResponseID,
                                              streamID: lane, allocator: ByteBufferAllocator())
        guard body.readableBytes <= client.config.maxRequestBytes else {
            complete(turn, RWSError(.requestTooBig, "the request is \(body.readableBytes) bytes, over the \(client.config.maxRequestBytes)-byte limit (max_request_bytes); nothing was sent"))
            return
        }
        turn.sentItems = plan.newItems
        turn.sentChaining = plan.chaining
        if plan.previousResponseID != nil && plan.chaining == .session {
            turn.flags.insert(.incremental)
            count.add(.incrementalSends)
        } else {
            turn.flags.remove(.incremental)
        }
        if plan.fullResend {
            turn.flags.insert(.fullResend)
            count.add(.fullResends)
        }
        turn.connection = c
        turn.requestID = c.requestID
        turn.phase = .sending
        let size = UInt64(body.readableBytes)
        turn.bytesSent &+= size
        count.add(.bytesSent, size)
        c.sendText(body).whenComplete { [self] result in
            guard turn.phase == .sending, turn.connection === c else { return }
            switch result {
            case .success:
                turn.phase = .sent
            case .failure(let error):
                guard current === turn, !turn.isFinished else { return }
                if let error = error as? TransportError, error.nothingSent {
                    // The connection was gone before a byte left: safe to send again. Its end,
                    // still to be reported, decides how (webSocket(_:didCloseWith:)); what the
                    // server said before closing (an error event) still reaches this turn.
                    turn.phase = .notSent
                    return
                }
                // The write may have left in part: the server may have it. Never replayed.
                abortConnection(c)
                complete(turn, RWSError(.outcomeUnknown, "the connection failed while the request was being written (\(error)); the server may have received it, so it was not replayed"))
            }
        }
    }

    /// Leaves an aged (or expired) connection at this session's turn boundary (§5.7); it closes
    /// once its last lane has left. The warm standby takes over when one is ready; otherwise
    /// the turn goes to another connection with the full context.
    func retire(_ c: WebSocketConnection, turn: Turn) {
        if connection === c { detach(lost: false) }
        apply(.connectionGone(c.id))
        count.add(.rotations)
        turn.flags.insert(.rotated)
        let age = String((client.config.now() - c.openedAt).nanoseconds / 1_000_000_000)
        let standby = takeReadyStandby()
        client.log(.info, "rotating a connection \(age) s old at the turn boundary: "
                       + (standby != nil ? "the warm standby takes over" : "the next turn opens a new connection"),
                   ["age_s": age, "standby": standby != nil ? "ready" : "none"])
        if let (next, head) = standby {
            attachment = client.adopt(next, for: self, lane: streamID)
            apply(.tookOverStandby(connection: next.id, head: head))
        }
    }

    // MARK: HTTP/SSE

    func sendHTTP(_ turn: Turn) {
        turn.transport = .http
        if turn.handshakeOnly || turn.request.generate == false {
            // Nothing to warm over HTTP: no connection persists, and generate is WebSocket-only.
            complete(turn, TurnResult(status: .ok))
            return
        }
        var plan = chain.plan(turn.request, on: nil, afterMissingParent: turn.recoveredMissingParent)
        switch plan.chaining {
        case .explicit:
            complete(turn, RWSError(.unsupported, "an explicit previous_response_id cannot be continued over HTTP/SSE by this session; pass the full history instead"))
            return
        case .session:
            plan.items = chain.transcript.items + plan.newItems   // HTTP clients resend the history
        case .none:
            break
        }
        let body = turn.request.httpBody(items: plan.items, allocator: ByteBufferAllocator())
        guard body.readableBytes <= client.config.maxRequestBytes else {
            complete(turn, RWSError(.requestTooBig, "the request with its history is \(body.readableBytes) bytes, over the \(client.config.maxRequestBytes)-byte limit (max_request_bytes); nothing was sent"))
            return
        }
        turn.sentItems = plan.newItems
        turn.sentChaining = plan.chaining
        turn.phase = .sending
        let size = UInt64(body.readableBytes)
        turn.bytesSent &+= size
        count.add(.bytesSent, size)
        client.logRoute(to: client.config.httpEndpoint)
        turn.http = HTTPSSEConnection.post(to: client.config.httpEndpoint, body: body, config: client.config.connection,
                                           on: client.loop, delegate: self)
    }
}
