import NIOCore
import ResponsesJSON
import Testing
@testable import ResponsesWSCore

private let key = "sk-secret-0123456789abcdef"
private let token = "tok-secret-fedcba9876"

private func frame(_ opcode: UInt8, _ text: String) -> [UInt8] { RawUpgradeServer.frame(opcode, Array(text.utf8)) }

private func configure(_ config: inout ClientConfig, transport: Transport = .webSocket) {
    config.apiKey = key
    config.extraHeaders = [("X-Custom-Token", token)]
    config.fallback = .never
    config.maxReconnects = 0
    config.transport = transport
}

/// Runs one turn against a server that answers the upgrade and then writes `reply`.
private func turn(reply: [UInt8], closeAfterAnswer: Bool = false) async throws -> (TurnResult, [PendingEvent]) {
    let server = try await RawUpgradeServer.start(closeAfterAnswer: closeAfterAnswer, reply: reply) { accept in
        RawUpgradeServer.switchingProtocols(accept: accept)
    }
    defer { Task { await server.stop() } }
    return try server.turns { configure(&$0) }[0]
}

private func expectNoSecret(_ result: TurnResult, _ what: String) {
    for text in [result.message, result.errorCode ?? "", String(decoding: result.responseJSON, as: UTF8.self)] {
        #expect(!text.contains(key) && !text.contains(token), "\(what): \(text)")
    }
}

/// What a caller reads of each event (its JSON, its decoded error message) holds no credential.
private func expectNoSecret(_ events: [PendingEvent], _ what: String) {
    #expect(!events.isEmpty, "\(what): events were delivered")
    for event in events {
        var scratch: [UInt8] = []
        event.frame.withUnsafeReadableBytes { frame in
            event.responseID.withUnsafeBytes { rid in
                DeliveredEvent.with(frame: frame, header: event.header, responseID: rid, scratch: &scratch) { d in
                    for text in [String(decoding: d.frame, as: UTF8.self), String(decoding: d.errorMessage, as: UTF8.self)] {
                        #expect(!text.contains(key) && !text.contains(token), "\(what): \(text)")
                    }
                }
            }
        }
    }
}

/// Item: secrets never leave, even when the server echoes them.
@Suite struct CredentialEchoTests {
    @Test func anErrorEventEchoingTheKeyIsRedacted() async throws {
        let error = #"{"type":"error","status":400,"error":{"type":"invalid_request_error","code":"bad","message":"key \#(key) and \#(token) are wrong"}}"#
        let (result, events) = try await turn(reply: frame(0x1, error))
        #expect(result.status == .invalidRequest, "\(result.status): \(result.message)")
        #expect(result.message.contains("[REDACTED]"), "\(result.message)")
        expectNoSecret(result, "error event")
        expectNoSecret(events, "error event")
        #expect(events.first.map { String(buffer: $0.frame).contains("[REDACTED]") } == true, "the event still says what was wrong")
    }

    @Test func aFailedResponseEchoingTheKeyIsRedacted() async throws {
        let created = #"{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}"#
        let failed = #"{"type":"response.failed","response":{"id":"resp_1","status":"failed","error":{"code":"server_error","message":"bad key \#(key)"}}}"#
        let (result, events) = try await turn(reply: frame(0x1, created) + frame(0x1, failed))
        #expect(result.status == .responseFailed, "\(result.status): \(result.message)")
        expectNoSecret(result, "response.failed")
        expectNoSecret(events, "response.failed")
        #expect(result.response.id == "resp_1", "the redacted copy still names the response")
    }

    @Test func aCloseReasonEchoingTheKeyIsRedacted() async throws {
        let created = #"{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}"#
        let close: [UInt8] = [0x88, UInt8(2 + 4 + key.utf8.count), 0x03, 0xF3] + Array("key \(key)".utf8)   // 1011
        let (result, _) = try await turn(reply: frame(0x1, created) + close)
        #expect(result.status == .outcomeUnknown, "\(result.status): \(result.message)")
        #expect(result.message.contains("1011"), "\(result.message)")
        expectNoSecret(result, "close reason")
    }

