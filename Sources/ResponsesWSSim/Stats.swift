import NIOConcurrencyHelpers
import Synchronization

/// Counters of one connection (a WebSocket session, or all HTTP requests together). Written on
/// the connection's event loop, read by tests from any thread: relaxed atomics are enough, a
/// snapshot need not be a consistent cut.
final class ConnectionCounters: Sendable {
    let id: Int
    let createsReceived = Atomic<Int>(0)
    let cacheHits = Atomic<Int>(0)
    let cacheMisses = Atomic<Int>(0)
    let storeLoads = Atomic<Int>(0)
    let bytesReceived = Atomic<Int>(0)
    let eventsSent = Atomic<Int>(0)
    let errorsSent = Atomic<Int>(0)
    let simulatedCostMicroseconds = Atomic<Int>(0)
    let wireBytesReceived = Atomic<Int>(0)
    let bytesSent = Atomic<Int>(0)
    let compressedMessagesReceived = Atomic<Int>(0)
    let compressedMessagesSent = Atomic<Int>(0)
    let steersReceived = Atomic<Int>(0)
    let steersAccepted = Atomic<Int>(0)
    let steersFailed = Atomic<Int>(0)
    let steersPending = Atomic<Int>(0)
    let steersCommitted = Atomic<Int>(0)
    let isOpen = Atomic<Bool>(true)

    init(id: Int) { self.id = id }

    enum Counter {
        case createsReceived, cacheHits, cacheMisses, storeLoads, bytesReceived, eventsSent, errorsSent, simulatedCostMicroseconds
        case wireBytesReceived, bytesSent, compressedMessagesReceived, compressedMessagesSent
        case steersReceived, steersAccepted, steersFailed, steersPending, steersCommitted
    }

    func add(_ counter: Counter, _ n: Int = 1) {
        switch counter {
        case .createsReceived: createsReceived.wrappingAdd(n, ordering: .relaxed)
        case .cacheHits: cacheHits.wrappingAdd(n, ordering: .relaxed)
        case .cacheMisses: cacheMisses.wrappingAdd(n, ordering: .relaxed)
        case .storeLoads: storeLoads.wrappingAdd(n, ordering: .relaxed)
        case .bytesReceived: bytesReceived.wrappingAdd(n, ordering: .relaxed)
        case .eventsSent: eventsSent.wrappingAdd(n, ordering: .relaxed)
        case .errorsSent: errorsSent.wrappingAdd(n, ordering: .relaxed)
        case .simulatedCostMicroseconds: simulatedCostMicroseconds.wrappingAdd(n, ordering: .relaxed)
        case .wireBytesReceived: wireBytesReceived.wrappingAdd(n, ordering: .relaxed)
        case .bytesSent: bytesSent.wrappingAdd(n, ordering: .relaxed)
        case .compressedMessagesReceived: compressedMessagesReceived.wrappingAdd(n, ordering: .relaxed)
        case .compressedMessagesSent: compressedMessagesSent.wrappingAdd(n, ordering: .relaxed)
        case .steersReceived: steersReceived.wrappingAdd(n, ordering: .relaxed)
        case .steersAccepted: steersAccepted.wrappingAdd(n, ordering: .relaxed)
        case .steersFailed: steersFailed.wrappingAdd(n, ordering: .relaxed)
        case .steersPending: steersPending.wrappingAdd(n, ordering: .relaxed)
        case .steersCommitted: steersCommitted.wrappingAdd(n, ordering: .relaxed)
        }
    }

    var snapshot: ConnectionStats {
        ConnectionStats(
            id: id,
            createsReceived: createsReceived.load(ordering: .relaxed),
            cacheHits: cacheHits.load(ordering: .relaxed),
            cacheMisses: cacheMisses.load(ordering: .relaxed),
            storeLoads: storeLoads.load(ordering: .relaxed),
            bytesReceived: bytesReceived.load(ordering: .relaxed),
            eventsSent: eventsSent.load(ordering: .relaxed),
            errorsSent: errorsSent.load(ordering: .relaxed),
            simulatedCostMicroseconds: simulatedCostMicroseconds.load(ordering: .relaxed),
            isOpen: isOpen.load(ordering: .relaxed),
            wireBytesReceived: wireBytesReceived.load(ordering: .relaxed), bytesSent: bytesSent.load(ordering: .relaxed),
            compressedMessagesReceived: compressedMessagesReceived.load(ordering: .relaxed),
            compressedMessagesSent: compressedMessagesSent.load(ordering: .relaxed),
            steersReceived: steersReceived.load(ordering: .relaxed), steersAccepted: steersAccepted.load(ordering: .relaxed),
            steersFailed: steersFailed.load(ordering: .relaxed), steersPending: steersPending.load(ordering: .relaxed),
            steersCommitted: steersCommitted.load(ordering: .relaxed))
    }
}

