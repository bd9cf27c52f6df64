import NIOCore

/// A turn's time limits (total, first event, idle) as a pure function of its timestamps and
/// the time now, which the caller passes in: the session reads the clock, tests pass any
/// instant. It answers when to look next and whether a limit has passed.
struct TurnDeadlines: Sendable {
    var total: TimeAmount?
    var firstEvent: TimeAmount?
    var idle: TimeAmount?

    /// The moments a turn's limits count from.
    struct Times: Sendable {
        var startedAt: NIODeadline
        var lastEventAt: NIODeadline
        var firstEventAt: NIODeadline?
        /// The caller is max_queued_bytes behind: the silence is theirs, not the server's.
        var readingPaused = false
    }

    enum Verdict: Equatable {
        /// Nothing has passed: look again at `next`.
        case rearm
        /// The caller paused reading: the idle clock restarts now, then look again.
        case restartIdle
        /// A limit passed: why, for the turn's message.
        case expired(String)
    }

    /// The earliest moment a limit can pass, nil when the turn has none.
    func next(_ t: Times) -> NIODeadline? {
        var deadlines: [NIODeadline] = []
        if let total { deadlines.append(t.startedAt + total) }
        if let idle { deadlines.append(t.lastEventAt + idle) }
        if t.firstEventAt == nil, let firstEvent { deadlines.append(t.startedAt + firstEvent) }
        return deadlines.min()
    }

    /// What the timer firing at `now` means. The total limit holds even while reading is
    /// paused; the idle and first-event limits do not.
    func verdict(_ t: Times, now: NIODeadline) -> Verdict {
        if let total, now >= t.startedAt + total {
            return .expired("the turn took longer than total_timeout_ms (\(total.nanoseconds / 1_000_000) ms)")
        }
        if t.readingPaused { return .restartIdle }
        if t.firstEventAt == nil, let firstEvent, now >= t.startedAt + firstEvent {
            return .expired("no event arrived within first_event_timeout_ms (\(firstEvent.nanoseconds / 1_000_000) ms)")
        }
        if let idle, now >= t.lastEventAt + idle {
            return .expired("no event for idle_timeout_ms (\(idle.nanoseconds / 1_000_000) ms)")
        }
        return .rearm
    }
}
