import NIOConcurrencyHelpers
import ResponsesWSSim
import Testing
@testable import ResponsesWSCore

/// Turns over a WebSocket with permessage-deflate, client against the simulator (which takes
/// the offer unless told not to): the messages really are compressed both ways, and the
/// message limit holds against a decompression bomb.
@Suite struct DeflateTurnTests {
    @Test func turnsRunCompressedBothWays() async throws {
        let records = NIOLockedValueBox<[LogRecord]>([])
        try await withSimulator(client: {
            $0.perMessageDeflate = true
            $0.logHook = LogHook(level: .info) { record in records.withLockedValue { $0.append(record) } }
        }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let (first, events) = try session.run(#"{"input":"hello there"}"#)
            let (second, _) = try session.run(#"{"input":"and again"}"#)
            #expect(first.status == .ok && second.status == .ok, "\(first.message) \(second.message)")
            #expect(second.incremental)
            #expect(events.last?.header.type == .responseCompleted)
            let server = try #require(sim.stats().websocketConnections.first)
            #expect(server.compressedMessagesReceived == 2)          // both response.create
            #expect(server.compressedMessagesSent == server.eventsSent)
            #expect(server.wireBytesReceived < server.bytesReceived)  // compressed on the wire
            let connected = records.withLockedValue { $0 }.first { $0.message.hasPrefix("WebSocket connected") }
            #expect(connected?.message.contains("negotiated permessage-deflate") == true, "\(String(describing: connected?.message))")
            #expect(connected?.fields.contains { $0.key == "extensions" && $0.value == "permessage-deflate" } == true)
        }
    }

    @Test func aServerThatDeclinesGetsPlainFrames() async throws {
        try await withSimulator({ $0.perMessageDeflate = false }, client: { $0.perMessageDeflate = true }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hello there"}"#)
            #expect(result.status == .ok, "\(result.message)")
            let server = try #require(sim.stats().websocketConnections.first)
            #expect(server.compressedMessagesReceived == 0 && server.compressedMessagesSent == 0)
            #expect(server.wireBytesReceived == server.bytesReceived)
        }
    }

    /// 64 MiB of inflated text in about 64 KiB on the wire, against a 1 MiB limit.
    @Test func aDecompressionBombFailsAsMessageTooBig() async throws {
        try await withSimulator({ $0.faults = [try! FaultRule(parsing: "deflate-bomb@1")] }, client: {
            $0.perMessageDeflate = true
            $0.maxMessageBytes = 1 << 20
            $0.maxReconnects = 0
        }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hello there"}"#)
            #expect(result.status == .messageTooBig, "\(result.status): \(result.message)")
            #expect(result.message.contains("larger than maxMessageBytes"), "\(result.message)")
        }
    }
}
