import NIOCore

/// One WebSocket shared by sessions of a client, one lane each (§5.1). It is the connection's
/// only reader: it decodes each event's header once, routes the event by `stream_id` through
/// its `LaneTable`, and hands it to the session with the header, so a session never decodes
/// an event twice. Connection-level errors (no `stream_id`, nobody on the default lane, or the
/// connection limit) go to every lane with a turn in flight. Event loop only.
final class SharedConnection: WebSocketConnectionDelegate, @unchecked Sendable {   // state is loop-confined
    unowned let client: ResponsesClient
    private(set) var lanes: LaneTable<Session>
    /// nil while connecting.
    private(set) var connection: WebSocketConnection?
    private var waiting: [EventLoopPromise<WebSocketConnection>] = []
    private(set) var isClosed = false
    /// The server said the connection reached its limit (§5.7): it takes no new lane, and
    /// closes once its last session has left.
    private(set) var expired = false

    init(client: ResponsesClient, maxSessions: Int, generatesNames: Bool) {
        self.client = client
        lanes = LaneTable(maxOwners: maxSessions, generatesNames: generatesNames)
    }

    // MARK: the client's side

    /// Whether a session asking for `lane` (nil: any) can join now.
    func accepts(lane requested: String?) -> Bool {
        guard !isClosed, !expired else { return false }
        if let c = connection, !c.isOpen || client.isNearEndOfLife(c) { return false }
        return lanes.canAdmit(requested: requested)
    }

    func admit(_ session: Session, lane requested: String?) -> String?? {
        defer { client.publishGauges() }
        return lanes.admit(session, requested: requested)
    }

    /// The open connection, now or once the handshake completes.
    func opened() -> EventLoopFuture<WebSocketConnection> {
        if let connection { return client.loop.makeSucceededFuture(connection) }
        let promise = client.loop.makePromise(of: WebSocketConnection.self)
        waiting.append(promise)
        return promise.futureResult
    }

    func connected(_ c: WebSocketConnection) {
        connection = c
        c.delegate = self
        let promises = waiting
        waiting = []
        for promise in promises { promise.succeed(c) }
    }

    func connectFailed(_ error: Error) {
        isClosed = true
        let promises = waiting
        waiting = []
        for promise in promises { promise.fail(error) }
    }

    // MARK: the sessions' side

    /// `session` no longer uses the connection. The client keeps an unused connection warm
    /// for later sessions or closes it.
    func leave(_ session: Session) {
        lanes.remove(session)
        client.publishGauges()
        if lanes.ownerCount == 0 { client.connectionUnused(self) }
    }

    /// The server refused `session`'s new lane name (websocket_stream_limit_reached): the
    /// session leaves, and the connection takes no new name any more.
    func nameRefused(for session: Session) {
        lanes.nameRefused(for: session)
        client.publishGauges()
        if lanes.ownerCount == 0 { client.connectionUnused(self) }
    }

    /// Whether anyone else uses the connection (a cancel then must not close it, §5.9).
    func isShared(besides session: Session) -> Bool {
        lanes.owners.contains { $0 !== session }
    }

    /// `session`'s response was cancelled and may still be running: its lane drops events up
    /// to that response's end, and the connection stays open for the other lanes (§5.9).
    func poison(_ session: Session) {
        lanes.poison(session)
    }

    /// Closes the connection (the close handshake); its future, if it was open.
    @discardableResult
    func close() -> EventLoopFuture<Void>? {
        guard !isClosed else { return nil }
        isClosed = true
        return connection?.close()
    }

    // MARK: WebSocketConnectionDelegate

    func webSocket(_ c: WebSocketConnection, didReceiveText message: ByteBuffer) {
        message.withUnsafeReadableBytes { frame in
            let header: EventHeader
            do {
                header = try EventHeader.decode(frame)
            } catch {
                let why = "the server sent an event that is not a JSON object with a \"type\" (\(error)); the connection was closed"
                for session in inFlight(on: c) { session.protocolViolation(on: c, why) }
                c.abort()
                return
            }
            let streamID = UnsafeRawBufferPointer(rebasing: frame[header.streamID.start..<header.streamID.end])
            switch lanes.route(streamID: streamID, terminal: header.type.isTerminal) {
            case .owner(let session):
                if header.type == .error, streamID.isEmpty, Self.isConnectionWide(header, frame) {
                    connectionError(message, header, frame, on: c)
                } else {
                    session.laneReceived(message, header: header, on: c)
                }
            case .connection where header.type == .error:
                connectionError(message, header, frame, on: c)
            case .connection, .discard:
                break
            }
        }
    }

    func webSocket(_ c: WebSocketConnection, didCloseWith error: TransportError?) {
        isClosed = true
        client.connectionClosed(self)
        for session in lanes.owners { session.connection(c, closedWith: error) }
    }

    // MARK: routing

    /// The error concerns the connection, not one lane: every lane with a turn in flight gets
    /// it. After the connection-limit error, or any such error on an idle connection (the limit
    /// error pushed unsolicited, §5.7), the connection is unusable: its idle sessions leave it,
    /// and it closes once the busy ones have too.
    private func connectionError(_ message: ByteBuffer, _ header: EventHeader, _ frame: UnsafeRawBufferPointer, on c: WebSocketConnection) {
        let sessions = inFlight(on: c)
        if sessions.isEmpty || Self.isConnectionWide(header, frame) {
            expired = true
            for session in lanes.owners where !sessions.contains(where: { $0 === session }) { session.connectionExpired(c) }
        }
        for session in sessions { session.laneReceived(message, header: header, on: c) }
        if expired && lanes.ownerCount == 0 { close() }
    }

    private func inFlight(on c: WebSocketConnection) -> [Session] {
        lanes.owners.filter { $0.hasTurnInFlight(on: c) }
    }

    /// §4.5: the connection-limit error names no lane and ends the connection for all of them.
    private static func isConnectionWide(_ header: EventHeader, _ frame: UnsafeRawBufferPointer) -> Bool {
        let code = UnsafeRawBufferPointer(rebasing: frame[header.errorCode.start..<header.errorCode.end])
        return code.elementsEqual("websocket_connection_limit_reached".utf8)
    }
}
