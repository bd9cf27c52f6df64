#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOEmbedded
import Synchronization
import Testing
@testable import ResponsesWSCore

/// The pull queue's own rules, without sockets: when the notification fd is readable, and when
/// a paused turn asks to read again (max_queued_bytes).
@Suite struct PullQueueTests {
    private func event(_ n: Int, padding: Int = 0) throws -> PendingEvent {
        let json = #"{"type":"response.output_text.delta","sequence_number":\#(n),"delta":"\#(String(repeating: "x", count: padding))"}"#
        let frame = ByteBuffer(string: json)
        let header = try frame.withUnsafeReadableBytes { try EventHeader.decode($0) }
        return PendingEvent(frame: frame, header: header, responseID: [])
    }

    private func readable(_ fd: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, 0) == 1
    }

    @Test func theFDIsReadableExactlyWhileAPullWouldNotWait() throws {
        let loop = EmbeddedEventLoop()
        let turn = Turn(request: .empty, handler: nil)
        let fd = try turn.notificationFD()
        #expect(try turn.notificationFD() == fd)
        #expect(!readable(fd), "nothing queued yet")

        turn.enqueue(try event(0), on: loop)
        #expect(!readable(fd), "staged, not yet published to the reader")
        loop.run()
        #expect(readable(fd), "published")

        var batch: [PendingEvent] = []
        guard case .event = turn.nextEvents(timeoutMs: 0, max: .max, into: &batch) else { Issue.record("no event"); return }
        #expect(batch.count == 1)
        #expect(!readable(fd), "drained: lowered")
        guard case .timeout = turn.nextEvents(timeoutMs: 0, max: .max, into: &batch) else { Issue.record("not empty"); return }

        turn.enqueue(try event(1), on: loop)
        loop.run()
        turn.complete(TurnResult(status: .ok))
        #expect(readable(fd))
        _ = turn.nextEvents(timeoutMs: 0, max: .max, into: &batch)
        #expect(readable(fd), "ended: stays readable")
        guard case .done = turn.nextEvents(timeoutMs: 0, max: .max, into: &batch) else { Issue.record("not done"); return }

        turn.closeNotifications()
        #expect(fcntl(fd, F_GETFD) == -1, "closed by closeNotifications (rws_turn_free)")
        #expect(throws: RWSError.self) { try turn.notificationFD() }
    }

    @Test func anFDMadeAfterEventsArrivedStartsReadable() throws {
        let loop = EmbeddedEventLoop()
        let turn = Turn(request: .empty, handler: nil)
        turn.enqueue(try event(0), on: loop)
        loop.run()
        #expect(readable(try turn.notificationFD()))
    }

    @Test func overTheLimitPausesAndDrainingHalfResumesOnce() throws {
        let loop = EmbeddedEventLoop()
        let each = Turn.queuedSize(of: try event(0, padding: 1000))
        let turn = Turn(request: .empty, handler: nil, maxQueuedBytes: 4 * each)
        let resumes = Atomic<Int>(0)
        turn.onDrained = { resumes.add(1, ordering: .relaxed) }

        var overAt: [Int] = []
        for n in 0..<6 where turn.enqueue(try event(n, padding: 1000), on: loop) { overAt.append(n) }
        loop.run()
        #expect(overAt == [4], "the fifth event goes over the limit; later ones do not pause again")
        #expect(turn.isReadingPaused)

        var batch: [PendingEvent] = []
        _ = turn.nextEvents(timeoutMs: 0, max: .max, into: &batch)
        #expect(batch.count == 6, "nothing was dropped")
        turn.released(bytes: 3 * each)
        #expect(resumes.load(ordering: .relaxed) == 0, "3 of 6 left: still above half the limit")
        turn.released(bytes: each)
        #expect(resumes.load(ordering: .relaxed) == 1, "2 left: resume")
        #expect(!turn.isReadingPaused)
        turn.released(bytes: 2 * each)
        #expect(resumes.load(ordering: .relaxed) == 1, "resumed once")
    }

    @Test func aSingleEventLargerThanTheLimitIsStillQueued() throws {
        let loop = EmbeddedEventLoop()
        let turn = Turn(request: .empty, handler: nil, maxQueuedBytes: 64)
        #expect(turn.enqueue(try event(0, padding: 4096), on: loop))
        loop.run()
        var batch: [PendingEvent] = []
        guard case .event = turn.nextEvents(timeoutMs: 0, max: .max, into: &batch) else { Issue.record("not delivered"); return }
        #expect(batch[0].frame.readableBytes > 4096)
    }
}
