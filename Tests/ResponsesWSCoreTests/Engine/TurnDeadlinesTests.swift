import NIOCore
import Testing
@testable import ResponsesWSCore

/// The turn's time limits with instants made up by the test: no clock, no sleep.
@Suite struct TurnDeadlinesTests {
    let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)

    @Test func theEarliestLimitIsNext() {
        let limits = TurnDeadlines(total: .seconds(60), firstEvent: .seconds(5), idle: .seconds(30))
        var times = TurnDeadlines.Times(startedAt: t0, lastEventAt: t0, firstEventAt: nil)
        #expect(limits.next(times) == t0 + .seconds(5))
        times.firstEventAt = t0 + .seconds(1)
        times.lastEventAt = t0 + .seconds(40)
        #expect(limits.next(times) == t0 + .seconds(60), "the idle limit counts from the last event")
        #expect(TurnDeadlines().next(times) == nil)
    }

    @Test func eachLimitExpiresAtItsMoment() {
        let limits = TurnDeadlines(total: .seconds(60), firstEvent: .seconds(5), idle: .seconds(30))
        let waiting = TurnDeadlines.Times(startedAt: t0, lastEventAt: t0, firstEventAt: nil)
        #expect(limits.verdict(waiting, now: t0 + .milliseconds(4999)) == .rearm)
        guard case .expired(let first) = limits.verdict(waiting, now: t0 + .seconds(5)) else { Issue.record("first event"); return }
        #expect(first.contains("first_event_timeout_ms (5000 ms)"))
        let streaming = TurnDeadlines.Times(startedAt: t0, lastEventAt: t0 + .seconds(20), firstEventAt: t0 + .seconds(1))
        #expect(limits.verdict(streaming, now: t0 + .seconds(49)) == .rearm)
        guard case .expired(let idle) = limits.verdict(streaming, now: t0 + .seconds(50)) else { Issue.record("idle"); return }
        #expect(idle.contains("idle_timeout_ms (30000 ms)"))
        guard case .expired(let total) = limits.verdict(streaming, now: t0 + .seconds(60)) else { Issue.record("total"); return }
        #expect(total.contains("total_timeout_ms"))
    }

    @Test func aPausedReaderRestartsTheIdleClockButNotTheTotal() {
        let limits = TurnDeadlines(total: .seconds(60), idle: .seconds(30))
        let paused = TurnDeadlines.Times(startedAt: t0, lastEventAt: t0, firstEventAt: t0, readingPaused: true)
        #expect(limits.verdict(paused, now: t0 + .seconds(45)) == .restartIdle)
        guard case .expired = limits.verdict(paused, now: t0 + .seconds(60)) else { Issue.record("total while paused"); return }
    }
}
