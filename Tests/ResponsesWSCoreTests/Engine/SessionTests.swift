import NIOConcurrencyHelpers
import NIOCore
import ResponsesJSON
import ResponsesWSSim
import Synchronization
import Testing
@testable import ResponsesWSCore

/// How long a test waits for a turn before it gives up: only a guard against hangs, never a
/// timing assertion, so generous enough for a suite running in parallel on two busy cores.
let hangGuardMs: Int32 = 60_000

/// Starts a simulator for one test and a client pointed at it; stops both afterwards.
func withSimulator<R>(
    _ configure: (inout SimulatorConfig) -> Void = { _ in },
    client configureClient: (inout ClientConfig) -> Void = { _ in },
    _ body: (Simulator, ResponsesClient) async throws -> R
) async throws -> R {
    var config = SimulatorConfig()
    config.tokensPerSecond = 0
    configure(&config)
    let sim = try await Simulator.start(config)
    var clientConfig = ClientConfig()
    clientConfig.baseURL = sim.baseURL
    clientConfig.apiKey = "sk-test"
    configureClient(&clientConfig)
    let client = try ResponsesClient(clientConfig)
    do {
        let result = try await body(sim, client)
        try client.shutdown()
        await sim.shutdown()
        return result
    } catch {
        try? client.shutdown()
        await sim.shutdown()
        throw error
    }
}

extension Session {
    /// Runs one turn in pull mode and returns its result and events.
    func run(_ json: String, timeoutMs: Int32 = hangGuardMs) throws -> (TurnResult, [PendingEvent]) {
        let request = try Array(json.utf8).withUnsafeBytes { try prepare($0) }
        let turn = try start(request, handler: nil)
        var events: [PendingEvent] = []
        while case .event(let e) = turn.nextEvent(timeoutMs: timeoutMs) { events.append(e) }
        return (turn.wait(timeoutMs: timeoutMs) ?? TurnResult(status: .again), events)
    }
}

let defaults = (["model": "gpt-5.6", "store": false] as JSONValue).objectValue!

@Suite(.serialized) struct SessionTests {
    @Test func aTextTurnStreamsToCompletion() async throws {
        try await withSimulator { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, events) = try session.run(#"{"input":"hello there"}"#)
            #expect(result.status == .ok, "\(result.message)")
            #expect(result.response.status == "completed")
            #expect(!result.response.id.isEmpty)
            #expect(events.first?.header.type == .responseCreated)
            #expect(events.last?.header.type == .responseCompleted)
            #expect(events.filter { $0.header.type == .outputTextDelta }.count > 3)
            #expect(events.allSatisfy { $0.header.type == .responseCreated || !$0.responseID.isEmpty })
            #expect(session.lastResponse == result.response.id)
            #expect(result.response.inputTokens > 0)
            try session.close()
        }
    }

