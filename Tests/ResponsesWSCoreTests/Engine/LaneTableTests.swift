import Testing
@testable import ResponsesWSCore

/// The lane table of one shared connection, without a socket: admissions, names and routing.
@Suite struct LaneTableTests {
    final class Owner {}

    private func route(_ table: inout LaneTable<Owner>, _ streamID: String, terminal: Bool = false) -> LaneTable<Owner>.Route {
        Array(streamID.utf8).withUnsafeBytes { table.route(streamID: $0, terminal: terminal) }
    }

    private func routesTo(_ route: LaneTable<Owner>.Route) -> Owner? {
        if case .owner(let o) = route { return o }
        return nil
    }

    @Test func theFirstSessionTakesTheDefaultLaneAndTheOthersGetNames() {
        var table = LaneTable<Owner>(maxOwners: 16, generatesNames: true)
        let a = Owner(), b = Owner(), c = Owner()
        #expect(table.admit(a, requested: nil) == .some(nil))
        #expect(table.admit(b, requested: nil) == .some("rws.1"))
        #expect(table.admit(c, requested: "main") == .some("main"))
        #expect(table.ownerCount == 3)
        #expect(table.namesUsed == 2)
        #expect(routesTo(route(&table, "")) === a)
        #expect(routesTo(route(&table, "rws.1")) === b)
        #expect(routesTo(route(&table, "main")) === c)
        #expect(table.admit(a, requested: nil) == nil, "an owner holds one lane")
    }

    @Test func aNameInUseIsRefusedAndAFreedOneIsReused() {
        var table = LaneTable<Owner>(maxOwners: 16, generatesNames: true)
        let a = Owner(), b = Owner(), c = Owner()
        #expect(table.admit(a, requested: "main") == .some("main"))
        #expect(!table.canAdmit(requested: "main"))
        #expect(table.admit(b, requested: "main") == nil)
        table.remove(a)
        #expect(table.admit(b, requested: "main") == .some("main"), "reusing a used name costs no new one")
        #expect(table.namesUsed == 1)
        // Generated names of sessions that left are handed out again.
        _ = table.admit(c, requested: nil)   // the default lane
        let d = Owner(), e = Owner()
        #expect(table.admit(d, requested: nil) == .some("rws.1"))
        table.remove(d)
        #expect(table.admit(e, requested: nil) == .some("rws.1"))
        #expect(table.namesUsed == 2)
    }

    @Test func thirtyTwoNamesAreNeverFreed() {
        var table = LaneTable<Owner>(maxOwners: 32, generatesNames: true)
        for i in 0..<32 {
            let o = Owner()
            #expect(table.admit(o, requested: "lane\(i)") == .some("lane\(i)"))
            table.remove(o)
        }
        #expect(table.namesUsed == 32)
        #expect(!table.canAdmit(requested: "lane32"), "the 33rd name goes to another connection")
        #expect(table.canAdmit(requested: "lane7"), "a used name can be taken again")
        #expect(table.canAdmit(requested: nil), "the default lane does not count")
        let d = Owner()
        _ = table.admit(d, requested: nil)
        #expect(!table.canAdmit(requested: nil), "no generated name is left")
    }

    @Test func theServersRefusalStopsNewNames() {
        var table = LaneTable<Owner>(maxOwners: 16, generatesNames: true)
        let a = Owner(), b = Owner()
        _ = table.admit(a, requested: "one")
        _ = table.admit(b, requested: "two")
        table.nameRefused(for: b)
        #expect(table.lane(of: b) == nil)
        #expect(!table.canAdmit(requested: "three"))
        #expect(!table.canAdmit(requested: "two"), "the refused name was never taken")
        table.remove(a)
        #expect(table.canAdmit(requested: "one"))
    }

    @Test func oneSessionPerConnectionNeverGeneratesNames() {
        var table = LaneTable<Owner>(maxOwners: 1, generatesNames: false)
        let a = Owner(), b = Owner()
        #expect(table.admit(a, requested: nil) == .some(nil))
        #expect(!table.canAdmit(requested: nil))
        #expect(!table.canAdmit(requested: "x"))
        table.remove(a)
        #expect(table.admit(b, requested: "x") == .some("x"))
    }

    @Test func sessionsBeyondTheLimitAreRefused() {
        var table = LaneTable<Owner>(maxOwners: 16, generatesNames: true)
        let owners = (0..<16).map { _ in Owner() }
        for o in owners { #expect(table.admit(o, requested: nil) != nil) }
        #expect(!table.canAdmit(requested: nil))
        #expect(!table.canAdmit(requested: "other"))
        table.remove(owners[3])
        #expect(table.canAdmit(requested: nil))
    }

    @Test func aPoisonedLaneDropsEventsUpToItsTerminalEvent() {
        var table = LaneTable<Owner>(maxOwners: 16, generatesNames: true)
        let a = Owner(), b = Owner()
        _ = table.admit(a, requested: nil)
        _ = table.admit(b, requested: "b")
        table.poison(b)
        #expect(table.isPoisoned(b))
        if case .discard = route(&table, "b") {} else { Issue.record("a poisoned lane's delta is delivered") }
        #expect(routesTo(route(&table, "")) === a, "other lanes are not affected")
        if case .discard = route(&table, "b", terminal: true) {} else { Issue.record("the terminal event is delivered") }
        #expect(!table.isPoisoned(b))
        #expect(routesTo(route(&table, "b")) === b, "the next response is the owner's again")
    }

    @Test func aPoisonedLaneKeepsDiscardingAfterItsOwnerLeft() {
        var table = LaneTable<Owner>(maxOwners: 16, generatesNames: true)
        let a = Owner(), b = Owner()
        _ = table.admit(a, requested: "x")
        table.poison(a)
        table.remove(a)
        #expect(table.admit(b, requested: "x") == nil, "the cancelled response still runs on it")
        _ = route(&table, "x", terminal: true)
        #expect(table.admit(b, requested: "x") == .some("x"))
    }

    @Test func eventsWithoutAnOwnerAreTheConnectionsOrDropped() {
        var table = LaneTable<Owner>(maxOwners: 16, generatesNames: true)
        if case .connection = route(&table, "") {} else { Issue.record("no stream_id and no default-lane owner") }
        if case .discard = route(&table, "nobody") {} else { Issue.record("an unknown lane") }
        let a = Owner()
        _ = table.admit(a, requested: "a")
        table.remove(a)
        if case .discard = route(&table, "a") {} else { Issue.record("a lane whose owner left") }
    }
}
