import Foundation
import NIOCore
import NIOWebSocket
import ResponsesWSCore
import Testing

@Suite struct WebSocketConnectionTests {
    static let token = "sk-test-0123456789abcdefSECRET"

    @Test func echoRoundTripAndCleanClose() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let connection = try await connect(server.endpoint("/echo"), recorder: recorder)
        #expect(try await onLoop(connection) { connection.isOpen })

        try await connection.sendText(ByteBuffer(string: "{\"type\":\"response.create\"}")).get()
        try await connection.sendText(ByteBuffer(string: "second")).get()
        #expect(try await recorder.waitForMessages(2) == ["{\"type\":\"response.create\"}", "second"])
        let counters = try await onLoop(connection) { (connection.bytesSent, connection.bytesReceived) }
        #expect(counters.0 == 32 && counters.1 == 32)

        let first = connection.close()
        let second = connection.close()  // idempotent
        try await first.get()
        try await second.get()
        #expect(try await recorder.waitForClose() == nil)
        #expect(try await onLoop(connection) { connection.isOpen } == false)
        // Our close frame reached the server with 1000.
        try await server.probe.wait("the client's close frame") { $0.closeCodesReceived == [1000] }

        await #expect(throws: TransportError.self) { try await connection.sendText(ByteBuffer(string: "late")).get() }
    }

    /// The frame handler loads the delegate once per read; a delegate replaced in the middle of
    /// a read must still get every message after the switch.
    @Test func delegateReplacedMidReadGetsTheRestOfTheRead() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let handOff = HandOffRecorder()
        let connection = try await WebSocketConnection.connect(
            to: server.endpoint("/burst"), config: ConnectionConfig(), on: clientGroup.next(), delegate: handOff).get()
        try await connection.sendText(ByteBuffer(string: "20")).get()
        #expect(try await handOff.next.waitForMessages(19) == (1..<20).map { "b\($0)" })
        #expect(handOff.first.texts == ["b0"])
        try await connection.close().get()
    }

    @Test func sendTextOnTheEventLoopAndFromManyThreads() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let connection = try await connect(server.endpoint("/echo"), recorder: recorder)
        try await connection.eventLoop.flatSubmit { connection.sendText(ByteBuffer(string: "from the loop")) }.get()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask { try await connection.sendText(ByteBuffer(string: "m\(index)")).get() }
            }
            try await group.waitForAll()
        }
        let texts = try await recorder.waitForMessages(51)
        #expect(texts.first == "from the loop")
        #expect(Set(texts.dropFirst()) == Set((0..<50).map { "m\($0)" }))
        try await connection.close().get()
    }

    @Test func upgradeCarriesHostUserAgentAndConfiguredHeaders() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let config = ConnectionConfig(headers: [
            ("Authorization", "Bearer \(Self.token)"),
            ("OpenAI-Beta", "responses_websockets=2026-02-06"),
            ("X-Extra", "extra value"),
        ])
        let connection = try await connect(server.endpoint("/headers?trace=1"), config: config, recorder: recorder)
        // The server sends its view of the headers right behind the 101.
        let text = try await recorder.waitForMessages(1)[0]
        #expect(text.contains("authorization: Bearer \(Self.token)"))
        #expect(text.contains("openai-beta: responses_websockets=2026-02-06"))
        #expect(text.contains("x-extra: extra value"))
        #expect(text.contains("user-agent: \(ConnectionConfig.defaultUserAgent)"))
        #expect(text.contains("host: 127.0.0.1:\(server.port)"))
        let upgrade = try #require(server.probe.value.upgrades.first)
        #expect(upgrade.path == "/headers?trace=1")
        try await connection.close().get()
    }

    @Test func customUserAgentReplacesTheDefault() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let config = ConnectionConfig(headers: [("User-Agent", "my-app/2.0")])
        let connection = try await connect(server.endpoint("/headers"), config: config, recorder: recorder)
        let text = try await recorder.waitForMessages(1)[0]
        #expect(text.contains("user-agent: my-app/2.0"))
        #expect(!text.contains(ConnectionConfig.defaultUserAgent))
        try await connection.close().get()
    }

    @Test func headerInjectionIsRejected() async throws {
        let error = try await connectFailure(
            Endpoint(scheme: .ws, host: "127.0.0.1", port: 9, path: "/"),
            config: ConnectionConfig(headers: [("X-Bad", "a\r\nInjected: \(Self.token)")]))
        #expect(error.kind == .configuration)
        #expect(error.message.contains("X-Bad"))
        #expect(!error.message.contains(Self.token))
    }

    // MARK: - Connect failures

    @Test func refusedConnection() async throws {
        let port = try await closedPort()
        let error = try await connectFailure(Endpoint(scheme: .ws, host: "127.0.0.1", port: port, path: "/"))
        #expect(error.kind == .connect)
        #expect(error.message == "connection refused by 127.0.0.1:\(port): is the server running?")
    }

    @Test func unresolvableHost() async throws {
        let error = try await connectFailure(try Endpoint(url: "ws://nonexistent.invalid/v1/responses"))
        #expect(error.kind == .dns)
        #expect(error.message.contains("nonexistent.invalid"))
    }

    @Test func nonWebSocketSchemeIsRejected() async throws {
        let error = try await connectFailure(try Endpoint(url: "https://127.0.0.1:9/v1"))
        #expect(error.kind == .url)
    }

    @Test func upgradeAnswered401IsAnAuthErrorWithoutTheKey() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let config = ConnectionConfig(headers: [("Authorization", "Bearer \(Self.token)")])
        let error = try await connectFailure(server.endpoint("/status/401"), config: config)
        #expect(error.kind == .auth)
        #expect(error.httpStatus == 401)
        #expect(error.message.hasPrefix("HTTP 401 at WebSocket upgrade: the API key was rejected (body: "))
        let body = try #require(error.body)
        #expect(body.contains("invalid_request_error"))
        #expect(body.contains("[REDACTED]"))
        // The server echoed the bearer token; no part of the error may carry it.
        for text in [error.message, body, error.description, String(describing: error)] {
            #expect(!text.contains(Self.token))
        }
    }

    @Test(arguments: [404, 426, 429, 503])
    func upgradeRefusedWithStatus(status: Int) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let error = try await connectFailure(server.endpoint("/status/\(status)"))
        #expect(error.kind == .upgradeRefused)
        #expect(error.httpStatus == status)
        #expect(error.message.hasPrefix("HTTP \(status) at WebSocket upgrade"))
        #expect(error.body?.contains("status_\(status)") == true)
        if status == 426 { #expect(error.message.contains("use the HTTP transport")) }
    }

    @Test func forbiddenIsAnAuthError() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let error = try await connectFailure(server.endpoint("/status/403"))
        #expect(error.kind == .auth && error.httpStatus == 403)
    }

    @Test func connectTimeoutCoversTheUpgrade() async throws {
        let server = try await SilentTCPServer.start()
        defer { Task { await server.stop() } }
        let endpoint = Endpoint(scheme: .ws, host: "127.0.0.1", port: server.port, path: "/")
        // On a loop of its own, the TCP connect is always seen before the deadline (see
        // timeoutClientGroup), so the timeout names the upgrade.
        let error = try await connectFailure(endpoint, config: ConnectionConfig(connectTimeout: .milliseconds(5000)),
                                             group: timeoutClientGroup)
        #expect(error.kind == .timeout)
        #expect(error.message == "no answer to the WebSocket upgrade from 127.0.0.1:\(server.port) within 5 s")
    }

    // MARK: - Inbound messages

    @Test func fragmentedMessageIsReassembled() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let connection = try await connect(server.endpoint("/fragments"), recorder: recorder)
        try await connection.sendText(ByteBuffer(string: "go")).get()
        #expect(try await recorder.waitForMessages(1) == ["Hello, world"])
        try await connection.close().get()
    }

    @Test(arguments: ["/big", "/fragments-big"])
    func tooBigMessageClosesWith1009(path: String) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let connection = try await connect(server.endpoint(path), config: ConnectionConfig(maxMessageBytes: 1000), recorder: recorder)
        try await connection.sendText(ByteBuffer(string: "600")).get()  // /big: 600 bytes fit
        if path == "/big" {
            #expect(try await recorder.waitForMessages(1)[0].count == 600)
            try await connection.sendText(ByteBuffer(string: "2000")).get()
        }
        let error = try #require(try await recorder.waitForClose())
        #expect(error.kind == .messageTooBig)
        #expect(error.closeCode == 1009)
        #expect(error.message.contains("maxMessageBytes (1000 bytes)"))
        try await server.probe.wait("a 1009 close frame") { $0.closeCodesReceived == [1009] }
        #expect(recorder.texts.count == (path == "/big" ? 1 : 0))
    }

    @Test func binaryFrameIsAProtocolViolation() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        _ = try await connect(server.endpoint("/binary"), recorder: recorder)
        let error = try #require(try await recorder.waitForClose())
        #expect(error.kind == .protocolViolation)
        #expect(error.closeCode == 1003)
        #expect(error.message.contains("binary"))
        try await server.probe.wait("a 1003 close frame") { $0.closeCodesReceived == [1003] }
    }

    @Test func serverCloseIsReportedWithItsCode() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let connection = try await connect(server.endpoint("/close-1011"), recorder: recorder)
        let error = try #require(try await recorder.waitForClose())
        #expect(error.kind == .closed)
        #expect(error.closeCode == 1011)
        #expect(error.message == "127.0.0.1:\(server.port) closed the WebSocket with 1011 (internal error): server exploded")
        // We echoed the close code.
        try await server.probe.wait("the echoed close frame") { $0.closeCodesReceived == [1011] }
        await #expect(throws: TransportError.self) { try await connection.sendText(ByteBuffer(string: "x")).get() }
    }

    @Test func tcpDropIsAbnormalClosure() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let connection = try await connect(server.endpoint("/drop"), recorder: recorder)
        try await connection.sendText(ByteBuffer(string: "bye")).get()
        let error = try #require(try await recorder.waitForClose())
        #expect(error.kind == .closed)
        #expect(error.closeCode == 1006)
    }

    @Test func abortReportsCancelled() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let connection = try await connect(server.endpoint("/echo"), recorder: recorder)
        connection.abort()
        let error = try #require(try await recorder.waitForClose())
        #expect(error.kind == .cancelled)
        connection.abort()  // harmless afterwards
    }

    // MARK: - Keepalive (§5.7)

    @Test func keepalivePingsAreAnswered() async throws {
        let server = try await TestServer.start(group: quietServerGroup)
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let config = ConnectionConfig(pingInterval: .milliseconds(200))
        let connection = try await connect(server.endpoint("/echo"), config: config, recorder: recorder, group: quietClientGroup)
        // A second ping is only sent after the first one was answered in time.
        try await server.probe.wait("two keepalive pings") { $0.pingsReceived >= 2 }
        #expect(try await onLoop(connection) { connection.isOpen })
        #expect(recorder.state.value.closeCount == 0, "closed: \(String(describing: recorder.state.value.closeError))")
        try await connection.close().get()
        #expect(try await recorder.waitForClose() == nil)
    }

    @Test func deadPeerTimesOut() async throws {
        let server = try await TestServer.start(group: quietServerGroup)
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let config = ConnectionConfig(pingInterval: .milliseconds(200))
        _ = try await connect(server.endpoint("/silent"), config: config, recorder: recorder, group: quietClientGroup)
        let error = try #require(try await recorder.waitForClose())
        #expect(error.kind == .timeout)
        #expect(error.message.contains("no pong or other frame"))
        #expect(server.probe.value.pingsReceived >= 1)
    }

    @Test func closeGivesUpWaitingForTheServerAfterCloseTimeout() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let config = ConnectionConfig(closeTimeout: .milliseconds(100))
        let connection = try await connect(server.endpoint("/silent"), config: config, recorder: recorder)
        try await connection.close().get()
        #expect(try await recorder.waitForClose() == nil)
    }
}

