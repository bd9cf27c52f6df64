import NIOCore
import Synchronization

/// Where a turn's request is on its way (the turn journal). It decides what a failure means:
/// before `.sending` nothing reached the server and the request may be sent again; from
/// `.sending` on the server may have run it, and it is never replayed (§5.10).
public enum TurnPhase: Int, Sendable, Comparable {
    case notSent, sending, sent, created, outputStarted, terminal
    public static func < (a: TurnPhase, b: TurnPhase) -> Bool { a.rawValue < b.rawValue }
}

/// How a turn got through (rws_turn_result.flags; raw values are the RWS_TURN_* bits).
public struct TurnFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let incremental = TurnFlags(rawValue: 1 << 0)
    public static let fullResend = TurnFlags(rawValue: 1 << 1)
    public static let reconnected = TurnFlags(rawValue: 1 << 2)
    public static let fallback = TurnFlags(rawValue: 1 << 3)
    public static let rotated = TurnFlags(rawValue: 1 << 4)
}

/// How a turn ended.
public struct TurnResult: Sendable {
    public var status: Status
    public var message: String = ""
    public var response = ResponseSummary()
    public var responseJSON: [UInt8] = []
    public var errorCode: String?
    public var errorStatus: Int32 = 0
    public var transport: Transport = .webSocket
    public var bytesSent: UInt64 = 0
    public var bytesReceived: UInt64 = 0
    public var elapsedMicros: UInt64 = 0
    public var firstEventMicros: UInt64 = 0
    public var flags: TurnFlags = []
    /// The server's `x-request-id` for the turn: of the WebSocket upgrade that carried it, or of
    /// its HTTP answer (§1.3). Quote it to support.
    public var requestID: String?
    /// Whether the request went as an incremental continuation (previous_response_id + new items).
    public var incremental: Bool { flags.contains(.incremental) }

    public init(status: Status, message: String = "") { self.status = status; self.message = message }
}

/// One `response.create` in flight and its events. Created on the caller's thread; its
/// progress is driven by its session on the client's I/O thread; its result and pull queue are
/// read from any thread.
public final class Turn: @unchecked Sendable {   // loop-confined fields + lock-guarded fields, see below
    /// Called on the I/O thread for each event; return false to stop the turn.
    public typealias EventHandler = (DeliveredEvent) -> Bool

    public let request: TurnRequest
    let handler: EventHandler?
    let startedAt: NIODeadline

    // MARK: guarded by `lock` (read from any thread)
    private let lock = ConditionLock()
    /// Pull mode: events published by the event loop, not yet taken by the reader.
    private var pending: [PendingEvent] = []
    private var pendingHead = 0
    private var finalResult: TurnResult?
    /// rws_turn_notify_fd: raised while `pending` has events or the turn has ended.
    private var readiness: ReadinessFD?
    /// Set by `closeNotifications`: no fd is made any more.
    private var readinessClosed = false
    /// The turn's steers (§5.6): added by callers, advanced by the event loop.
    private var steerLedger = SteerLedger()

    // MARK: the bounded pull queue (max_queued_bytes), atomics shared by the loop and the reader
    /// Bytes of pull-mode events queued and not yet handed out by a pull (`released`).
    private let queuedBytes = Atomic<Int>(0)
    /// Set by the event loop when it paused reading for this turn; the reader that drains the
    /// queue below the low mark clears it and asks the loop to resume (`onDrained`).
    private let readingPausedFlag = Atomic<Bool>(false)
    /// Runs on the event loop when a paused turn's queue has drained (set by the session).
    var onDrained: (@Sendable () -> Void)?
    /// The limit of `queuedBytes` (ClientConfig.maxQueuedBytes).
    let maxQueuedBytes: Int