    @Test func followingTurnsSendOnlyNewItemsAndHitTheCache() async throws {
        try await withSimulator { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let (first, _) = try session.run(#"{"input":"one"}"#)
            let (second, _) = try session.run(#"{"input":"two"}"#)
            #expect(first.status == .ok && second.status == .ok)
            #expect(second.incremental)
            #expect(try JSONValue.parse(second.responseJSON)["previous_response_id"] == .string(first.response.id))
            #expect(second.response.cachedTokens > 0)
            let server = sim.stats().websocketConnections
            #expect(server.count == 1)
            #expect(server.first?.cacheHits == 1)
            #expect(session.counters.snapshot.incrementalSends == 1)
            let items = try client.runOnLoop { session.transcriptItems.count }
            #expect(items == 4)   // two inputs, two outputs
        }
    }

    @Test func callbacksSeeEveryEventInOrderOnTheIOThread() async throws {
        try await withSimulator { _, client in
            let session = try client.makeSession(defaults: defaults)
            let seen = NIOLockedValueBox<[Int64]>([])   // TSan sees pthread mutexes, not futexes
            let request = try Array(#"{"input":"count"}"#.utf8).withUnsafeBytes { try session.prepare($0) }
            let loop = client.loop
            let onLoop = Atomic<Bool>(true)
            let turn = try session.start(request) { event in
                if !loop.inEventLoop { onLoop.store(false, ordering: .relaxed) }
                seen.withLockedValue { $0.append(event.header.sequenceNumber) }
                return true
            }
            let result = turn.wait(timeoutMs: hangGuardMs)
            #expect(result?.status == .ok)
            let numbers = seen.withLockedValue { $0 }
            #expect(numbers == Array(0..<Int64(numbers.count)))
            let allOnLoop = onLoop.load(ordering: .relaxed)
            #expect(allOnLoop)
        }
    }

    @Test func turnsOfOneSessionRunOneAfterAnother() async throws {
        try await withSimulator { _, client in
            let session = try client.makeSession(defaults: defaults)
            var turns: [Turn] = []
            for i in 0..<5 {
                let request = try Array(#"{"input":"turn \#(i)"}"#.utf8).withUnsafeBytes { try session.prepare($0) }
                turns.append(try session.start(request, handler: nil))
            }
            let results = turns.map { $0.wait(timeoutMs: hangGuardMs) }
            #expect(results.allSatisfy { $0?.status == .ok })
            // each continued from the one before: a chain, not five new conversations
            for i in 1..<5 {
                let parent = try JSONValue.parse(results[i]!.responseJSON)["previous_response_id"]
                #expect(parent == .string(results[i - 1]!.response.id))
            }
        }
    }

    @Test func aLaterSessionReusesTheWarmConnection() async throws {
        try await withSimulator { sim, client in
            let a = try client.makeSession(defaults: defaults)
            _ = try a.run(#"{"input":"first"}"#)
            try a.close()
            let b = try client.makeSession(defaults: defaults)
            let (result, _) = try b.run(#"{"input":"second"}"#)
            #expect(result.status == .ok)
            #expect(!result.incremental)   // a new session starts a new chain
            #expect(client.counters.snapshot.connects == 1)
            #expect(sim.stats().websocketUpgrades == 1)
        }
    }

    @Test func serverErrorsEndTheTurnWithTheirStatus() async throws {
        try await withSimulator { _, client in
            let session = try client.makeSession(defaults: defaults)
            let (missing, _) = try session.run(#"{"input":"x","previous_response_id":"resp_nope"}"#)
            #expect(missing.status == .previousResponseNotFound)
            #expect(missing.errorCode == "previous_response_not_found")
            #expect(missing.message.contains("resp_nope"))
            let noModel = try client.makeSession()
            let (invalid, _) = try noModel.run(#"{"input":"x"}"#)
            #expect(invalid.status == .invalidRequest)
            #expect(invalid.errorStatus == 400)
            // the connection stays usable after request-scoped errors (§4.4)
            let (ok, _) = try session.run(#"{"input":"x","previous_response_id":null}"#)
            #expect(ok.status == .ok)
        }
    }

    @Test func aDropAfterSendingIsAnUnknownOutcomeAndNotReplayed() async throws {
        try await withSimulator({ $0.faults = [try! FaultRule(parsing: "drop-before-events@2")] }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            _ = try session.run(#"{"input":"one"}"#)
            let (lost, _) = try session.run(#"{"input":"two"}"#)
            #expect(lost.status == .outcomeUnknown)
            #expect(lost.message.contains("not replayed"))
            let (next, _) = try session.run(#"{"input":"three","previous_response_id":null}"#)
            #expect(next.status == .ok)
            let creates = sim.stats().websocketConnections.reduce(0) { $0 + $1.createsReceived }
            #expect(creates == 3)   // the lost request was sent exactly once
            #expect(session.counters.snapshot.reconnects == 1)
            #expect(session.counters.snapshot.unknownOutcomes == 1)
        }
    }

    @Test func cancelClosesTheConnectionAndKeepsTheSessionUsable() async throws {
        try await withSimulator({ $0.tokensPerSecond = 20 }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            let request = try Array(#"{"input":"slow"}"#.utf8).withUnsafeBytes { try session.prepare($0) }
            let turn = try session.start(request, handler: nil)
            guard case .event = turn.nextEvent(timeoutMs: hangGuardMs) else { Issue.record("no event"); return }
            #expect(session.cancel(turn) == .ok)
            #expect(session.cancel(turn) == .done)
            #expect(turn.result?.status == .cancelled)
            let (after, _) = try session.run(#"{"input":"again","previous_response_id":null}"#)
            #expect(after.status == .ok)
        }
    }

    @Test func httpTransportResendsTheHistory() async throws {
        try await withSimulator(client: { $0.transport = .http }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let (one, events) = try session.run(#"{"input":"first"}"#)
            let (two, _) = try session.run(#"{"input":"second"}"#)
            #expect(one.status == .ok && two.status == .ok, "\(one.message) \(two.message)")
            #expect(one.transport == .http)
            #expect(events.contains { $0.header.type == .outputTextDelta })
            #expect(two.bytesSent > one.bytesSent)
            #expect(sim.stats().httpPosts == 2)
            #expect(sim.stats().websocketUpgrades == 0)
        }
    }

    @Test func idleTimeoutEndsAStalledTurn() async throws {
        try await withSimulator({ $0.faults = [try! FaultRule(parsing: "slow:2000@1")] }, client: { $0.idleTimeoutMs = 200 }) { _, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"x"}"#)
            #expect(result.status == .timeout)
            #expect(result.message.contains("idle_timeout_ms"))
        }
    }
}