    @Test func anUpgradeAnswerBodyEchoingAnExtraCredentialHeaderIsRedacted() async throws {
        let body = #"{"error":{"message":"token \#(token) is not valid"}}"#
        let server = try await RawUpgradeServer.start { _ in
            Array("HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        }
        defer { Task { await server.stop() } }
        let (result, _) = try server.turns { configure(&$0) }[0]
        #expect(result.status == .auth, "\(result.status): \(result.message)")
        expectNoSecret(result, "401 body")
    }
}

/// Item: a turn ends only with its own response.
@Suite struct ForeignTerminalTests {
    @Test func aTerminalEventOfAnotherResponseDoesNotEndTheTurn() async throws {
        let created = #"{"type":"response.created","response":{"id":"resp_own","status":"in_progress"}}"#
        let foreign = #"{"type":"response.completed","response":{"id":"resp_other","status":"completed","output":[]}}"#
        let own = #"{"type":"response.completed","response":{"id":"resp_own","status":"completed","output":[]}}"#
        let (result, events) = try await turn(reply: frame(0x1, created) + frame(0x1, foreign) + frame(0x1, own))
        #expect(result.status == .ok, "\(result.status): \(result.message)")
        #expect(result.response.id == "resp_own")
        #expect(events.count == 3, "the foreign terminal is delivered as an ordinary event")
        if events.count == 3 {
            #expect(events[1].responseID.isEmpty, "the foreign event is not labelled with the turn's id")
        }
    }

    @Test func aTurnThatEndsWithoutItsOwnTerminalStillNamesItsResponse() async throws {
        let created = #"{"type":"response.created","response":{"id":"resp_own","status":"in_progress"}}"#
        let foreign = #"{"type":"response.failed","response":{"id":"resp_other","status":"failed"}}"#
        let close: [UInt8] = [0x88, 2, 0x03, 0xF3]
        let (result, _) = try await turn(reply: frame(0x1, created) + frame(0x1, foreign) + close)
        #expect(result.status == .outcomeUnknown, "\(result.status): \(result.message)")
        #expect(result.response.id == "resp_own")
    }
}

/// Item: URLs and extra headers are checked at client creation.
@Suite struct GuardedConfigTests {
    private func creationError(_ configure: (inout ClientConfig) -> Void) -> RWSError? {
        var config = ClientConfig()
        config.baseURL = "http://127.0.0.1:9/v1"
        config.apiKey = key
        configure(&config)
        do {
            let client = try ResponsesClient(config)
            try? client.shutdown()
            return nil
        } catch {
            return error
        }
    }

    @Test(arguments: ["http://127.0.0.1:9/v1 x", "http://127.0.0.1:9/v1\r\nX-Injected: 1", "http://127.0.0.1:9/\tv1",
                      "http://127.0.0.1:9/v1\u{7F}", "http://127.0.0.1:9/v1\n"])
    func controlsAndSpacesInBaseURLAreURLErrors(_ url: String) {
        let error = creationError { $0.baseURL = url }
        #expect(error?.status == .url, "\(String(describing: error))")
        #expect(error?.message.contains("base_url") == true, "\(String(describing: error))")
    }

    @Test func controlsInWebSocketURLAreURLErrors() {
        let error = creationError { $0.webSocketURL = "ws://127.0.0.1:9/v1/responses\u{01}" }
        #expect(error?.status == .url, "\(String(describing: error))")
        #expect(error?.message.contains("websocket_url") == true, "\(String(describing: error))")
    }

    @Test(arguments: ["Host", "authorization", "Upgrade", "Connection", "Sec-WebSocket-Key", "sec-websocket-protocol",
                      "Sec-WebSocket-Version", "Content-Length", "Transfer-Encoding", "Content-Type", "Accept"])
    func headersTheLibraryOwnsAreRefused(_ name: String) {
        let error = creationError { $0.extraHeaders = [(name, "x-value")] }
        #expect(error?.status == .invalidArgument, "\(name): \(String(describing: error))")
        #expect(error?.message.contains(name) == true && error?.message.contains("x-value") == false, "\(String(describing: error))")
    }

    @Test func otherHeadersAreAccepted() {
        #expect(creationError { $0.extraHeaders = [("User-Agent", "mine/1"), ("X-Trace", "1"), ("OpenAI-Beta", "b")] } == nil)
    }
}

/// Item: an SSE stream cut after the request was sent is RWS_E_OUTCOME_UNKNOWN, whatever its
/// framing, and the request is not sent again.
@Suite struct CutEventStreamTests {
    static let created = "data: {\"type\":\"response.created\",\"response\":{\"id\":\"resp_1\",\"status\":\"in_progress\"}}\n\n"
    static let answers: [(String, String)] = [
        ("connection close", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n\(created)"),
        ("content-length", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100000\r\n\r\n\(created)"),
        ("chunked", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n"
            + String(created.utf8.count, radix: 16) + "\r\n\(created)\r\n"),
        ("close-delimited, no event", "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n"),
    ]

    @Test(arguments: 0..<answers.count)
    func aCutStreamIsOutcomeUnknownAndNotResent(_ index: Int) async throws {
        let (name, answer) = Self.answers[index]
        let server = try await RawUpgradeServer.start { _ in Array(answer.utf8) }
        defer { Task { await server.stop() } }
        let (result, _) = try server.turns { configure(&$0, transport: .http) }[0]
        #expect(result.status == .outcomeUnknown, "\(name): \(result.status): \(result.message)")
        #expect(server.received.value.bytes.count == 1, "\(name): sent again")
    }
}
