import Synchronization

/// Transport counters of a client or a session (rws_stats). Written only on the client's event
/// loop (one writer), read from any thread. With one writer an increment needs no locked
/// read-modify-write: `add` is a relaxed load and store, which costs what a plain `+=` does,
/// and readers still see whole values.
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
    public let readPauses = Atomic<UInt64>(0)

    public init() {}

    public struct Snapshot: Sendable, Equatable {
        public var turns: UInt64 = 0, turnsOK: UInt64 = 0, events: UInt64 = 0
        public var bytesSent: UInt64 = 0, bytesReceived: UInt64 = 0
        public var connects: UInt64 = 0, reconnects: UInt64 = 0
        public var incrementalSends: UInt64 = 0, fullResends: UInt64 = 0
        public var fallbacks: UInt64 = 0, rotations: UInt64 = 0, unknownOutcomes: UInt64 = 0
        public var readPauses: UInt64 = 0
        public init() {}
        init(turns: UInt64, turnsOK: UInt64, events: UInt64, bytesSent: UInt64, bytesReceived: UInt64, connects: UInt64,
             reconnects: UInt64, incrementalSends: UInt64, fullResends: UInt64, fallbacks: UInt64, rotations: UInt64,
             unknownOutcomes: UInt64, readPauses: UInt64) {
            self.turns = turns; self.turnsOK = turnsOK; self.events = events; self.bytesSent = bytesSent
            self.bytesReceived = bytesReceived; self.connects = connects; self.reconnects = reconnects
            self.incrementalSends = incrementalSends; self.fullResends = fullResends; self.fallbacks = fallbacks
            self.rotations = rotations; self.unknownOutcomes = unknownOutcomes; self.readPauses = readPauses
        }
    }

    public var snapshot: Snapshot {
        Snapshot(
            turns: turns.load(ordering: .relaxed), turnsOK: turnsOK.load(ordering: .relaxed),
            events: events.load(ordering: .relaxed), bytesSent: bytesSent.load(ordering: .relaxed),
            bytesReceived: bytesReceived.load(ordering: .relaxed), connects: connects.load(ordering: .relaxed),
            reconnects: reconnects.load(ordering: .relaxed), incrementalSends: incrementalSends.load(ordering: .relaxed),
            fullResends: fullResends.load(ordering: .relaxed), fallbacks: fallbacks.load(ordering: .relaxed),
            rotations: rotations.load(ordering: .relaxed), unknownOutcomes: unknownOutcomes.load(ordering: .relaxed),
            readPauses: readPauses.load(ordering: .relaxed))
    }
}

public enum Counter: Sendable {
    case turns, turnsOK, events, bytesSent, bytesReceived, connects, reconnects
    case incrementalSends, fullResends, fallbacks, rotations, unknownOutcomes, readPauses
}

extension Counters {
    /// Adds `n` to one counter. Call on the client's event loop only (the single writer).
    @inline(__always) public func add(_ counter: Counter, _ n: UInt64 = 1) {
        switch counter {
        case .turns: Self.bump(turns, n)
        case .turnsOK: Self.bump(turnsOK, n)
        case .events: Self.bump(events, n)
        case .bytesSent: Self.bump(bytesSent, n)
        case .bytesReceived: Self.bump(bytesReceived, n)
        case .connects: Self.bump(connects, n)
        case .reconnects: Self.bump(reconnects, n)
        case .incrementalSends: Self.bump(incrementalSends, n)
        case .fullResends: Self.bump(fullResends, n)
        case .fallbacks: Self.bump(fallbacks, n)
        case .rotations: Self.bump(rotations, n)
        case .unknownOutcomes: Self.bump(unknownOutcomes, n)
        case .readPauses: Self.bump(readPauses, n)
        }
    }

    @inline(__always) private static func bump(_ counter: borrowing Atomic<UInt64>, _ n: UInt64) {
        counter.store(counter.load(ordering: .relaxed) &+ n, ordering: .relaxed)
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