    // MARK: confined to the client's event loop
    var phase = TurnPhase.notSent
    var responseID: [UInt8] = []
    var firstEventAt: NIODeadline?
    var lastEventAt: NIODeadline
    var bytesSent: UInt64 = 0
    var bytesReceived: UInt64 = 0
    var transport = Transport.webSocket
    var flags: TurnFlags = []
    /// Connection attempts used after the first (the reconnect budget).
    var reconnects = 0
    /// Whether the one automatic resend after previous_response_not_found was used.
    var recoveredMissingParent = false
    /// Events handed to the caller: a failure after the first one is never hidden.
    var delivered = 0
    /// What the current attempt sent: its items and how they chain (for the transcript).
    var sentItems: [[UInt8]] = []
    var sentChaining = Chaining.session
    /// A prewarm that only opens a connection.
    var handshakeOnly = false
    var retry: Scheduled<Void>?
    var connection: WebSocketConnection?
    var http: HTTPSSEConnection?
    /// The request id of the connection or HTTP answer the request last went to.
    var requestID: String?
    /// The connection whose reads this turn paused (max_queued_bytes), until it resumes them.
    var pausedConnection: WebSocketConnection?
    var watchdog: Scheduled<Void>?
    /// Set when the caller freed or cancelled the turn: no callback may start afterwards.
    /// Atomic because a cancel from another client's callback sets it without waiting for
    /// this loop (see `Session.cancel`).
    var detached: Bool {
        get { detachedFlag.load(ordering: .acquiring) }
        set { detachedFlag.store(newValue, ordering: .releasing) }
    }
    private let detachedFlag = Atomic<Bool>(false)
    /// The turn has steers: only then does delivery look at steering (one flag on the hot path).
    var hasSteers = false
    /// The response ended while a steer could still bring a successor or an acknowledgement:
    /// its result, kept until the steers are settled (§5.6).
    var heldResult: TurnResult?
    /// Pull mode: events of the current event-loop turn, published to `pending` in one lock
    /// when it ends (see `enqueue`). Event loop only.
    private var staged: [PendingEvent] = []
    /// A publication of `staged` is scheduled on the event loop.
    private var publishScheduled = false

    init(request: TurnRequest, handler: EventHandler?, maxQueuedBytes: Int = .max) {
        self.request = request
        self.handler = handler
        self.maxQueuedBytes = maxQueuedBytes
        startedAt = .now()
        lastEventAt = startedAt
    }

    public var isPullMode: Bool { handler == nil }

    // MARK: results (any thread)

    /// The final result, or nil while the turn runs.
    public var result: TurnResult? { lock.withLock { finalResult } }

    /// Waits up to `timeoutMs` (-1: forever) for the end of the turn. In pull mode the caller
    /// chose to hold every event until then: the queue limit no longer applies to this turn
    /// (otherwise a wait before pulling would never end).
    public func wait(timeoutMs: Int32) -> TurnResult? {
        if isPullMode { liftQueueLimit() }
        var result: TurnResult?
        _ = lock.wait(timeoutMs: timeoutMs) {
            result = finalResult
            return result != nil
        }
        return result
    }

    public enum Pulled: Sendable {
        case event(PendingEvent)
        case done
        case timeout
    }

    /// Pull mode, batched: waits up to `timeoutMs` for at least one event, then moves every
    /// queued event (up to `max`) into `batch`, replacing its contents, under one lock. Taking
    /// them all swaps the arrays: no per-event copy. Returns `.done` when the turn has ended and
    /// nothing is left, `.timeout` when nothing came in time; otherwise `.event` of the first
    /// moved event (the rest are in `batch` too).
    public func nextEvents(timeoutMs: Int32, max: Int, into batch: inout [PendingEvent]) -> Pulled {
        batch.removeAll(keepingCapacity: true)
        var out = Pulled.timeout
        _ = lock.wait(timeoutMs: timeoutMs) {
            let available = pending.count - pendingHead
            if available > 0 {
                if pendingHead == 0 && available <= max && max > 1 {
                    // A one-event take copies instead: `nextEvent`'s throwaway array would
                    // take the queue's storage with it.
                    swap(&pending, &batch)
                } else {
                    let n = Swift.min(available, max)
                    batch.append(contentsOf: pending[pendingHead..<(pendingHead + n)])
                    pendingHead += n
                    if pendingHead == pending.count {
                        pending.removeAll(keepingCapacity: true)
                        pendingHead = 0
                    }
                }
                if pendingHead == 0 && pending.isEmpty && finalResult == nil { readiness?.lower() }
                out = .event(batch[0])
                return true
            }
            if finalResult != nil { out = .done; return true }
            readiness?.lower()
            return false
        }
        return out
    }

    /// Pull mode: the next event, `.done` after the last one, `.timeout` if none came in time.
    /// The event counts as handed out (`released`).
    public func nextEvent(timeoutMs: Int32) -> Pulled {
        var one: [PendingEvent] = []
        let pulled = nextEvents(timeoutMs: timeoutMs, max: 1, into: &one)
        if case .event(let event) = pulled { released(bytes: Self.queuedSize(of: event)) }
        return pulled
    }

    /// The notification fd (rws_turn_notify_fd), made at the first call. Any thread.
    public func notificationFD() throws(RWSError) -> Int32 {
        let made: Result<Int32, RWSError> = lock.withLock {
            if let readiness { return .success(readiness.fd) }
            guard !readinessClosed else { return .failure(RWSError(.invalidState, "the turn was freed")) }
            do throws(RWSError) {
                let fd = try ReadinessFD()
                readiness = fd
                if pending.count > pendingHead || finalResult != nil { fd.raise() }
                return .success(fd.fd)
            } catch {
                return .failure(error)
            }
        }
        return try made.get()
    }

