import NIOCore
import ResponsesJSON
import Synchronization

/// One conversation chain on one lane (rws_session). It owns a WebSocket connection while it
/// lives (the server's cache for the chain is scoped to that connection, §5.2), runs its turns
/// one after another, continues each from the last response with only the new items, and keeps
/// a transcript mirror of inputs and outputs so the full context can always be rebuilt.
///
/// Thread-safe: `start`, `cancel`, `close` hop to the client's event loop; everything below
/// "event loop" runs there.
public final class Session: @unchecked Sendable {   // mutable state is loop-confined
    public let client: ResponsesClient
    public let streamID: String?
    let defaults: JSONObject
    public let counters = Counters()
    let count: CounterPair
    private let chainHead = Mutex<String?>(nil)

    // MARK: confined to the event loop
    private var connection: WebSocketConnection?
    private var lostConnection = false
    private var queue: [Turn] = []
    private var current: Turn?
    private var lastResponseID: String?
    /// Every input and output item of the chain so far, as raw JSON (the transcript mirror).
    private(set) var transcript: [[UInt8]] = []
    /// False when the chain continues from a response this session did not see (an explicit
    /// previous_response_id): the transcript then cannot rebuild the context.
    private var transcriptComplete = true
    private var scratch: [UInt8] = []
    private var closed = false

    init(client: ResponsesClient, defaults: JSONObject, streamID: String?) {
        self.client = client
        self.defaults = defaults
        self.streamID = streamID
        count = CounterPair(session: counters, client: client.counters)
    }

