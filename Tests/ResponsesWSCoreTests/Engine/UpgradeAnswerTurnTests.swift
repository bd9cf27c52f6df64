import NIOCore
import ResponsesJSON
import Testing
@testable import ResponsesWSCore

/// A turn against servers that answer the upgrade with frames glued to the 101 and close at once
/// (RawUpgradeServer): the turn ends with what the server said, not "no answer to the upgrade".
@Suite struct UpgradeAnswerTurnTests {
    func client(port: Int) throws -> ResponsesClient {
        var config = ClientConfig()
        config.baseURL = "http://127.0.0.1:\(port)/v1"
        config.apiKey = "sk-test"
        config.fallback = .never
        return try ResponsesClient(config)
    }

    @Test func anErrorEventAndACloseBehindThe101EndTheTurnWithThatError() async throws {
        let error = #"{"type":"error","status":429,"error":{"type":"requests","code":"rate_limit_exceeded","message":"slow down"}}"#
        let server = try await RawUpgradeServer.start { accept in
            RawUpgradeServer.switchingProtocols(accept: accept)
                + RawUpgradeServer.frame(0x1, Array(error.utf8))
                + RawUpgradeServer.frame(0x8, [0x03, 0xF0] + Array("rate limited".utf8))   // 1008
        }
        defer { Task { await server.stop() } }
        let client = try client(port: server.port)
        defer { try? client.shutdown() }
        let session = try client.makeSession(defaults: defaults)
        let (result, _) = try session.run(#"{"input":"hi"}"#)
        #expect(result.status == .rateLimited, "\(result.status): \(result.message)")
        #expect(result.errorCode == "rate_limit_exceeded")
        #expect(result.message.contains("slow down"), "\(result.message)")
    }

    @Test func anUnofferedExtensionFailsTheTurnBeforeTheRequestIsSent() async throws {
        let server = try await RawUpgradeServer.start(closeAfterAnswer: false) { accept in
            RawUpgradeServer.switchingProtocols(accept: accept, extra: ["Sec-WebSocket-Extensions: permessage-deflate"])
        }
        defer { Task { await server.stop() } }
        let client = try client(port: server.port)
        defer { try? client.shutdown() }
        let session = try client.makeSession(defaults: defaults)
        let (result, _) = try session.run(#"{"input":"hi"}"#)
        #expect(result.status == .protocolViolation, "\(result.status): \(result.message)")
        #expect(result.message.contains("Sec-WebSocket-Extensions"), "\(result.message)")
        let log = server.received.value
        #expect(log.bytes.allSatisfy { !String(decoding: $0, as: UTF8.self).contains("response.create") })
    }
}
