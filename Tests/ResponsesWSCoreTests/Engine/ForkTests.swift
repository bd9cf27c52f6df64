import NIOConcurrencyHelpers
import NIOCore
import ResponsesJSON
import ResponsesWSSim
import Testing
@testable import ResponsesWSCore

private func turn(_ session: Session, _ input: String, handler: Turn.EventHandler? = nil) throws -> Turn {
    let request = try Array(#"{"input":"\#(input)"}"#.utf8).withUnsafeBytes { try session.prepare($0) }
    return try session.start(request, handler: handler)
}

private func run(_ session: Session, _ input: String) throws -> TurnResult {
    let t = try turn(session, input)
    while case .event = t.nextEvent(timeoutMs: hangGuardMs) {}
    return t.wait(timeoutMs: hangGuardMs) ?? TurnResult(status: .again)
}

private func parent(of result: TurnResult) throws -> String? {
    try JSONValue.parse(result.responseJSON)["previous_response_id"]?.stringValue
}

/// Forks on a new lane of the parent's connection, and the barrier (PROTOCOL.md §5.3).
@Suite(.serialized) struct ForkTests {
    @Test func aForkContinuesFromTheParentsHeadOnANewLaneOfItsConnection() async throws {
        try await withSimulator { sim, client in
            let main = try client.makeSession(defaults: defaults)
            _ = try run(main, "plan the work")
            let head = try #require(main.lastResponse)
            let critic = try main.fork(streamID: "critic")
            #expect(critic.lastResponse == head)
            let review = try run(critic, "review the plan")
            #expect(review.status == .ok, "\(review.message)")
            #expect(review.incremental && !review.flags.contains(.fullResend), "only the child's new items")
            #expect(try parent(of: review) == head)
            let placement = critic.placement
            #expect(placement.lane == "critic" && placement.forkParent == head)
            #expect(placement.connectionID == main.placement.connectionID && placement.connectionID != 0)
            // Both branches go on.
            let next = try run(main, "go on")
            let nextParent = try parent(of: next)
            #expect(next.incremental && nextParent == head)
            let server = sim.stats()
            #expect(server.websocketUpgrades == 1)
            #expect(server.totals.cacheHits == 2 && server.totals.cacheMisses == 0)
            let items = try client.runOnLoop { critic.transcriptItems.count }
            #expect(items == 4, "the parent's two items and the child's two")
        }
    }

    @Test func eightForksStartBeforeTheParentGoesOn() async throws {
        try await withSimulator { sim, client in
            let main = try client.makeSession(defaults: defaults)
            _ = try run(main, "shared context")
            let head = try #require(main.lastResponse)
            let forks = try (0..<8).map { _ in try main.fork() }
            // What the server had received when each fork's response was created: the
            // parent's next create is held back until every fork's response is in progress.
            let seenAtCreated = NIOLockedValueBox<[Int]>([])
            let turns = try forks.enumerated().map { i, f in
                try turn(f, "branch \(i)") { event in
                    if event.header.type == .responseCreated {
                        let n = sim.stats().totals.createsReceived
                        seenAtCreated.withLockedValue { $0.append(n) }
                    }
                    return true
                }
            }
            let next = try run(main, "after the forks")
            let results = turns.map { $0.wait(timeoutMs: hangGuardMs) }
            #expect(results.allSatisfy { $0?.status == .ok && $0?.incremental == true })
            #expect(results.allSatisfy { $0?.flags.contains(.fullResend) == false }, "no fork missed its parent")
            #expect(try results.allSatisfy { try parent(of: $0!) == head })
            #expect(next.status == .ok && next.incremental)
            #expect(seenAtCreated.withLockedValue { $0 }.allSatisfy { $0 <= 9 }, "the parent's create came after")
            #expect(sim.stats().websocketUpgrades == 1)
            #expect(sim.stats().totals.cacheMisses == 0)
        }
    }

    @Test func aForkThatMissesItsParentIsRecoveredOnceWithTheFullContext() async throws {
        // evict@2: the fork's create is answered previous_response_not_found.
        try await withSimulator({ $0.faults = [try! FaultRule(parsing: "evict@2")] }) { sim, client in
            let main = try client.makeSession(defaults: defaults)
            _ = try run(main, "context")
            let child = try main.fork()
            let result = try run(child, "branch")
            #expect(result.status == .ok, "\(result.message)")
            #expect(result.flags.contains(.fullResend))
            #expect(try parent(of: result) == nil)
            #expect(sim.stats().totals.createsReceived == 3)
        }
    }

    @Test func forksOfForksChainFromTheirOwnParent() async throws {
        try await withSimulator { sim, client in
            let main = try client.makeSession(defaults: defaults)
            _ = try run(main, "root")
            let child = try main.fork()
            let childTurn = try run(child, "child")
            let grandchild = try child.fork()
            let result = try run(grandchild, "grandchild")
            let resultParent = try parent(of: result)
            #expect(result.incremental && resultParent == childTurn.response.id)
            #expect(grandchild.placement.forkParent == childTurn.response.id)
            #expect(sim.stats().websocketUpgrades == 1 && sim.stats().totals.cacheMisses == 0)
        }
    }

    @Test func aForkOfASessionWithoutAResponseIsAPlainSessionWithItsDefaults() async throws {
        try await withSimulator { sim, client in
            let stored = (["model": "gpt-5.6", "store": false, "instructions": "be brief"] as JSONValue).objectValue!
            let main = try client.makeSession(defaults: stored)
            let child = try main.fork(extraDefaults: (["temperature": .double(0.5)] as JSONValue).objectValue!)
            #expect(child.lastResponse == nil && child.placement.forkParent == nil)
            let result = try run(child, "hello")
            #expect(result.status == .ok && !result.incremental)
            let request = try JSONValue.parse(result.responseJSON)
            #expect(request["instructions"] == .string("be brief"))
            _ = sim
        }
    }
}