/// A snapshot of one WebSocket connection's counters.
public struct ConnectionStats: Sendable, Equatable {
    /// Connections are numbered from 1 in the order the server accepted them.
    public var id: Int
    /// `response.create` frames received (valid or not).
    public var createsReceived: Int
    /// Continuations whose `previous_response_id` was in this connection's cache (§5.2).
    public var cacheHits: Int
    /// Continuations that missed the cache: loaded from the store, or `previous_response_not_found`.
    public var cacheMisses: Int
    /// Misses served from the process-wide store (`store: true` parents).
    public var storeLoads: Int
    /// Payload bytes of the data messages received (text and binary), inflated when compressed.
    public var bytesReceived: Int
    /// Server events sent (error events included).
    public var eventsSent: Int
    /// `error` events sent.
    public var errorsSent: Int
    /// Simulated server cost charged (`--cost-us-per-input-kb`; a model, not a measurement).
    public var simulatedCostMicroseconds: Int
    public var isOpen: Bool
    /// Payload bytes of the data frames as they arrived (compressed when permessage-deflate was used).
    public var wireBytesReceived: Int
    /// Bytes of every frame written (headers included, compressed payloads as sent).
    public var bytesSent: Int
    /// permessage-deflate: compressed messages received from the client and sent to it.
    public var compressedMessagesReceived: Int
    public var compressedMessagesSent: Int
    /// Steering (PROTOCOL.md §4.6/§5.6): `response.steer` frames received; steers answered
    /// `response.steer.accepted`; `response.steer.failed` events (before or after acceptance);
    /// `response.steer.pending` events; steers whose input went into a response that started.
    public var steersReceived: Int
    public var steersAccepted: Int
    public var steersFailed: Int
    public var steersPending: Int
    public var steersCommitted: Int

    public init(id: Int, createsReceived: Int = 0, cacheHits: Int = 0, cacheMisses: Int = 0, storeLoads: Int = 0,
                bytesReceived: Int = 0, eventsSent: Int = 0, errorsSent: Int = 0,
                simulatedCostMicroseconds: Int = 0, isOpen: Bool = true,
                wireBytesReceived: Int = 0, bytesSent: Int = 0, compressedMessagesReceived: Int = 0, compressedMessagesSent: Int = 0,
                steersReceived: Int = 0, steersAccepted: Int = 0, steersFailed: Int = 0, steersPending: Int = 0,
                steersCommitted: Int = 0) {
        self.steersReceived = steersReceived
        self.steersAccepted = steersAccepted
        self.steersFailed = steersFailed
        self.steersPending = steersPending
        self.steersCommitted = steersCommitted
        self.wireBytesReceived = wireBytesReceived
        self.bytesSent = bytesSent
        self.compressedMessagesReceived = compressedMessagesReceived
        self.compressedMessagesSent = compressedMessagesSent
        self.id = id
        self.createsReceived = createsReceived
        self.cacheHits = cacheHits
        self.cacheMisses = cacheMisses
        self.storeLoads = storeLoads
        self.bytesReceived = bytesReceived
        self.eventsSent = eventsSent
        self.errorsSent = errorsSent
        self.simulatedCostMicroseconds = simulatedCostMicroseconds
        self.isOpen = isOpen
    }
}

/// A snapshot of the whole simulator's counters.
public struct SimulatorStats: Sendable, Equatable {
    /// TCP connections accepted (HTTP and WebSocket).
    public var connectionsAccepted: Int
    /// WebSocket connections, oldest first (open ones plus up to the 1024 most recently closed).
    public var websocketConnections: [ConnectionStats]
    /// WebSocket upgrades accepted.
    public var websocketUpgrades: Int
    /// `POST /v1/responses` requests received.
    public var httpPosts: Int
    /// Totals over all WebSocket connections ever accepted, plus HTTP continuations (which
    /// always miss: HTTP has no connection cache) and HTTP events, bytes and cost.
    public var totals: ConnectionStats
    /// Faults injected by `--fault`.
    public var faultsInjected: Int
    /// Responses held by the process-wide store.
    public var storedResponses: Int
    /// Whether the simulated cost model was on (its numbers are then a model, not a measurement).
    public var costModelEnabled: Bool

    /// One JSON object, for `rws sim --stats`.
    public var json: String {
        func counters(_ c: ConnectionStats) -> String {
            "\"creates_received\":\(c.createsReceived),\"cache_hits\":\(c.cacheHits),\"cache_misses\":\(c.cacheMisses)"
                + ",\"store_loads\":\(c.storeLoads),\"bytes_received\":\(c.bytesReceived),\"events_sent\":\(c.eventsSent)"
                + ",\"errors_sent\":\(c.errorsSent),\"wire_bytes_received\":\(c.wireBytesReceived),\"bytes_sent\":\(c.bytesSent)"
                + ",\"compressed_messages_received\":\(c.compressedMessagesReceived)"
                + ",\"compressed_messages_sent\":\(c.compressedMessagesSent)"
                + ",\"steers_received\":\(c.steersReceived),\"steers_accepted\":\(c.steersAccepted)"
                + ",\"steers_failed\":\(c.steersFailed),\"steers_pending\":\(c.steersPending)"
                + ",\"steers_committed\":\(c.steersCommitted)"
        }
        var out = "{\"stats\":\"rws_sim\",\"connections_accepted\":\(connectionsAccepted)"
        out += ",\"websocket_upgrades\":\(websocketUpgrades),\"http_posts\":\(httpPosts)"
        out += ",\"faults_injected\":\(faultsInjected),\"stored_responses\":\(storedResponses)"
        out += ",\"totals\":{\(counters(totals))}"
        if costModelEnabled {
            out += ",\"simulated_cost\":{\"label\":\"SIMULATED server cost from --cost-us-per-input-kb; a model, not a measurement\""
            out += ",\"microseconds\":\(totals.simulatedCostMicroseconds)}"
        }
        out += ",\"connections\":["
        out += websocketConnections.map { "{\"id\":\($0.id),\"open\":\($0.isOpen),\(counters($0))}" }.joined(separator: ",")
        out += "]}"
        return out
    }
}

