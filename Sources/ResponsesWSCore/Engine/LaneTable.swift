/// The lanes of one shared connection as a state machine (§5.1): which session owns which lane,
/// the names the connection has used (the server counts at most 32 distinct names over a
/// connection's life and never frees one), and lanes poisoned by a cancel, whose events are
/// discarded until their terminal event (§5.9). It answers admissions and routes events; it
/// owns no socket and calls nothing, so it is unit-tested with plain objects as owners.
struct LaneTable<Owner: AnyObject> {
    /// §5.1: distinct named stream_ids per connection; the default lane does not count.
    static var maxNames: Int { 32 }
    /// Names given to sessions that asked for none while the default lane was taken.
    static var generatedPrefix: String { "rws." }

    struct Lane {
        /// nil is the default lane (no stream_id on the wire).
        let name: String?
        let nameBytes: [UInt8]
        var owner: Owner?
        /// A cancelled response still runs on the lane: discard its events up to its end.
        var poisoned = false
        var isFree: Bool { owner == nil && !poisoned }
    }

    /// How many sessions may share the connection (each has at most one turn in flight, so the
    /// default, 16, is the server's in-flight limit). 1: one connection per session.
    let maxOwners: Int
    /// Whether sessions without a stream_id get a generated name when the default lane is taken.
    let generatesNames: Bool
    private(set) var defaultLane = Lane(name: nil, nameBytes: [])
    private(set) var named: [Lane] = []
    private var generated = 0
    /// The server refused a new name before our count said so (a server with a lower limit):
    /// no new name is sent on this connection any more.
    private(set) var namesExhausted = false

    init(maxOwners: Int, generatesNames: Bool) {
        self.maxOwners = maxOwners
        self.generatesNames = generatesNames
    }

    /// Every name sent on the connection so far (never freed, as on the server).
    var namesUsed: Int { named.count }
    private var hasNameLeft: Bool { named.count < Self.maxNames && !namesExhausted }
    var owners: [Owner] { ([defaultLane] + named).compactMap(\.owner) }
    var ownerCount: Int { (defaultLane.owner == nil ? 0 : 1) + named.reduce(0) { $0 + ($1.owner == nil ? 0 : 1) } }

    /// Where a session would go.
    private enum Admission {
        case defaultLane
        case existing(Int)
        case new(String)
    }

    private func admission(requested: String?) -> Admission? {
        guard ownerCount < maxOwners else { return nil }
        if let name = requested {
            if let i = named.firstIndex(where: { $0.name == name }) { return named[i].isFree ? .existing(i) : nil }
            return hasNameLeft ? .new(name) : nil
        }
        if defaultLane.isFree { return .defaultLane }
        guard generatesNames else { return nil }
        // A generated name the connection already used and nobody holds costs no new slot.
        if let i = named.firstIndex(where: { $0.isFree && $0.name!.hasPrefix(Self.generatedPrefix) }) { return .existing(i) }
        guard hasNameLeft else { return nil }
        var n = generated
        repeat { n += 1 } while named.contains { $0.name == "\(Self.generatedPrefix)\(n)" }
        return .new("\(Self.generatedPrefix)\(n)")
    }

    /// Whether a session asking for `requested` (nil: any lane) would be admitted.
    func canAdmit(requested: String?) -> Bool { admission(requested: requested) != nil }

    /// Gives `owner` a lane: its own `requested` name, else the default lane when free, else a
    /// generated name. Returns the lane (`.some(nil)`: the default lane), or nil when the
    /// connection cannot take it (full, out of names, or that lane is in use): the client then
    /// looks for another connection.
    mutating func admit(_ owner: Owner, requested: String?) -> String?? {
        guard lane(of: owner) == nil, let admission = admission(requested: requested) else { return nil }
        switch admission {
        case .defaultLane:
            defaultLane.owner = owner
            return .some(nil)
        case .existing(let i):
            named[i].owner = owner
            return .some(named[i].name)
        case .new(let name):
            if name.hasPrefix(Self.generatedPrefix), let n = Int(name.dropFirst(Self.generatedPrefix.count)) { generated = max(generated, n) }
            named.append(Lane(name: name, nameBytes: Array(name.utf8), owner: owner))
            return .some(name)
        }
    }

    /// The lane `owner` holds (`.some(nil)`: the default lane), nil if none.
    func lane(of owner: Owner) -> String?? {
        if defaultLane.owner === owner { return .some(nil) }
        return named.first { $0.owner === owner }.map { .some($0.name!) }
    }

    /// The server answered websocket_stream_limit_reached for `owner`'s new name (§4.5): the
    /// name was not taken, and no other new name will be.
    mutating func nameRefused(for owner: Owner) {
        namesExhausted = true
        named.removeAll { $0.owner === owner }
    }

    /// The owner leaves; its name stays used. A poisoned lane stays poisoned until its terminal
    /// event, so the next session on it does not get the cancelled response's events.
    mutating func remove(_ owner: Owner) {
        update(owner) { $0.owner = nil }
    }

    /// A response on `owner`'s lane was cancelled while the server may still send it (§5.9).
    mutating func poison(_ owner: Owner) {
        update(owner) { $0.poisoned = true }
    }

    func isPoisoned(_ owner: Owner) -> Bool {
        if defaultLane.owner === owner { return defaultLane.poisoned }
        return named.first { $0.owner === owner }?.poisoned ?? false
    }

    private mutating func update(_ owner: Owner, _ change: (inout Lane) -> Void) {
        if defaultLane.owner === owner { change(&defaultLane) }
        if let i = named.firstIndex(where: { $0.owner === owner }) { change(&named[i]) }
    }

    /// Where an event goes.
    enum Route {
        case owner(Owner)
        /// A poisoned lane's event, or one for a lane nobody holds: dropped.
        case discard
        /// No stream_id and nobody on the default lane: the connection's own (§5.1).
        case connection
    }

    /// Routes one event by its stream_id bytes (empty: it has none). `terminal`: the event ends
    /// its response, which lifts a poison.
    mutating func route(streamID: UnsafeRawBufferPointer, terminal: Bool) -> Route {
        if streamID.isEmpty {
            return Self.route(&defaultLane, terminal: terminal, unowned: .connection)
        }
        guard let i = named.firstIndex(where: { $0.nameBytes.elementsEqual(streamID) }) else { return .discard }
        return Self.route(&named[i], terminal: terminal, unowned: .discard)
    }

    private static func route(_ lane: inout Lane, terminal: Bool, unowned: Route) -> Route {
        if lane.poisoned {
            if terminal { lane.poisoned = false }
            return .discard
        }
        return lane.owner.map(Route.owner) ?? unowned
    }
}
