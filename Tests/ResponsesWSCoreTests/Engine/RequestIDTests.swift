import NIOHTTP1
import ResponsesWSSim
import Testing
@testable import ResponsesWSCore

/// The server's x-request-id reaches the turn's result and its failure messages (§1.3), over
/// WebSocket mode (from the 101) and HTTP/SSE (from each answer), and on refusals.
@Suite struct RequestIDTests {
    @Test func aWebSocketTurnCarriesTheUpgradesRequestID() async throws {
        try await withSimulator({ $0.requestID = "req_ws_upgrade_1" }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .ok && result.transport == .webSocket)
            #expect(result.requestID == "req_ws_upgrade_1")
        }
    }

    @Test func anHTTPTurnCarriesItsAnswersRequestID() async throws {
        try await withSimulator({ $0.requestID = "req_http_post_2" }, client: { $0.transport = .http }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .ok && result.transport == .http)
            #expect(result.requestID == "req_http_post_2")
        }
    }

    @Test func aRefusedUpgradeNamesItsRequestIDInTheMessage() async throws {
        try await withSimulator({ $0.rejectUpgradeStatus = 404; $0.requestID = "req_refused_3" }, client: { $0.fallback = .never }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .upgradeRefused)
            #expect(result.requestID == "req_refused_3")
            #expect(result.message.hasSuffix("(request id req_refused_3)"), "\(result.message)")
        }
    }

    @Test func aTurnLostMidStreamNamesTheConnectionsRequestID() async throws {
        try await withSimulator({ $0.requestID = "req_lost_4"; $0.faults = [try! FaultRule(parsing: "drop-mid-stream@1")] }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .outcomeUnknown)
            #expect(result.requestID == "req_lost_4")
            #expect(result.message.contains("(request id req_lost_4)"), "\(result.message)")
        }
    }

    @Test func onlyShortPrintableIDsAreKept() {
        func id(_ value: String) -> String? { RequestID.from(HTTPHeaders([("x-request-id", value)])) }
        #expect(id("req_abc123") == "req_abc123")
        #expect(id("") == nil)
        #expect(id("req with space") == nil)
        #expect(id("req_\u{1B}[31m") == nil)
        #expect(id("req_é") == nil)
        #expect(id(String(repeating: "a", count: RequestID.maxLength)) != nil)
        #expect(id(String(repeating: "a", count: RequestID.maxLength + 1)) == nil)
        #expect(RequestID.from(HTTPHeaders()) == nil)
        #expect(RequestID.appending("req_1", to: "failed") == "failed (request id req_1)")
        #expect(RequestID.appending("req_1", to: "failed (request id req_1)") == "failed (request id req_1)")
        #expect(RequestID.appending(nil, to: "failed") == "failed")
    }
}
