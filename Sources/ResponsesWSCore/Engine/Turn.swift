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
    /// A wake-up of the pull-mode reader is pending on the event loop (see `enqueue`).
    private var wakeScheduled = false

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

    /// Pull mode: the next event, `.done` after the last one, `.timeout` if none came in time.
    public func nextEvent(timeoutMs: Int32) -> Pulled {
        var out = Pulled.timeout
        take(timeoutMs: timeoutMs, max: 1, ended: { out = .done }) { out = .event($0[$0.startIndex]) }
        return out
    }

    /// Pull mode, batched: waits up to `timeoutMs` for at least one event, then moves every
    /// queued event (up to `max`) into `batch` under one lock. Returns `.done` when the turn
    /// has ended and nothing is left, `.timeout` when nothing came in time; otherwise `.event`
    /// of the first moved event (the rest are in `batch` too).
    public func nextEvents(timeoutMs: Int32, max: Int, into batch: inout [PendingEvent]) -> Pulled {
        batch.removeAll(keepingCapacity: true)
        var out = Pulled.timeout
        take(timeoutMs: timeoutMs, max: max, ended: { out = .done }) { taken in
            batch.append(contentsOf: taken)
            out = .event(batch[0])
        }
        return out
    }

    /// Waits up to `timeoutMs` until events are queued or the turn has ended, then, under the
    /// lock, hands up to `max` queued events to `body` and removes them (or calls `ended`).
    private func take(timeoutMs: Int32, max: Int, ended: () -> Void, _ body: (ArraySlice<PendingEvent>) -> Void) {
        _ = lock.wait(timeoutMs: timeoutMs) {
            let available = pending.count - pendingHead
            if available > 0 {
                let n = Swift.min(available, max)
                body(pending[pendingHead..<(pendingHead + n)])
                pendingHead += n
                if pendingHead == pending.count {
                    pending.removeAll(keepingCapacity: true)
                    pendingHead = 0
                }
                return true
            }
            if finalResult != nil { ended(); return true }
            return false
        }
    }

    // MARK: driven by the session (event loop)

    /// Queues a pull-mode event. The reader is woken once per turn of the event loop, after
    /// everything that one socket read brought is queued, not once per event: a reader that
    /// keeps up would otherwise sleep and wake (two context switches) for every event.
    func enqueue(_ event: PendingEvent, on loop: EventLoop) {
        lock.withLock { pending.append(event) }
        guard !wakeScheduled else { return }
        wakeScheduled = true
        loop.execute {
            self.wakeScheduled = false
            self.lock.broadcast()
        }
    }

    func complete(_ result: TurnResult) {
        watchdog?.cancel()
        watchdog = nil
        retry?.cancel()
        retry = nil
        phase = .terminal
        lock.withLock { if finalResult == nil { finalResult = result } }
        lock.broadcast()
    }

    var isFinished: Bool { phase == .terminal }

    func microsSinceStart(_ t: NIODeadline) -> UInt64 {
        UInt64(max(0, (t - startedAt).nanoseconds / 1000))
    }
}
