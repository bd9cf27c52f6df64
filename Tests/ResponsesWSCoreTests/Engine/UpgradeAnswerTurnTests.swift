import NIOCore
import ResponsesJSON
import Testing
@testable import ResponsesWSCore

/// A turn against servers that answer the upgrade with frames glued to the 101 and close at once
/// (RawUpgradeServer): the turn ends with what the server said, not "no answer to the upgrade".
@Suite struct UpgradeAnswerTurnTests {
    func configure(_ config: inout ClientConfig) {
        config.apiKey = "sk-test"
        config.fallback = .never
    }

    @Test func anErrorEventAndACloseBehindThe101EndTheTurnWithThatError() async throws {
        let error = #"{"type":"error","status":429,"error":{"type":"requests","code":"rate_limit_exceeded","message":"slow down"}}"#
        let server = try await RawUpgradeServer.start { accept in
            RawUpgradeServer.switchingProtocols(accept: accept)
                + RawUpgradeServer.frame(0x1, Array(error.utf8))
                + RawUpgradeServer.frame(0x8, [0x03, 0xF0] + Array("rate limited".utf8))   // 1008
        }
        defer { Task { await server.stop() } }
        // Whether NIO reads the close with the 101 or just after it varies: try it many times.
        for (attempt, (result, _)) in try server.turns(10, configure: configure).enumerated() {
            #expect(result.status == .rateLimited, "attempt \(attempt): \(result.status): \(result.message)")
            #expect(result.errorCode == "rate_limit_exceeded")
            #expect(result.message.contains("slow down"), "\(result.message)")
        }
    }

    @Test func aCloseBehindThe101EndsTheTurnWithItsCodeAndNothingIsReplayed() async throws {
        let server = try await RawUpgradeServer.start { accept in
            RawUpgradeServer.switchingProtocols(accept: accept)
                + RawUpgradeServer.frame(0x8, [0x03, 0xF0] + Array("policy".utf8))   // 1008: final
        }
        defer { Task { await server.stop() } }
        for (attempt, (result, _)) in try server.turns(10, configure: configure).enumerated() {
            // .closed when the close came with the 101 (the request was never written); when it
            // came a read later the request may have left, and the server may have it.
            #expect(result.status == .closed || result.status == .outcomeUnknown, "attempt \(attempt): \(result.status): \(result.message)")
            #expect(result.message.contains("1008") && result.message.contains("policy"), "\(result.message)")
        }
        #expect(server.received.value.bytes.count == 10, "one connection per turn: 1008 is not retried")
    }

    @Test func anUnofferedExtensionFailsTheTurnBeforeTheRequestIsSent() async throws {
        let server = try await RawUpgradeServer.start(closeAfterAnswer: false) { accept in
            RawUpgradeServer.switchingProtocols(accept: accept, extra: ["Sec-WebSocket-Extensions: permessage-deflate"])
        }
        defer { Task { await server.stop() } }
        let (result, _) = try server.turns(configure: configure)[0]
        #expect(result.status == .protocolViolation, "\(result.status): \(result.message)")
        #expect(result.message.contains("Sec-WebSocket-Extensions"), "\(result.message)")
        let log = server.received.value
        #expect(log.bytes.allSatisfy { !String(decoding: $0, as: UTF8.self).contains("response.create") })
    }

    /// RFC 6455 §8.1: invalid UTF-8 in the answer fails the connection with 1007; the turn, sent
    /// already, ends RWS_E_PROTOCOL and is not replayed.
    @Test func invalidUTF8InTheAnswerFailsTheTurnWith1007() async throws {
        let created = Array(#"{"type":"response.created","response":{"id":"resp_1","status":"in_progress"}}"#.utf8)
        let badDelta = Array(#"{"type":"response.output_text.delta","delta":""#.utf8) + [0xFF, 0xFE, 0xC0, 0xAF] + Array(#""}"#.utf8)
        let server = try await RawUpgradeServer.start(
            reply: RawUpgradeServer.frame(0x1, created) + RawUpgradeServer.frame(0x1, Array(badDelta.prefix(125)))
        ) { accept in RawUpgradeServer.switchingProtocols(accept: accept) }
        defer { Task { await server.stop() } }
        let (result, events) = try server.turns(configure: configure)[0]
        #expect(result.status == .protocolViolation, "\(result.status): \(result.message)")
        #expect(result.message.contains("not valid UTF-8"), "\(result.message)")
        #expect(events.allSatisfy { $0.header.type != .outputTextDelta }, "the invalid delta reached the caller")
        // One connection, one request, then the client's close frame with 1007 (masked).
        let log = try await server.received.wait("the client's close") { $0.closed == 1 }
        #expect(log.bytes.count == 1)
        let sent = log.bytes[0]
        // The last frame: 0x88 (FIN, close), 0x82 (masked, 2 bytes), the mask, the masked code.
        let closeAt = sent.count - 8
        #expect(closeAt > 0 && sent[closeAt] == 0x88 && sent[closeAt + 1] == 0x82, "no close frame with a code last")
        guard closeAt > 0 else { return }
        let mask = Array(sent[(closeAt + 2)..<(closeAt + 6)])
        let code = (UInt16(sent[closeAt + 6] ^ mask[0]) << 8) | UInt16(sent[closeAt + 7] ^ mask[1])
        #expect(code == 1007)
    }
}
