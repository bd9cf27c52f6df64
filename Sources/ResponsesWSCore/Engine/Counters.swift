import Synchronization

/// Transport counters of a client or a session (rws_stats). Lock-free: incremented on the I/O
/// thread, read from any thread.
public final class Counters: Sendable {
    public let turns = Atomic<UInt64>(0)
    public let turnsOK = Atomic<UInt64>(0)
    public let events = Atomic<UInt64>(0)
    public let bytesSent = Atomic<UInt64>(0)
    public let bytesReceived = Atomic<UInt64>(0)
    public let connects = Atomic<UInt64>(0)
    public let reconnects = Atomic<UInt64>(0)
    public let incrementalSends = Atomic<UInt64>(0)
    public let fullResends = Atomic<UInt64>(0)
    public let fallbacks = Atomic<UInt64>(0)
    public let rotations = Atomic<UInt64>(0)
    public let unknownOutcomes = Atomic<UInt64>(0)

    public init() {}

    public struct Snapshot: Sendable, Equatable {
        public var turns: UInt64 = 0, turnsOK: UInt64 = 0, events: UInt64 = 0
        public var bytesSent: UInt64 = 0, bytesReceived: UInt64 = 0
        public var connects: UInt64 = 0, reconnects: UInt64 = 0
        public var incrementalSends: UInt64 = 0, fullResends: UInt64 = 0
        public var fallbacks: UInt64 = 0, rotations: UInt64 = 0, unknownOutcomes: UInt64 = 0
        public init() {}
        init(turns: UInt64, turnsOK: UInt64, events: UInt64, bytesSent: UInt64, bytesReceived: UInt64, connects: UInt64,
             reconnects: UInt64, incrementalSends: UInt64, fullResends: UInt64, fallbacks: UInt64, rotations: UInt64,
             unknownOutcomes: UInt64) {
            self.turns = turns; self.turnsOK = turnsOK; self.events = events; self.bytesSent = bytesSent
            self.bytesReceived = bytesReceived; self.connects = connects; self.reconnects = reconnects
            self.incrementalSends = incrementalSends; self.fullResends = fullResends; self.fallbacks = fallbacks
            self.rotations = rotations; self.unknownOutcomes = unknownOutcomes
        }
    }

    public var snapshot: Snapshot {
        Snapshot(
            turns: turns.load(ordering: .relaxed), turnsOK: turnsOK.load(ordering: .relaxed),
            events: events.load(ordering: .relaxed), bytesSent: bytesSent.load(ordering: .relaxed),
            bytesReceived: bytesReceived.load(ordering: .relaxed), connects: connects.load(ordering: .relaxed),
            reconnects: reconnects.load(ordering: .relaxed), incrementalSends: incrementalSends.load(ordering: .relaxed),
            fullResends: fullResends.load(ordering: .relaxed), fallbacks: fallbacks.load(ordering: .relaxed),
            rotations: rotations.load(ordering: .relaxed), unknownOutcomes: unknownOutcomes.load(ordering: .relaxed))
    }
}

public enum Counter: Sendable {
    case turns, turnsOK, events, bytesSent, bytesReceived, connects, reconnects
    case incrementalSends, fullResends, fallbacks, rotations, unknownOutcomes
}

extension Counters {
    @inline(__always) public func add(_ counter: Counter, _ n: UInt64 = 1) {
        switch counter {
        case .turns: turns.wrappingAdd(n, ordering: .relaxed)
        case .turnsOK: turnsOK.wrappingAdd(n, ordering: .relaxed)
        case .events: events.wrappingAdd(n, ordering: .relaxed)
        case .bytesSent: bytesSent.wrappingAdd(n, ordering: .relaxed)
        case .bytesReceived: bytesReceived.wrappingAdd(n, ordering: .relaxed)
        case .connects: connects.wrappingAdd(n, ordering: .relaxed)
        case .reconnects: reconnects.wrappingAdd(n, ordering: .relaxed)
        case .incrementalSends: incrementalSends.wrappingAdd(n, ordering: .relaxed)
        case .fullResends: fullResends.wrappingAdd(n, ordering: .relaxed)
        case .fallbacks: fallbacks.wrappingAdd(n, ordering: .relaxed)
        case .rotations: rotations.wrappingAdd(n, ordering: .relaxed)
        case .unknownOutcomes: unknownOutcomes.wrappingAdd(n, ordering: .relaxed)
        }
    }
}

/// A session's counters and its client's, bumped together.
struct CounterPair: Sendable {
    let session: Counters
    let client: Counters
    @inline(__always) func add(_ counter: Counter, _ n: UInt64 = 1) {
        session.add(counter, n)
        client.add(counter, n)
    }
}
