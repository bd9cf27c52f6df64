import NIOCore
import ResponsesJSON

/// The warm standby: before a connection that carries a store:false chain reaches its age
/// limit, a second connection is opened in the background and the chain is prepared there with
/// `generate: false` (§5.4), so that the first turn after rotation sends only its new items
/// instead of the whole history on a cold connection.
final class Standby: WebSocketConnectionDelegate {
    enum State {
        case connecting
        /// A warm-up is in flight on the connection; `covering` transcript items when it lands.
        case preparing(WebSocketConnection, covering: Int)
        /// The connection's cache holds `head`, a warm-up covering `covers` transcript items.
        case ready(WebSocketConnection, head: String, covers: Int)
    }

    var state = State.connecting
    unowned let session: Session

    init(session: Session) { self.session = session }

    var connection: WebSocketConnection? {
        switch state {
        case .connecting: return nil
        case .preparing(let c, _), .ready(let c, _, _): return c
        }
    }

    func webSocket(_ connection: WebSocketConnection, didReceiveText message: ByteBuffer) {
        guard case .preparing(let c, let covering) = state, c === connection else { return }
        let outcome: (type: EventType, id: String)? = message.withUnsafeReadableBytes { frame in
            guard let header = try? EventHeader.decode(frame), header.type.isTerminal else { return nil }
            let id = String(decoding: UnsafeRawBufferPointer(rebasing: frame[header.responseID.start..<header.responseID.end]), as: UTF8.self)
            return (header.type, id)
        }
        guard let outcome else { return }
        if (outcome.type == .responseCompleted || outcome.type == .responseDone) && !outcome.id.isEmpty {
            state = .ready(c, head: outcome.id, covers: covering)
            session.standbyAfterTurn()   // catch up if turns completed meanwhile
            session.onStandbyReady?()
        } else {
            session.dropStandby()
        }
    }

    func webSocket(_ connection: WebSocketConnection, didCloseWith error: TransportError?) {
        if self.connection === connection { session.dropStandby() }
    }
}

extension Session {
    /// After each completed turn: start or refresh the standby once the chain's connection is
    /// within two rotation margins of its age limit, or schedule that moment.
    func standbyAfterTurn() {
        let config = client.config
        guard config.warmStandby, let maxAge = config.maxConnectionAge, let c = connection, chain.wantsStandby(on: c.id),
              !closed else { return }
        let windowOpens = c.openedAt + maxAge - config.rotationMargin - config.rotationMargin
        let now = config.now()
        guard now >= windowOpens else {
            // A real-time timer for the remaining wait (`now` may be a test clock, which the
            // next turn boundary reads again).
            standbyTimer?.cancel()
            standbyTimer = client.loop.scheduleTask(in: windowOpens - now) { [self] in
                standbyTimer = nil
                standbyAfterTurn()
            }
            return
        }
        switch standby?.state {
        case nil:
            openStandby()
        case .ready(let next, let head, let covers)? where covers < chain.transcript.items.count:
            // Turns completed since the warm-up: bring the standby's chain up to date.
            prepare(next, previous: head, items: Array(chain.transcript.items[covers...]))
        default:
            break
        }
    }

    private func openStandby() {
        let standby = Standby(session: self)
        self.standby = standby
        client.connect().whenComplete { [self] result in
            guard self.standby === standby, case .success(let c) = result, !closed else {
                if case .success(let c) = result { _ = c.close() }
                if self.standby === standby { self.standby = nil }
                return
            }
            count.session.add(.connects)
            c.delegate = standby
            prepare(c, previous: nil, items: chain.transcript.items)
        }
    }

    /// Sends a warm-up on the standby: the last request's fields, `items`, generate:false.
    private func prepare(_ c: WebSocketConnection, previous: String?, items: [[UInt8]]) {
        guard let standby, let last = chain.lastRequest else { return }
        standby.state = .preparing(c, covering: chain.transcript.items.count)
        let body = last.asWarmup.webSocketBody(items: items, previousResponseID: previous, streamID: streamID,
                                               allocator: ByteBufferAllocator())
        count.add(.bytesSent, UInt64(body.readableBytes))
        c.sendText(body).whenFailure { [self] _ in dropStandby() }
    }

    /// The standby's connection and chain head, when it is ready and covers the whole transcript.
    func takeReadyStandby() -> (WebSocketConnection, String)? {
        guard case .ready(let c, let head, let covers)? = standby?.state, covers == chain.transcript.items.count,
              c.isOpen, !client.isNearEndOfLife(c) else {
            dropStandby()
            return nil
        }
        standby = nil
        standbyTimer?.cancel()
        standbyTimer = nil
        return (c, head)
    }

    func dropStandby() {
        standbyTimer?.cancel()
        standbyTimer = nil
        guard let standby else { return }
        self.standby = nil
        if let c = standby.connection { _ = c.close() }
    }
}
