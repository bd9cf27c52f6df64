import NIOCore

/// When to ping and when to give up (§5.7): any incoming frame proves liveness; after `interval`
/// without one, ping; if still nothing arrives within another `interval`, the peer is dead.
/// Pure timing logic: the frame handler schedules the checks and sends the pings.
///
/// A check that runs late (our event loop was busy, e.g. encrypting a huge message) cannot tell
/// a dead peer from an answer still waiting in the socket, so it first re-checks shortly after,
/// once the loop has had a chance to read.
struct KeepalivePolicy {
    enum Action: Equatable {
        /// Send a ping now, check again at the deadline.
        case sendPing(checkAgainAt: NIODeadline)
        /// Nothing to do until then.
        case checkAgainAt(NIODeadline)
        /// No frame within an interval after our ping.
        case peerIsDead
    }

    let interval: TimeAmount
    private let lateness: TimeAmount
    private var lastReceived: NIODeadline
    private var pingSentAt: NIODeadline?
    /// Set when a late check postponed its verdict.
    private var confirmingAt: NIODeadline?

    init(interval: TimeAmount, now: NIODeadline) {
        self.interval = interval
        self.lateness = .nanoseconds(max(interval.nanoseconds / 10, 1_000_000))
        self.lastReceived = now
    }

    /// Called for every incoming frame; kept cheap (one store).
    mutating func frameReceived(at now: NIODeadline) {
        lastReceived = now
    }

    /// Starts over as if a frame arrived now: used while reading is paused on purpose, when
    /// an unanswered ping proves nothing.
    mutating func restart(at now: NIODeadline) {
        lastReceived = now
        pingSentAt = nil
        confirmingAt = nil
    }

    var firstCheck: NIODeadline { lastReceived + interval }

    mutating func check(now: NIODeadline) -> Action {
        if let pingSentAt {
            let pongDeadline = pingSentAt + interval
            if lastReceived >= pingSentAt {
                self.pingSentAt = nil  // answered (by a pong or any other frame)
                confirmingAt = nil
            } else if now < pongDeadline {
                return .checkAgainAt(pongDeadline)
            } else if confirmingAt == nil && now - pongDeadline > lateness {
                let confirmAt = now + lateness
                confirmingAt = confirmAt
                return .checkAgainAt(confirmAt)
            } else {
                return .peerIsDead
            }
        }
        let idleDeadline = lastReceived + interval
        guard now >= idleDeadline else { return .checkAgainAt(idleDeadline) }
        pingSentAt = now
        return .sendPing(checkAgainAt: now + interval)
    }
}
