import NIOCore
import ResponsesWSCore
import Testing

/// Records a WebSocket connection's delegate calls.
final class WebSocketRecorder: WebSocketConnectionDelegate, Sendable {
    struct State: Sendable {
        var messages: [ByteBuffer] = []
        var closeCount = 0
        var closeError: TransportError?
    }

    let state = Observed(State())

    func webSocket(_ connection: WebSocketConnection, didReceiveText message: ByteBuffer) {
        state.update { $0.messages.append(message) }
    }

    func webSocket(_ connection: WebSocketConnection, didCloseWith error: TransportError?) {
        state.update {
            $0.closeCount += 1
            $0.closeError = error
        }
    }

    var texts: [String] { state.value.messages.map { String(buffer: $0) } }

    @discardableResult
    func waitForMessages(_ count: Int) async throws -> [String] {
        try await state.wait("\(count) messages") { $0.messages.count >= count }
            .messages.map { String(buffer: $0) }
    }

    /// Waits for the close call and returns its error (nil for a clean close).
    func waitForClose() async throws -> TransportError? {
        let state = try await state.wait("the close callback") { $0.closeCount > 0 }
        #expect(state.closeCount == 1)
        return state.closeError
    }
}

/// Records one message, then hands the connection to `next` (as a session does when it returns
/// a connection to the pool in the middle of a read).
final class HandOffRecorder: WebSocketConnectionDelegate, Sendable {
    let first = WebSocketRecorder()
    let next = WebSocketRecorder()

    func webSocket(_ connection: WebSocketConnection, didReceiveText message: ByteBuffer) {
        first.webSocket(connection, didReceiveText: message)
        connection.delegate = next
    }

    func webSocket(_ connection: WebSocketConnection, didCloseWith error: TransportError?) {
        first.webSocket(connection, didCloseWith: error)
    }
}

/// Records an HTTP stream's delegate calls.
final class HTTPRecorder: HTTPStreamDelegate, Sendable {
    struct State: Sendable {
        var events: [String] = []
        var finishCount = 0
        var error: TransportError?
    }

    let state = Observed(State())

    func httpStream(_ stream: HTTPSSEConnection, didReceiveEvent data: ByteBuffer) {
        state.update { $0.events.append(String(buffer: data)) }
    }

    func httpStream(_ stream: HTTPSSEConnection, didFinishWith error: TransportError?) {
        state.update {
            $0.finishCount += 1
            $0.error = error
        }
    }

    /// Waits for the finish call; returns the events and the error.
    func waitForFinish() async throws -> (events: [String], error: TransportError?) {
        let state = try await state.wait("the finish callback") { $0.finishCount > 0 }
        #expect(state.finishCount == 1)
        return (state.events, state.error)
    }
}

/// Connects and expects success.
func connect(
    _ endpoint: Endpoint,
    config: ConnectionConfig = ConnectionConfig(),
    recorder: WebSocketRecorder,
    group: EventLoopGroup = clientGroup
) async throws -> WebSocketConnection {
    try await WebSocketConnection.connect(to: endpoint, config: config, on: group.next(), delegate: recorder).get()
}

/// Connects and expects a `TransportError`.
func connectFailure(_ endpoint: Endpoint, config: ConnectionConfig = ConnectionConfig(),
                    group: EventLoopGroup = clientGroup) async throws -> TransportError {
    do {
        let connection = try await WebSocketConnection.connect(to: endpoint, config: config, on: group.next()).get()
        connection.abort()
        Issue.record("connecting to \(endpoint) unexpectedly succeeded")
        throw TestTimeout(what: "a connect failure")
    } catch let error as TransportError {
        return error
    }
}

/// Reads loop-confined state of a connection.
func onLoop<T: Sendable>(_ connection: WebSocketConnection, _ body: @escaping @Sendable () -> T) async throws -> T {
    try await connection.eventLoop.submit(body).get()
}
