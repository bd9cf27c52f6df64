import NIOCore
import ResponsesWSSim
import Testing
@testable import ResponsesWSCore

/// The log hook reports what the library does (connects, retries with their delays, fallbacks,
/// rotations, recoveries, failed turns), filtered by level, never with a credential.
@Suite struct LogHookTests {
    /// Records collected from the hook (it runs on the I/O thread).
    final class Records: Sendable {
        let observed = Observed<[LogRecord]>([])
        func hook(_ level: LogLevel) -> LogHook {
            LogHook(level: level) { record in self.observed.update { $0.append(record) } }
        }
        var all: [LogRecord] { observed.value }
        func messages(_ level: LogLevel? = nil) -> [String] {
            all.filter { level == nil || $0.level == level }.map(\.message)
        }
        func field(_ key: String, in record: LogRecord) -> String? { record.fields.first { $0.key == key }?.value }
    }

    @Test func aConnectIsReportedWithItsDurationAndRequestID() async throws {
        let records = Records()
        try await withSimulator({ $0.requestID = "req_log_1" }, client: { $0.logHook = records.hook(.debug) }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .ok)
            let connected = try #require(records.all.first { $0.message.hasPrefix("WebSocket connected to 127.0.0.1:\(sim.port)") })
            #expect(connected.level == .info)
            #expect(connected.message.contains("(request id req_log_1)"))
            #expect(records.field("request_id", in: connected) == "req_log_1")
            #expect(Int(records.field("connect_ms", in: connected) ?? "") != nil)
            #expect(records.messages(.debug).contains { $0.hasPrefix("client ready: WebSocket mode at ws://127.0.0.1:\(sim.port)/v1/responses") })
            #expect(records.messages(.debug).contains("connecting to ws://127.0.0.1:\(sim.port)/v1/responses"))
        }
    }

    @Test func theLevelFiltersRecords() async throws {
        let records = Records()
        try await withSimulator(client: { $0.logHook = records.hook(.info) }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            _ = try session.run(#"{"input":"hi"}"#)
            #expect(!records.all.isEmpty)
            #expect(records.all.allSatisfy { $0.level <= .info }, "\(records.all.map(\.level))")
        }
    }

    @Test func retriesFallbacksAndFailuresAreReported() async throws {
        let records = Records()
        try await withSimulator({ $0.rejectUpgradeStatus = 404 },
                                client: { $0.reconnectDelayMs = 10; $0.logHook = records.hook(.info) }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .ok && result.transport == .http)
            let retry = try #require(records.all.first { $0.message.hasPrefix("retrying in ") })
            #expect(records.field("attempt", in: retry) == "1")
            #expect(Int(records.field("delay_ms", in: retry) ?? "") != nil)
            #expect(records.messages(.warning).contains { $0.contains("WebSocket connect to") && $0.contains("404") })
            #expect(records.messages(.warning).contains { $0.hasPrefix("WebSocket mode unavailable") && $0.contains("using HTTP/SSE") })
        }
    }

    @Test func aRotationIsReported() async throws {
        let records = Records()
        let clock = TestClock()
        try await withSimulator({ $0.now = clock.function },
                                client: { $0.now = clock.function; $0.warmStandby = false; $0.logHook = records.hook(.info) }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            _ = try session.run(#"{"input":"one"}"#)
            clock.advance(by: .minutes(55))
            let (result, _) = try session.run(#"{"input":"two"}"#)
            #expect(result.flags.contains(.rotated))
            let rotation = try #require(records.all.first { $0.message.hasPrefix("rotating a connection") })
            #expect(records.field("age_s", in: rotation) == "3300")
            #expect(records.field("standby", in: rotation) == "none")
        }
    }

    @Test func aLostChainIsRecoveredAndReported() async throws {
        let records = Records()
        try await withSimulator({ $0.faults = [try! FaultRule(parsing: "evict@2")] }, client: { $0.logHook = records.hook(.info) }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            _ = try session.run(#"{"input":"one"}"#)
            let (result, _) = try session.run(#"{"input":"two"}"#)
            #expect(result.status == .ok && result.flags.contains(.fullResend))
            #expect(records.messages(.info).contains("previous_response_not_found: sending the turn again with its full context"))
        }
    }

    @Test func noRecordNamesTheKey() async throws {
        let records = Records()
        let key = "sk-log-hook-secret-0123456789"
        try await withSimulator({ $0.apiKey = "sk-the-right-one" }, client: { $0.apiKey = key; $0.logHook = records.hook(.debug) }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .auth)
            let failed = try #require(records.all.first { $0.message.hasPrefix("turn failed: ") })
            #expect(failed.level == .warning)
            for record in records.all {
                #expect(!record.message.contains(key) && !record.fields.contains { $0.value.contains(key) }, "\(record.message)")
            }
        }
    }
}
