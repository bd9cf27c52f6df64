import NIOCore
import ResponsesJSON
import ResponsesWSSim
import Testing
@testable import ResponsesWSCore

private func faults(_ rules: String...) -> (inout SimulatorConfig) -> Void {
    { config in config.faults = rules.map { try! FaultRule(parsing: $0) } }
}

private func start(_ session: Session, _ input: String) throws -> Turn {
    let request = try Array(#"{"input":"\#(input)"}"#.utf8).withUnsafeBytes { try session.prepare($0) }
    return try session.start(request, handler: nil)
}

/// Drains a pull-mode turn; its events and result.
private func finish(_ turn: Turn) -> (TurnResult, [PendingEvent]) {
    var events: [PendingEvent] = []
    while case .event(let e) = turn.nextEvent(timeoutMs: hangGuardMs) { events.append(e) }
    return (turn.wait(timeoutMs: hangGuardMs) ?? TurnResult(status: .again), events)
}

private func text(_ span: JSONSpan, in frame: ByteBuffer) -> String {
    frame.withUnsafeReadableBytes { String(decoding: UnsafeRawBufferPointer(rebasing: $0[span.start..<span.end]), as: UTF8.self) }
}

/// Sessions of one client share connections, one lane (stream_id) each (PROTOCOL.md §5.1).
@Suite(.serialized) struct LaneSharingTests {
    @Test func twentySessionsShareTwoConnectionsAndEachGetsOnlyItsEvents() async throws {
        try await withSimulator { sim, client in
            let sessions = try (0..<20).map { _ in try client.makeSession(defaults: defaults) }
            let turns = try sessions.enumerated().map { i, s in try start(s, "lane test \(i)") }
            for (i, turn) in turns.enumerated() {
                let (result, events) = finish(turn)
                #expect(result.status == .ok, "\(result.message)")
                // Every event is this turn's response's, numbered without a gap.
                #expect(events.allSatisfy { String(decoding: $0.responseID, as: UTF8.self) == result.response.id || $0.header.type == .responseCreated })
                #expect(events.map(\.header.sequenceNumber) == Array(0..<Int64(events.count)), "turn \(i)")
                let lanes = Set(events.map { text($0.header.streamID, in: $0.frame) })
                #expect(lanes.count == 1, "turn \(i) got events of \(lanes)")
            }
            #expect(sim.stats().websocketUpgrades == 2, "ceil(20 / 16) connections")
            #expect(client.counters.snapshot.connects == 2)
            let (connections, lanes) = try client.runOnLoop { (client.connectionCount, client.laneCount) }
            #expect(connections == 2 && lanes == 20)
            for s in sessions { try s.close() }
        }
    }

    @Test func oneConnectionPerSessionWhenAskedTo() async throws {
        try await withSimulator(client: { $0.lanes = .perSession }) { sim, client in
            let sessions = try (0..<3).map { _ in try client.makeSession(defaults: defaults) }
            let turns = try sessions.map { try start($0, "own connection") }
            for turn in turns { #expect(finish(turn).0.status == .ok) }
            #expect(sim.stats().websocketUpgrades == 3)
        }
    }

    @Test func eachLaneKeepsItsOwnChainOnTheSharedConnection() async throws {
        try await withSimulator { sim, client in
            let a = try client.makeSession(defaults: defaults)
            let b = try client.makeSession(defaults: defaults, streamID: "critic")
            var results: [TurnResult] = []
            for i in 0..<3 {
                let ta = try start(a, "a\(i)"), tb = try start(b, "b\(i)")
                results += [finish(ta).0, finish(tb).0]
            }
            #expect(results.allSatisfy { $0.status == .ok }, "\(results.map(\.message))")
            #expect(results.dropFirst(2).allSatisfy { $0.incremental })
            let server = sim.stats().websocketConnections
            #expect(server.count == 1)
            #expect(server.first?.cacheHits == 4)
            #expect(b.lastResponse == results[5].response.id && a.lastResponse == results[4].response.id)
        }
    }

    @Test func cancellingOneLaneDoesNotCloseTheConnectionTheOthersUse() async throws {
        // a's second create (the 3rd) is held after its first delta until one more client frame.
        try await withSimulator(faults("hold-after-first-delta@3")) { sim, client in
            let a = try client.makeSession(defaults: defaults)
            let b = try client.makeSession(defaults: defaults)
            #expect(finish(try start(b, "first")).0.status == .ok)   // b holds a lane of the connection
            #expect(finish(try start(a, "a chain")).0.status == .ok)
            let held = try start(a, "long answer")
            while case .event(let e) = held.nextEvent(timeoutMs: hangGuardMs), e.header.type != .outputTextDelta {}
            #expect(a.cancel(held) == .ok)
            #expect(held.wait(timeoutMs: hangGuardMs)?.status == .cancelled)
            // b's create releases a's response, whose remaining events a's lane discards.
            let (other, _) = finish(try start(b, "meanwhile"))
            #expect(other.status == .ok, "\(other.message)")
            let (next, events) = finish(try start(a, "after the cancel"))
            #expect(next.status == .ok, "\(next.message)")
            #expect(next.flags.contains(.fullResend), "the lane's cache now holds the cancelled response")
            #expect(events.first?.header.type == .responseCreated)
            #expect(events.allSatisfy { String(decoding: $0.responseID, as: UTF8.self) == next.response.id || $0.header.type == .responseCreated })
            let server = sim.stats()
            #expect(server.websocketUpgrades == 1)
            #expect(server.websocketConnections.first?.isOpen == true)
            #expect(server.totals.createsReceived == 5, "the cancelled request was not replayed")
        }
    }

    @Test func cancellingAloneOnTheConnectionClosesItAsBefore() async throws {
        try await withSimulator(faults("hold-after-first-delta:100@1")) { sim, client in
            let a = try client.makeSession(defaults: defaults)
            let held = try start(a, "long answer")
            while case .event(let e) = held.nextEvent(timeoutMs: hangGuardMs), e.header.type != .outputTextDelta {}
            #expect(a.cancel(held) == .ok)
            try await sim.waitForStats { $0.websocketConnections.first?.isOpen == false }
            let (next, _) = finish(try start(a, "again"))
            #expect(next.status == .ok)
            #expect(sim.stats().websocketUpgrades == 2)
        }
    }

    @Test func aDroppedSharedConnectionFailsTheTurnInFlightAndMovesTheOthers() async throws {
        try await withSimulator(faults("drop-mid-stream@3")) { sim, client in
            let a = try client.makeSession(defaults: defaults)
            let b = try client.makeSession(defaults: defaults)
            #expect(finish(try start(a, "a1")).0.status == .ok)
            #expect(finish(try start(b, "b1")).0.status == .ok)
            let (lost, _) = finish(try start(a, "a2"))
            #expect(lost.status == .outcomeUnknown, "never replayed: \(lost.message)")
            let (moved, _) = finish(try start(b, "b2"))
            #expect(moved.status == .ok, "\(moved.message)")
            #expect(moved.flags.contains(.fullResend), "store:false: b's cache went with the connection")
            let (again, _) = finish(try start(a, "a3"))
            #expect(again.status == .ok)
            #expect(sim.stats().websocketUpgrades == 2, "both sessions moved to one new connection")
            #expect(sim.stats().totals.createsReceived == 5)
        }
    }

    @Test func theServersLaneLimitMovesTheSessionToAnotherConnection() async throws {
        try await withSimulator({ $0.maxNamedLanesPerConnection = 1 }) { sim, client in
            let sessions = try (0..<3).map { _ in try client.makeSession(defaults: defaults) }
            // default lane, rws.1, then rws.2: refused by this server, so a new connection.
            for (i, s) in sessions.enumerated() {
                let (result, _) = finish(try start(s, "s\(i)"))
                #expect(result.status == .ok, "\(result.message)")
            }
            #expect(sim.stats().websocketUpgrades == 2)
            // The first connection takes no new name now, but its sessions go on there.
            #expect(finish(try start(sessions[1], "again")).0.incremental)
            let more = try client.makeSession(defaults: defaults, streamID: "named")
            #expect(finish(try start(more, "x")).0.status == .ok)
            #expect(sim.stats().websocketUpgrades == 2, "the second connection had a name left")
        }
    }

    @Test func theConnectionLimitReachesEveryLaneInFlight() async throws {
        // a's response is held mid-stream; b's create (the 2nd) gets the limit error and a close.
        try await withSimulator(faults("hold-after-first-delta:5@1", "limit@2")) { sim, client in
            let a = try client.makeSession(defaults: defaults)
            let b = try client.makeSession(defaults: defaults)
            let held = try start(a, "long answer")
            while case .event(let e) = held.nextEvent(timeoutMs: hangGuardMs), e.header.type != .outputTextDelta {}
            let (moved, _) = finish(try start(b, "limited"))
            #expect(moved.status == .ok, "nothing was delivered yet: \(moved.message)")
            #expect(moved.flags.contains(.rotated))
            let (ended, _) = finish(held)
            #expect(ended.status == .connectionLimit, "\(ended.status): \(ended.message)")
            #expect(finish(try start(a, "next")).0.status == .ok)
            #expect(sim.stats().websocketUpgrades == 2)
        }
    }

    @Test func anAgedSharedConnectionRetiresAtEachLanesOwnTurnBoundary() async throws {
        let clock = TestClock()
        try await withSimulator({ $0.now = clock.function }, client: { $0.now = clock.function; $0.warmStandby = false }) { sim, client in
            let a = try client.makeSession(defaults: defaults)
            let b = try client.makeSession(defaults: defaults)
            let (a1, _) = finish(try start(a, "a1")), (b1, _) = finish(try start(b, "b1"))
            #expect(a1.status == .ok && b1.status == .ok)
            clock.advance(by: .minutes(55))
            let (movedA, _) = finish(try start(a, "a2"))
            #expect(movedA.status == .ok && movedA.flags.contains(.rotated) && movedA.flags.contains(.fullResend))
            #expect(sim.stats().websocketConnections.first?.isOpen == true, "b still holds a lane of the old connection")
            let (movedB, _) = finish(try start(b, "b2"))
            #expect(movedB.status == .ok && movedB.flags.contains(.rotated))
            try await sim.waitForStats { $0.websocketConnections.first?.isOpen == false }
            #expect(sim.stats().websocketUpgrades == 2, "both moved to one new connection")
            #expect(a.placement.connectionID == b.placement.connectionID)
        }
    }
}