    /// §3.1: `^[A-Za-z0-9_.-]+$`, 1–256 characters.
    static func validate(streamID: String) throws(RWSError) {
        let bytes = streamID.utf8
        let valid = (1...256).contains(bytes.count) && bytes.allSatisfy { c in
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
        if !valid {
            throw RWSError(.invalidStreamID, "stream_id \"\(streamID)\" is invalid: use 1-256 letters, digits, '_', '.' or '-'")
        }
    }

    // MARK: public API (any thread)

    /// The id of the last completed response of the chain.
    public var lastResponse: String? { chainHead.withLock { $0 } }

    /// Prepares a request on the caller's thread (errors surface here, before anything is sent).
    public func prepare(_ json: UnsafeRawBufferPointer) throws(RWSError) -> TurnRequest {
        try TurnRequest.prepare(json, defaults: defaults, streamID: streamID, maxRequestBytes: client.config.maxRequestBytes)
    }

    /// Queues a turn; it is sent when the session's earlier turns have ended.
    public func start(_ request: TurnRequest, handler: Turn.EventHandler?) throws(RWSError) -> Turn {
        let turn = Turn(request: request, handler: handler)
        let accepted = client.executeOnLoop { [self] in
            guard !closed else {
                complete(turn, RWSError(.invalidState, "the session was freed before the turn could start"))
                return
            }
            count.add(.turns)
            queue.append(turn)
            startNext()
        }
        guard accepted else { throw RWSError(.invalidState, "the client was freed") }
        return turn
    }

    /// Cancels `turn`. When it returns, no further event of the turn is delivered: from another
    /// thread it waits for the I/O thread to take note (microseconds unless a callback is busy).
    @discardableResult
    public func cancel(_ turn: Turn, status: Status = .cancelled, message: String = "the turn was cancelled") -> Status {
        let outcome = try? client.runOnLoop { [self] () -> Status in
            turn.detached = true
            guard !turn.isFinished else { return .done }
            cancelOnLoop(turn, RWSError(status, message))
            return .ok
        }
        return outcome ?? .done
    }

    /// Forgets the chain: the next turn starts a new conversation.
    public func reset() throws(RWSError) {
        try client.runOnLoop { [self] in
            lastResponseID = nil
            transcript.removeAll()
            transcriptComplete = true
            chainHead.withLock { $0 = nil }
        }
    }

    /// Cancels queued and running turns and returns the connection to the client's pool.
    public func close() throws(RWSError) {
        guard !client.loop.inEventLoop else {
            throw RWSError(.invalidState, "rws_session_free must not be called from a callback")
        }
        try? client.runOnLoop { [self] in
            closeOnLoop(reason: "the session was freed")
            client.sessionClosed(self)
        }
    }

    // MARK: event loop

    func closeOnLoop(reason: String) {
        guard !closed else { return }
        closed = true
        for turn in queue { complete(turn, RWSError(.cancelled, reason)) }
        queue.removeAll()
        if let turn = current { cancelOnLoop(turn, RWSError(.cancelled, reason)) }
        if let c = connection {
            connection = nil
            client.release(c)
        }
    }

    private func startNext() {
        guard current == nil, !closed, !queue.isEmpty else { return }
        let turn = queue.removeFirst()
        current = turn
        turn.transport = client.transport
        if turn.transport == .http {
            sendHTTP(turn)
            return
        }
        if let c = connection, c.isOpen {
            send(turn, on: c)
            return
        }
        connection = nil
        client.acquire().whenComplete { [self] (result: Result<(connection: WebSocketConnection, fresh: Bool), Error>) in
            switch result {
            case .success(let acquired):
                let c = acquired.connection, fresh = acquired.fresh
                guard current === turn, !turn.isFinished, !closed else {
                    client.release(c)
                    return
                }
                if fresh {
                    count.session.add(.connects)
                    if lostConnection { count.add(.reconnects) }
                }
                lostConnection = false
                connection = c
                c.delegate = self
                send(turn, on: c)
            case .failure(let error):
                guard current === turn, !turn.isFinished else { return }
                complete(turn, RWSError(transport: error as? TransportError, phase: .notSent, fallback: "\(error)"))
            }
        }
    }

    private func previousResponseID(for request: TurnRequest) -> String? {
        switch request.chaining {
        case .session: return lastResponseID
        case .none: return nil
        case .explicit(let id): return id
        }
    }

    private func send(_ turn: Turn, on c: WebSocketConnection) {
        guard c.isOpen else {
            connection = nil
            lostConnection = true
            complete(turn, RWSError(.closed, "the connection closed before the request was written; nothing was sent, so it is safe to send again"))
            return
        }
        let previous = previousResponseID(for: turn.request)
        let body = turn.request.webSocketBody(previousResponseID: previous, streamID: streamID, allocator: ByteBufferAllocator())
        guard body.readableBytes <= client.config.maxRequestBytes else {
            complete(turn, RWSError(.requestTooBig, "the request is \(body.readableBytes) bytes, over the \(client.config.maxRequestBytes)-byte limit (max_request_bytes); nothing was sent"))
            return
        }
        turn.incremental = previous != nil && turn.request.chaining == .session
        if turn.incremental { count.add(.incrementalSends) }
        turn.connection = c
        turn.phase = .sending
        turn.bytesSent = UInt64(body.readableBytes)
        count.add(.bytesSent, turn.bytesSent)
        armWatchdog(turn)
        c.sendText(body).whenComplete { [self] result in
            guard turn.phase == .sending else { return }
            switch result {
            case .success:
                turn.phase = .sent
            case .failure(let error):
                // The write may have left partly; the connection is gone or going.
                guard current === turn, !turn.isFinished else { return }
                abortConnection(c)
                complete(turn, RWSError(.outcomeUnknown, "the connection failed while the request was being written (\(error)); the server may have received it, so it was not replayed"))
            }
        }
    }

    private func sendHTTP(_ turn: Turn) {
        let context: [[UInt8]]
        switch turn.request.chaining {
        case .session: context = transcript
        case .none: context = []
        case .explicit:
            complete(turn, RWSError(.unsupported, "an explicit previous_response_id cannot be continued over HTTP/SSE by this session; pass the full history instead"))
            return
        }
        let body = turn.request.httpBody(context: context, allocator: ByteBufferAllocator())
        guard body.readableBytes <= client.config.maxRequestBytes else {
            complete(turn, RWSError(.requestTooBig, "the request with its history is \(body.readableBytes) bytes, over the \(client.config.maxRequestBytes)-byte limit (max_request_bytes); nothing was sent"))
            return
        }
        turn.phase = .sending
        turn.bytesSent = UInt64(body.readableBytes)
        count.add(.bytesSent, turn.bytesSent)
        armWatchdog(turn)
        turn.http = HTTPSSEConnection.post(to: client.config.httpEndpoint, body: body, config: client.config.connection,
                                           on: client.loop, delegate: self)
    }

    // MARK: events (event loop)

    private func handle(_ message: ByteBuffer, for turn: Turn) {
        let now = NIODeadline.now()
        let size = UInt64(message.readableBytes)
        turn.bytesReceived &+= size
        count.add(.bytesReceived, size)
        count.add(.events)
        if turn.firstEventAt == nil { turn.firstEventAt = now }
        turn.lastEventAt = now
        message.withUnsafeReadableBytes { frame in
            let header: EventHeader
            do {
                header = try EventHeader.decode(frame)
            } catch {
                abortCurrentTransport(of: turn)
                complete(turn, RWSError(.protocolViolation, "the server sent an event that is not a JSON object with a \"type\" (\(error)); the connection was closed"))
                return
            }
            note(header, frame: frame, of: turn)
            var keepGoing = true
            if let handler = turn.handler {
                if !turn.detached {
                    keepGoing = turn.responseID.withUnsafeBytes { rid in
                        DeliveredEvent.with(frame: frame, header: header, responseID: rid, scratch: &scratch, handler)
                    }
                }
            } else {
                turn.enqueue(PendingEvent(frame: message, header: header, responseID: turn.responseID))
            }
            // The callback may have cancelled or freed the turn.
            guard !turn.isFinished else { return }
            if header.type.isTerminal {
                finish(turn, terminal: header, frame: frame)
            } else if !keepGoing {
                cancelOnLoop(turn, RWSError(.aborted, "the event callback returned RWS_STOP"))
            }
        }
    }

    /// Journal and id bookkeeping for one event.
    private func note(_ header: EventHeader, frame: UnsafeRawBufferPointer, of turn: Turn) {
        switch header.type {
        case .responseCreated, .responseQueued, .responseInProgress:
            if turn.responseID.isEmpty, header.responseID.count > 0 {
                turn.responseID = Array(frame[header.responseID.start..<header.responseID.end])
            }
            if turn.phase < .created { turn.phase = .created }
        case .error:
            break
        default:
            if turn.phase < .outputStarted { turn.phase = .outputStarted }
        }
    }

    private func finish(_ turn: Turn, terminal header: EventHeader, frame: UnsafeRawBufferPointer) {
        var result = TurnResult(status: .ok)
        if header.type == .error {
            let code = header.errorCode.count > 0 ? string(frame, header.errorCode) : nil
            var text = ""
            DeliveredEvent.with(frame: frame, header: header, responseID: UnsafeRawBufferPointer(start: nil, count: 0), scratch: &scratch) {
                text = String(decoding: $0.errorMessage, as: UTF8.self)
            }
            result.status = Status.forServerError(code: code, status: header.errorStatus)
            result.errorCode = code
            result.errorStatus = header.errorStatus
            result.message = "the server rejected the request: \(code ?? "error")\(header.errorStatus != 0 ? " (status \(header.errorStatus))" : ""): \(text)"
            if result.status == .connectionLimit, let c = turn.connection {
                // §5.7: the connection is unusable after this error.
                abortConnection(c)
            }
        } else {
            let summary: ResponseSummary
            do {
                summary = try ResponseSummary.decode(frame, response: header.response)
            } catch {
                abortCurrentTransport(of: turn)
                complete(turn, RWSError(.protocolViolation, "the terminal event's response object is malformed: \(error)"))
                return
            }
            result.response = summary
            result.responseJSON = Array(frame[header.response.start..<header.response.end])
            if header.type == .responseFailed || summary.status == "failed" {
                result.status = .responseFailed
                result.errorCode = summary.errorCode
                result.message = "the response failed: \(summary.errorCode ?? "error"): \(summary.errorMessage ?? "no message")"
            }
            if !summary.id.isEmpty && result.status == .ok {
                advanceChain(with: turn.request, response: summary)
            }
        }
        complete(turn, result)
    }

    /// A completed (or incomplete) response becomes the head of the chain; its input and output
    /// items join the transcript.
    private func advanceChain(with request: TurnRequest, response: ResponseSummary) {
        switch request.chaining {
        case .session:
            break
        case .none:
            transcript.removeAll()
            transcriptComplete = true
        case .explicit(let id):
            if id != lastResponseID { transcript.removeAll(); transcriptComplete = false }
        }
        transcript.append(contentsOf: request.newItems)
        transcript.append(contentsOf: response.outputItems)
        lastResponseID = response.id
        chainHead.withLock { $0 = response.id }
    }

    private func string(_ frame: UnsafeRawBufferPointer, _ span: JSONSpan) -> String {
        String(decoding: UnsafeRawBufferPointer(rebasing: frame[span.start..<span.end]), as: UTF8.self)
    }

    // MARK: ending turns (event loop)

    func complete(_ turn: Turn, _ error: RWSError) {
        var result = TurnResult(status: error.status, message: error.message)
        if error.status == .outcomeUnknown { count.add(.unknownOutcomes) }
        complete(turn, result: &result)
    }

    private func complete(_ turn: Turn, _ result: TurnResult) {
        var result = result
        complete(turn, result: &result)
    }

    private func complete(_ turn: Turn, result: inout TurnResult) {
        guard !turn.isFinished else { return }
        let now = NIODeadline.now()
        result.transport = turn.transport
        result.bytesSent = turn.bytesSent
        result.bytesReceived = turn.bytesReceived
        result.elapsedMicros = turn.microsSinceStart(now)
        result.firstEventMicros = turn.firstEventAt.map(turn.microsSinceStart) ?? 0
        result.incremental = turn.incremental
        if result.status == .ok { count.add(.turnsOK) }
        turn.http = nil
        turn.complete(result)
        if current === turn {
            current = nil
            startNext()
        }
    }

    private func cancelOnLoop(_ turn: Turn, _ error: RWSError) {
        if let i = queue.firstIndex(where: { $0 === turn }) {
            queue.remove(at: i)
            complete(turn, error)
            return
        }
        guard current === turn, !turn.isFinished else { return }
        // §5.9: the protocol has no cancel message; closing the connection is the only way to
        // stop the response's events. The cancelled request is never replayed.
        abortCurrentTransport(of: turn)
        complete(turn, error)
    }

    private func abortCurrentTransport(of turn: Turn) {
        if let c = turn.connection { abortConnection(c) }
        turn.http?.cancel()
    }

    private func abortConnection(_ c: WebSocketConnection) {
        if connection === c {
            connection = nil
            lostConnection = true
        }
        c.abort()
    }

    // MARK: timeouts (event loop)

    /// One timer per turn, re-armed from the last event's time instead of per event, so that
    /// streaming costs no timer allocation per event.
    private func armWatchdog(_ turn: Turn) {
        guard let deadline = nextDeadline(for: turn) else { return }
        turn.watchdog = client.loop.scheduleTask(deadline: deadline) { [self] in watchdogFired(turn) }
    }

    private func nextDeadline(for turn: Turn) -> NIODeadline? {
        let config = client.config
        var deadlines: [NIODeadline] = []
        if let total = config.totalTimeout { deadlines.append(turn.startedAt + total) }
        if let idle = config.idleTimeout { deadlines.append(turn.lastEventAt + idle) }
        if turn.firstEventAt == nil, let first = config.firstEventTimeout { deadlines.append(turn.startedAt + first) }
        return deadlines.min()
    }

    private func watchdogFired(_ turn: Turn) {
        guard current === turn, !turn.isFinished else { return }
        let now = NIODeadline.now()
        let config = client.config
        var reason: String?
        if let total = config.totalTimeout, now >= turn.startedAt + total {
            reason = "the turn took longer than total_timeout_ms (\(total.nanoseconds / 1_000_000) ms)"
        } else if turn.firstEventAt == nil, let first = config.firstEventTimeout, now >= turn.startedAt + first {
            reason = "no event arrived within first_event_timeout_ms (\(first.nanoseconds / 1_000_000) ms)"
        } else if let idle = config.idleTimeout, now >= turn.lastEventAt + idle {
            reason = "no event for idle_timeout_ms (\(idle.nanoseconds / 1_000_000) ms)"
        }
        guard let reason else {
            armWatchdog(turn)
            return
        }
        abortCurrentTransport(of: turn)
        complete(turn, RWSError(.timeout, "\(reason); the connection was closed and the request was not replayed"))
    }
}

// MARK: transport callbacks (event loop)

extension Session: WebSocketConnectionDelegate {
    public func webSocket(_ c: WebSocketConnection, didReceiveText message: ByteBuffer) {
        guard let turn = current, turn.connection === c, !turn.isFinished else {
            // An event with no turn to receive it: most likely the connection-limit error pushed
            // on an idle socket (§5.7). The socket is unusable; the next turn opens a new one.
            if connection === c { abortConnection(c) }
            return
        }
        handle(message, for: turn)
    }

    public func webSocket(_ c: WebSocketConnection, didCloseWith error: TransportError?) {
        if connection === c {
            connection = nil
            lostConnection = true
        }
        guard let turn = current, turn.connection === c, !turn.isFinished else { return }
        complete(turn, RWSError(transport: error, phase: turn.phase))
    }
}

extension Session: HTTPStreamDelegate {
    public func httpStream(_ stream: HTTPSSEConnection, didReceiveEvent data: ByteBuffer) {
        guard let turn = current, turn.http === stream, !turn.isFinished else { return }
        if turn.phase == .sending { turn.phase = .sent }
        handle(data, for: turn)
    }

    public func httpStream(_ stream: HTTPSSEConnection, didFinishWith error: TransportError?) {
        guard let turn = current, turn.http === stream, !turn.isFinished else { return }
        if let error {
            complete(turn, RWSError(transport: error, phase: turn.firstEventAt == nil ? .sending : turn.phase))
        } else {
            complete(turn, RWSError(.protocolViolation, "the HTTP stream ended before a terminal event (response.completed, .failed, .incomplete or error)"))
        }
    }
}
