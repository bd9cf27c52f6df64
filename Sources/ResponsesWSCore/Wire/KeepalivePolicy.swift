import NIOCore

/// When to ping and when to give up (§5.7): any incoming frame proves liveness; after `interval`
/// without one, ping; if still nothing arrives within another `interval`, the peer is dead.
/// Pure timing logic: the frame handler schedules the checks and sends the pings.
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
    private var lastReceived: NIODeadline
    private var pingSentAt: NIODeadline?

    init(interval: TimeAmount, now: NIODeadline) {
        self.interval = interval
        self.lastReceived = now
    }

    /// Called for every incoming frame; kept cheap (one store).
    mutating func frameReceived(at now: NIODeadline) {
        lastReceived = now
    }

    var firstCheck: NIODeadline { lastReceived + interval }

    mutating func check(now: NIODeadline) -> Action {
        if let pingSentAt {
            if lastReceived >= pingSentAt {
                self.pingSentAt = nil  // answered (by a pong or any other frame)
            } else if now >= pingSentAt + interval {
                return .peerIsDead
            } else {
                return .checkAgainAt(pingSentAt + interval)
            }
        }
        let idleDeadline = lastReceived + interval
        guard now >= idleDeadline else { return .checkAgainAt(idleDeadline) }
        pingSentAt = now
        return .sendPing(checkAgainAt: now + interval)
    }
}
