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
        // Whether NIO reads the close with the 101 or just after it varies: try it many times.
        for attempt in 1...10 {
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .rateLimited, "attempt \(attempt): \(result.status): \(result.message)")
            #expect(result.errorCode == "rate_limit_exceeded")
            #expect(result.message.contains("slow down"), "\(result.message)")
            try session.close()
        }
    }

    @Test func aCloseBehindThe101EndsTheTurnWithItsCodeAndNothingIsReplayed() async throws {
        let server = try await RawUpgradeServer.start { accept in
            RawUpgradeServer.switchingProtocols(accept: accept)
                + RawUpgradeServer.frame(0x8, [0x03, 0xF0] + Array("policy".utf8))   // 1008: final
        }
        defer { Task { await server.stop() } }
        let client = try client(port: server.port)
        defer { try? client.shutdown() }
        for attempt in 1...10 {
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            // .closed when the close came with the 101 (the request was never written); when it
            // came a read later the request may have left, and the server may have it.
            #expect(result.status == .closed || result.status == .outcomeUnknown, "attempt \(attempt): \(result.status): \(result.message)")
            #expect(result.message.contains("1008") && result.message.contains("policy"), "\(result.message)")
            try session.close()
        }
        #expect(server.received.value.bytes.count == 10, "one connection per turn: 1008 is not retried")
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