/// Answers to the upgrade that a server library would not write, from `RawUpgradeServer`.
@Suite struct UpgradeAnswerTests {
    /// RFC 6455 §4.1: bytes after the 101 are frames; a server may write a message and a close
    /// in the same segment and drop TCP at once. All of it must reach the delegate.
    @Test func framesGluedToThe101AndAnImmediateCloseAreDelivered() async throws {
        let server = try await RawUpgradeServer.start { accept in
            RawUpgradeServer.switchingProtocols(accept: accept)
                + RawUpgradeServer.frame(0x1, Array(#"{"type":"error","error":{"code":"x"}}"#.utf8))
                + RawUpgradeServer.frame(0x8, [0x03, 0xF3] + Array("going away".utf8))   // 1011
        }
        defer { Task { await server.stop() } }
        for attempt in 1...20 {
            let recorder = WebSocketRecorder()
            _ = try await connect(Endpoint(scheme: .ws, host: "127.0.0.1", port: server.port, path: "/v1/responses"), recorder: recorder)
            let error = try await recorder.waitForClose()
            let texts = recorder.state.value.messages.map { String(buffer: $0) }
            #expect(texts == [#"{"type":"error","error":{"code":"x"}}"#], "attempt \(attempt)")
            #expect(error?.kind == .closed && error?.closeCode == 1011, "attempt \(attempt): \(String(describing: error))")
            #expect(error?.message.contains("going away") == true)
        }
    }

    /// RFC 6455 §4.1: an extension or subprotocol the client did not offer fails the connection
    /// before anything is sent on it.
    @Test(arguments: [
        ("Sec-WebSocket-Extensions: permessage-deflate", "Sec-WebSocket-Extensions"),
        ("Sec-WebSocket-Protocol: chat", "Sec-WebSocket-Protocol"),
    ])
    func anUnofferedExtensionOrSubprotocolFailsTheConnection(header: String, named: String) async throws {
        let server = try await RawUpgradeServer.start(closeAfterAnswer: false) { accept in
            RawUpgradeServer.switchingProtocols(accept: accept, extra: [header])
        }
        defer { Task { await server.stop() } }
        let error = try await connectFailure(Endpoint(scheme: .ws, host: "127.0.0.1", port: server.port, path: "/v1/responses"))
        #expect(error.kind == .protocolViolation, "\(error)")
        #expect(error.message.contains(named), "\(error.message)")
        // Once the client dropped TCP, the server had seen the upgrade request and nothing after
        // it (no frame, not even a close frame).
        let log = try await server.received.wait("the client's close") { $0.closed == 1 }
        let request = String(decoding: log.bytes[0], as: UTF8.self)
        #expect(request.hasSuffix("\r\n\r\n") && request.hasPrefix("GET /v1/responses"), "\(request)")
    }
}