    /// Closes the notification fd (rws_turn_free): the caller's copy of the number is dead.
    public func closeNotifications() {
        lock.withLock {
            readiness = nil
            readinessClosed = true
        }
    }

    // MARK: bounded queue

    /// What a queued event counts against max_queued_bytes: its bytes plus what holding it
    /// costs (the queue entry, the header), so that a stream of tiny deltas is bounded too.
    public static func queuedSize(of event: PendingEvent) -> Int {
        event.frame.readableBytes + MemoryLayout<PendingEvent>.stride + 32
    }

    /// Set by `wait`: the turn queues without limit from now on.
    private let queueLimitLifted = Atomic<Bool>(false)

    private func liftQueueLimit() {
        guard !queueLimitLifted.exchange(true, ordering: .acquiringAndReleasing) else { return }
        if readingPausedFlag.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged {
            onDrained?()
        }
    }

    /// Whether the event loop stopped reading this turn's connection (queue over its limit).
    public var isReadingPaused: Bool { readingPausedFlag.load(ordering: .relaxed) }

    /// The reader handed out events worth `bytes` (queuedSize): once a paused turn's queue is
    /// down to half its limit, reading resumes. Any thread; one atomic add in the common case.
    public func released(bytes: Int) {
        guard bytes > 0 else { return }
        let left = queuedBytes.subtract(bytes, ordering: .relaxed).newValue
        guard left <= maxQueuedBytes / 2, readingPausedFlag.load(ordering: .acquiring),
              readingPausedFlag.compareExchange(expected: true, desired: false, ordering: .acquiringAndReleasing).exchanged
        else { return }
        onDrained?()
    }

    // MARK: driven by the session (event loop)

    /// Queues a pull-mode event. Events are published to the reader, under one lock and with
    /// one wake-up, once per turn of the event loop (after everything one socket read brought),
    /// not once per event: a reader that keeps up would otherwise take the lock, and sleep and
    /// wake (two context switches), for every event.
    /// Returns true when the queue went over max_queued_bytes with this event: the caller
    /// (the session) then stops reading the connection until `onDrained`.
    @discardableResult
    func enqueue(_ event: PendingEvent, on loop: EventLoop) -> Bool {
        staged.append(event)
        let total = queuedBytes.add(Self.queuedSize(of: event), ordering: .relaxed).newValue
        let overLimit = total > maxQueuedBytes && !readingPausedFlag.load(ordering: .relaxed)
            && !queueLimitLifted.load(ordering: .relaxed)
        if overLimit { readingPausedFlag.store(true, ordering: .releasing) }
        defer { schedulePublish(on: loop) }
        return overLimit
    }

    private func schedulePublish(on loop: EventLoop) {
        guard !publishScheduled else { return }
        publishScheduled = true
        loop.execute { self.publishStaged() }
    }

    private func publishStaged() {
        publishScheduled = false
        guard !staged.isEmpty else { return }
        lock.withLock { moveStagedToPending() }
        lock.broadcast()
    }

    /// Under `lock`.
    private func moveStagedToPending() {
        guard !staged.isEmpty else { return }
        if pending.isEmpty {
            swap(&pending, &staged)
        } else {
            pending.append(contentsOf: staged)
            staged.removeAll(keepingCapacity: true)
        }
        readiness?.raise()
    }

    func complete(_ result: TurnResult) {
        watchdog?.cancel()
        watchdog = nil
        retry?.cancel()
        retry = nil
        phase = .terminal
        lock.withLock {
            moveStagedToPending()   // every event goes out before the reader can see the end
            if finalResult == nil { finalResult = result }
            steerLedger.turnEnded(result.status == .ok ? "it completed" : "\(result.status)")
            readiness?.raise()
        }
        lock.broadcast()
    }

    var isFinished: Bool { phase == .terminal }

    // MARK: steering (any thread; the ledger is guarded by `lock`)

    /// Runs `body` on the steer ledger under the turn's lock.
    func withSteers<R>(_ body: (inout SteerLedger) -> R) -> R {
        lock.withLock { body(&steerLedger) }
    }

    /// Steer `index` as it stands, nil if the turn has no such steer.
    public func steerStatus(_ index: Int) -> SteerStatus? {
        lock.withLock { steerLedger.statuses.indices.contains(index) ? steerLedger.statuses[index] : nil }
    }

    public var steerCount: Int { lock.withLock { steerLedger.statuses.count } }

    func microsSinceStart(_ t: NIODeadline) -> UInt64 {
        UInt64(max(0, (t - startedAt).nanoseconds / 1000))
    }
}
