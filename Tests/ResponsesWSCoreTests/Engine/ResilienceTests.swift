import NIOCore
import ResponsesJSON
import ResponsesWSSim
import Testing
@testable import ResponsesWSCore

private func faults(_ rules: String...) -> (inout SimulatorConfig) -> Void {
    { config in config.faults = rules.map { try! FaultRule(parsing: $0) } }
}

private func creates(_ sim: Simulator) -> Int {
    sim.stats().totals.createsReceived
}

/// WebSocket upgrade attempts, accepted or refused: every TCP connection that was not a POST.
private func upgradeAttempts(_ sim: Simulator) -> Int {
    let stats = sim.stats()
    return stats.connectionsAccepted - stats.httpPosts
}

/// Runs `n` turns of new user messages and returns their results.
private func chat(_ session: Session, turns n: Int, from first: Int = 1) throws -> [TurnResult] {
    var results: [TurnResult] = []
    for i in first..<(first + n) {
        let (result, events) = try session.run(#"{"input":"message \#(i)"}"#)
        #expect(!events.contains { $0.header.type == .error && result.status == .ok }, "an error event leaked into turn \(i)")
        results.append(result)
    }
    return results
}

/// Counts the warm-ups that land on `session`'s standby.
private func standbyWarmups(_ session: Session, _ client: ResponsesClient) throws -> Observed<Int> {
    let landed = Observed(0)
    try client.runOnLoop { session.onStandbyReady = { landed.update { $0 += 1 } } }
    return landed
}

/// The turns that started on a connection that replaced an aged one.
private func rotatedTurns(_ results: [TurnResult]) -> [TurnResult] {
    var out: [TurnResult] = []
    for result in results where result.flags.contains(.rotated) { out.append(result) }
    return out
}

@Suite(.serialized) struct ResilienceTests {
    @Test func aCacheMissIsRecoveredOnceWithTheFullContext() async throws {
        // evict@3: the 3rd create is answered previous_response_not_found as after an eviction.
        try await withSimulator(faults("evict@3")) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let results = try chat(session, turns: 4)
            #expect(results.allSatisfy { $0.status == .ok }, "\(results.map(\.message))")
            #expect(results[2].flags.contains(.fullResend))
            #expect(!results[2].flags.contains(.incremental))
            #expect(results[3].incremental)   // the fresh chain continues incrementally
            #expect(session.counters.snapshot.fullResends == 1)
            #expect(creates(sim) == 5)        // 4 turns + 1 resend
        }
    }

    @Test func anExplicitParentThatIsMissingIsNotRecovered() async throws {
        try await withSimulator { _, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"x","previous_response_id":"resp_gone"}"#)
            #expect(result.status == .previousResponseNotFound)
            #expect(session.counters.snapshot.fullResends == 0)
        }
    }

    @Test func aDropAfterTheRequestIsNeverReplayed() async throws {
        try await withSimulator(faults("drop-before-events@4")) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let results = try chat(session, turns: 5)
            #expect(results[3].status == .outcomeUnknown)
            #expect(results[4].status == .ok)
            #expect(results[4].flags.contains(.reconnected))
            #expect(results[4].flags.contains(.fullResend))   // store:false chain lost with the socket
            #expect(creates(sim) == 5)                        // no duplicate of turn 4
            #expect(session.counters.snapshot.unknownOutcomes == 1)
        }
    }

    @Test func aStoredChainContinuesOnANewConnectionByID() async throws {
        let stored = (["model": "gpt-5.6", "store": true] as JSONValue).objectValue!
        try await withSimulator(faults("close-1011@2")) { sim, client in
            let session = try client.makeSession(defaults: stored)
            let results = try chat(session, turns: 3)
            #expect(results[1].status == .outcomeUnknown)
            #expect(results[2].status == .ok)
            #expect(results[2].incremental)   // store:true: the server loads the parent (§5.2)
            #expect(!results[2].flags.contains(.fullResend))
            #expect(sim.stats().totals.storeLoads == 1)
        }
    }

    @Test func theConnectionLimitMovesToANewConnectionSilently() async throws {
        try await withSimulator(faults("limit@5")) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let results = try chat(session, turns: 6)
            #expect(results.allSatisfy { $0.status == .ok }, "\(results.map(\.message))")
            #expect(results[4].flags.contains(.rotated))
            #expect(session.counters.snapshot.rotations == 1)
            #expect(session.counters.snapshot.reconnects == 0)
            #expect(sim.stats().websocketUpgrades == 2)
        }
    }

    @Test func aLimitPushedOnAnIdleSocketIsNotAnError() async throws {
        let clock = TestClock()
        try await withSimulator({ $0.pushLimitWhenIdle = true; $0.now = clock.function },
                                client: { $0.maxConnectionAgeMs = 0 }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let first = try chat(session, turns: 1)
            clock.advance(by: .seconds(3600))
            sim.checkConnectionAges()   // the server pushes websocket_connection_limit_reached, then closes
            // The server counts the socket closed once the client answered its close frame,
            // which the client does after it has read the limit error that came first.
            try await sim.waitForStats { $0.websocketConnections.first?.isOpen == false }
            let second = try chat(session, turns: 1)
            #expect(first[0].status == .ok && second[0].status == .ok, "\(second[0].message)")
            #expect(session.counters.snapshot.rotations == 1)
            #expect(sim.stats().websocketUpgrades == 2)
        }
    }

    /// The default limits (the client retires a connection at 54 min and prepares a standby
    /// from 53 min on; the server's limit is 60 min), aged with a test clock shared by both.
    @Test func rotationHappensAtTurnBoundariesAndStaysIncremental() async throws {
        let clock = TestClock()
        try await withSimulator({ $0.now = clock.function }, client: { $0.now = clock.function }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let warmups = try standbyWarmups(session, client)
            var results = try chat(session, turns: 2)
            clock.advance(by: .minutes(53) + .seconds(10))
            results += try chat(session, turns: 1, from: 3)   // ends in the standby window: a standby warms up
            try await warmups.wait("the standby's warm-up") { $0 >= 1 }
            results += try chat(session, turns: 1, from: 4)   // not yet too old; the standby catches up
            try await warmups.wait("the standby catching up") { $0 >= 2 }
            clock.advance(by: .minutes(1))
            results += try chat(session, turns: 3, from: 5)   // the first of these rotates onto the standby
            #expect(results.allSatisfy { $0.status == .ok }, "\(results.map(\.message))")
            #expect(rotatedTurns(results).count == 1 && results[4].flags.contains(.rotated), "\(results.map(\.flags.rawValue))")
            #expect(results[4].incremental && !results[4].flags.contains(.fullResend), "\(results[4].flags.rawValue)")
            #expect(results[5].incremental && results[6].incremental)
            #expect(session.counters.snapshot.rotations == 1)
            #expect(session.counters.snapshot.fullResends == 0)
            #expect(sim.stats().websocketUpgrades == 2)
            #expect(sim.stats().totals.errorsSent == 0)   // never hit the server's limit
        }
    }

    @Test func withoutStandbyARotatedTurnResendsTheContext() async throws {
        let clock = TestClock()
        try await withSimulator({ $0.now = clock.function }, client: { $0.now = clock.function; $0.warmStandby = false }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            var results = try chat(session, turns: 2)
            clock.advance(by: .minutes(54) + .seconds(10))
            results += try chat(session, turns: 2, from: 3)
            #expect(results.allSatisfy { $0.status == .ok })
            #expect(rotatedTurns(results).count == 1 && results[2].flags.contains(.rotated), "\(results.map(\.flags.rawValue))")
            #expect(results[2].flags.contains(.fullResend))
            #expect(results[3].incremental)
            #expect(sim.stats().websocketUpgrades == 2)
        }
    }

    @Test func upgrade426FallsBackToHTTPAtOnceAndIsRemembered() async throws {
        try await withSimulator({ $0.rejectUpgradeStatus = 426 }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let results = try chat(session, turns: 3)
            #expect(results.allSatisfy { $0.status == .ok && $0.transport == .http })
            #expect(results[0].flags.contains(.fallback))
            #expect(upgradeAttempts(sim) == 1)   // no WebSocket retries
            let later = try client.makeSession(defaults: defaults)
            let (result, _) = try later.run(#"{"input":"later session"}"#)
            #expect(result.status == .ok && result.transport == .http)
            #expect(upgradeAttempts(sim) == 1)   // the client remembered: no second probe
            #expect(client.counters.snapshot.fallbacks == 1)
        }
    }

    @Test func upgrade404FallsBackAfterASmallBudget() async throws {
        try await withSimulator({ $0.rejectUpgradeStatus = 404 }, client: { $0.reconnectDelayMs = 10 }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .ok && result.transport == .http)
            #expect(upgradeAttempts(sim) == 2)   // fallback_after_failures = 2
        }
    }

    @Test func withoutFallbackA404FailsAtOnce() async throws {
        try await withSimulator({ $0.rejectUpgradeStatus = 404 }, client: { $0.fallback = .never }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .upgradeRefused)
            #expect(result.message.contains("404"))
            #expect(upgradeAttempts(sim) == 1)
        }
    }

    @Test func aRejectedKeyIsNotRetried() async throws {
        try await withSimulator({ $0.apiKey = "sk-right" }, client: { $0.apiKey = "sk-wrong-key-0123" }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"hi"}"#)
            #expect(result.status == .auth)
            #expect(!result.message.contains("sk-wrong-key-0123"))
            #expect(upgradeAttempts(sim) == 1)
        }
    }

    @Test func refusedConnectsAreRetriedWithinTheBudget() async throws {
        var config = ClientConfig()
        config.baseURL = "http://127.0.0.1:9/v1"   // discard port: nothing listens
        config.apiKey = "sk-test"
        config.maxReconnects = 2
        config.reconnectDelayMs = 10
        config.fallback = .never
        let client = try ResponsesClient(config)
        defer { try? client.shutdown() }
        let session = try client.makeSession(defaults: defaults)
        let (result, _) = try session.run(#"{"input":"hi"}"#)
        #expect(result.status == .connect)
        #expect(result.flags.isEmpty)
    }

    @Test func fullHistoryCallersGetIncrementalSends() async throws {
        try await withSimulator { sim, client in
            let session = try client.makeSession(defaults: defaults, inputMode: .fullHistory)
            var history: [JSONValue] = []
            var results: [TurnResult] = []
            for i in 1...3 {
                history.append(["type": "message", "role": "user", "content": .string("question \(i)")])
                let body: JSONValue = ["input": .array(history)]
                let (result, _) = try session.run(body.serializedString)
                results.append(result)
                // as an SDK user would: append the output items to the history
                history += try result.response.outputItems.map { try JSONValue.parse($0) }
            }
            #expect(results.allSatisfy { $0.status == .ok })
            #expect(!results[0].incremental)
            #expect(results[1].incremental && results[2].incremental)
            #expect(sim.stats().totals.cacheHits == 2)
            // a changed field breaks the chain: the full request goes on a fresh chain
            history.append(["type": "message", "role": "user", "content": "with other instructions"])
            let (changed, _) = try session.run((["input": .array(history), "instructions": "be terse"] as JSONValue).serializedString)
            #expect(changed.status == .ok)
            #expect(!changed.incremental)
        }
    }

    @Test func prewarmOpensTheConnectionAndPreparesTheChain() async throws {
        try await withSimulator { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let handshake = try session.prewarm(nil)
            #expect(handshake.wait(timeoutMs: hangGuardMs)?.status == .ok)
            #expect(client.counters.snapshot.connects == 1)   // the client saw the 101
            #expect(creates(sim) == 0)
            let warm = try Array(#"{"instructions":"You are terse.","input":"context to prepare"}"#.utf8)
                .withUnsafeBytes { try session.prepare($0) }
            let warmup = try session.prewarm(warm)
            let warmResult = warmup.wait(timeoutMs: hangGuardMs)
            #expect(warmResult?.status == .ok)
            #expect(warmResult?.response.outputItems.isEmpty == true)
            let (first, _) = try session.run(#"{"instructions":"You are terse.","input":[]}"#)
            #expect(first.status == .ok)
            #expect(first.incremental)   // continued from the warm-up (§5.4)
            #expect(first.response.cachedTokens > 0)
            #expect(sim.stats().websocketUpgrades == 1)
        }
    }

    @Test func cancellingFromAnotherThreadNeverReplays() async throws {
        try await withSimulator({ $0.tokensPerSecond = 30 }) { sim, client in
            let session = try client.makeSession(defaults: defaults)
            let request = try Array(#"{"input":"long"}"#.utf8).withUnsafeBytes { try session.prepare($0) }
            let turn = try session.start(request, handler: nil)
            guard case .event = turn.nextEvent(timeoutMs: hangGuardMs) else { Issue.record("no event"); return }
            let status = await Task.detached { session.cancel(turn) }.value
            #expect(status == .ok)
            #expect(turn.result?.status == .cancelled)
            let (next, _) = try session.run(#"{"input":"next"}"#)
            #expect(next.status == .ok)
            #expect(creates(sim) == 2)
        }
    }
}