/// All connections' counters: the live ones, a bounded tail of closed ones, and the folded
/// totals of those dropped from the tail.
final class StatsRegistry: Sendable {
    private struct State {
        var nextID = 1
        var connections: [ConnectionCounters] = []
        var retired = ConnectionStats(id: 0, isOpen: false)
        var upgrades = 0
        /// Bumped when a WebSocket connection opens or closes; wakes `waitForChange`.
        var generation = 0
        var watchers: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())
    private let accepted = Atomic<Int>(0)
    let http = ConnectionCounters(id: 0)
    private static let closedToKeep = 1024

    func connectionAccepted() { accepted.wrappingAdd(1, ordering: .relaxed) }

    func registerWebSocket() -> ConnectionCounters {
        defer { changed() }
        return state.withLockedValue { s in
            let counters = ConnectionCounters(id: s.nextID)
            s.nextID += 1
            s.upgrades += 1
            s.connections.append(counters)
            var closed = s.connections.count(where: { !$0.isOpen.load(ordering: .relaxed) })
            while closed > Self.closedToKeep, let i = s.connections.firstIndex(where: { !$0.isOpen.load(ordering: .relaxed) }) {
                s.retired = Self.sum(s.retired, s.connections.remove(at: i).snapshot)
                closed -= 1
            }
            return counters
        }
    }

    /// Marks a WebSocket connection closed (idempotent) and wakes the stats waiters.
    func connectionClosed(_ counters: ConnectionCounters) {
        guard counters.isOpen.exchange(false, ordering: .relaxed) else { return }
        changed()
    }

    /// Wakes every `waitForChange` caller (also used as the waiters' hang guard).
    func changed() {
        let woken = state.withLockedValue { s in
            s.generation += 1
            defer { s.watchers.removeAll() }
            return s.watchers
        }
        for watcher in woken { watcher.resume() }
    }

    var generation: Int { state.withLockedValue { $0.generation } }

    /// Returns once `changed()` was called after `generation` was read.
    func waitForChange(after generation: Int) async {
        await withCheckedContinuation { (watcher: CheckedContinuation<Void, Never>) in
            let now = state.withLockedValue { s in
                if s.generation != generation { return true }
                s.watchers.append(watcher)
                return false
            }
            if now { watcher.resume() }
        }
    }

    func snapshot(faultsInjected: Int, storedResponses: Int, costModelEnabled: Bool) -> SimulatorStats {
        let (connections, retired, upgrades) = state.withLockedValue { s in (s.connections.map(\.snapshot), s.retired, s.upgrades) }
        var totals = connections.reduce(retired, Self.sum)
        totals = Self.sum(totals, http.snapshot)
        totals.id = 0
        totals.isOpen = false
        return SimulatorStats(
            connectionsAccepted: accepted.load(ordering: .relaxed), websocketConnections: connections,
            websocketUpgrades: upgrades, httpPosts: http.createsReceived.load(ordering: .relaxed), totals: totals,
            faultsInjected: faultsInjected, storedResponses: storedResponses, costModelEnabled: costModelEnabled)
    }

    private static func sum(_ a: ConnectionStats, _ b: ConnectionStats) -> ConnectionStats {
        ConnectionStats(
            id: 0, createsReceived: a.createsReceived + b.createsReceived, cacheHits: a.cacheHits + b.cacheHits,
            cacheMisses: a.cacheMisses + b.cacheMisses, storeLoads: a.storeLoads + b.storeLoads,
            bytesReceived: a.bytesReceived + b.bytesReceived, eventsSent: a.eventsSent + b.eventsSent,
            errorsSent: a.errorsSent + b.errorsSent,
            simulatedCostMicroseconds: a.simulatedCostMicroseconds + b.simulatedCostMicroseconds, isOpen: false,
            wireBytesReceived: a.wireBytesReceived + b.wireBytesReceived, bytesSent: a.bytesSent + b.bytesSent,
            compressedMessagesReceived: a.compressedMessagesReceived + b.compressedMessagesReceived,
            compressedMessagesSent: a.compressedMessagesSent + b.compressedMessagesSent,
            steersReceived: a.steersReceived + b.steersReceived, steersAccepted: a.steersAccepted + b.steersAccepted,
            steersFailed: a.steersFailed + b.steersFailed, steersPending: a.steersPending + b.steersPending,
            steersCommitted: a.steersCommitted + b.steersCommitted)
    }
}
