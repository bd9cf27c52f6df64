import NIOCore
import Synchronization

/// Where a turn's request is on its way (the turn journal). It decides what a failure means:
/// before `.sending` nothing reached the server and the request may be sent again; from
/// `.sending` on the server may have run it, and it is never replayed (protocol §5.10).
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
    var watchdog: Scheduled<Void>?
    /// Set when the caller freed or cancelled the turn: no callback may start afterwards.
    /// Atomic because a cancel from another client's callback sets it without waiting for
    /// this loop (see `Session.cancel`).
    var detached: Bool {
        get { detachedFlag.load(ordering: .acquiring) }
        set { detachedFlag.store(newValue, ordering: .releasing) }
    }
    private let detachedFlag = Atomic<Bool>(false)
    /// Pull mode: events of the current event-loop turn, published to `pending` in one lock
    /// when it ends (see `enqueue`). Event loop only.
    private var staged: [PendingEvent] = []
    /// A publication of `staged` is scheduled on the event loop.
    private var publishScheduled = false

    init(request: TurnRequest, handler: EventHandler?) {
        self.request = request
        self.handler = handler
        startedAt = .now()
        lastEventAt = startedAt
    }

    public var isPullMode: Bool { handler == nil }

    // MARK: results (any thread)

    /// The final result, or nil while the turn runs.
    public var result: TurnResult? { lock.withLock { finalResult } }

    /// Waits up to `timeoutMs` (-1: forever) for the end of the turn.
    public func wait(timeoutMs: Int32) -> TurnResult? {
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
                out = .event(batch[0])
                return true
            }
            if finalResult != nil { out = .done; return true }
            return false
        }
        return out
    }

    /// Pull mode: the next event, `.done` after the last one, `.timeout` if none came in time.
    public func nextEvent(timeoutMs: Int32) -> Pulled {
        var one: [PendingEvent] = []
        return nextEvents(timeoutMs: timeoutMs, max: 1, into: &one)
    }

    // MARK: driven by the session (event loop)

    /// Queues a pull-mode event. Events are published to the reader, under one lock and with
    /// one wake-up, once per turn of the event loop (after everything one socket read brought),
    /// not once per event: a reader that keeps up would otherwise take the lock, and sleep and
    /// wake (two context switches), for every event.
    func enqueue(_ event: PendingEvent, on loop: EventLoop) {
        staged.append(event)
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
        if pending.isEmpty {
            swap(&pending, &staged)
        } else {
            pending.append(contentsOf: staged)
            staged.removeAll(keepingCapacity: true)
        }
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
        }
        lock.broadcast()
    }

    var isFinished: Bool { phase == .terminal }

    func microsSinceStart(_ t: NIODeadline) -> UInt64 {
        UInt64(max(0, (t - startedAt).nanoseconds / 1000))
    }
}
