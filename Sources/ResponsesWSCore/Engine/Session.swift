import NIOCore
import NIOConcurrencyHelpers
import ResponsesJSON

/// How callers pass input (rws_session_options.input_mode).
public enum InputMode: Int32, Sendable {
    /// Each request carries only its new items; the session chains them.
    case incremental = 0
    /// Each request carries the whole conversation; the session sends only what is new when the
    /// request extends the chain (Codex's rule, §6.5).
    case fullHistory = 1
}

/// One conversation chain on one lane (rws_session). It holds a lane on a WebSocket connection,
/// shared with other sessions of the client, for as long as it lives (the server's cache for
/// the chain is scoped to that connection, §5.2), runs its turns
/// one after another, continues each from the last response with only the new items, and keeps
/// a transcript mirror so that the full context can be rebuilt whenever the cache is gone.
///
/// Thread-safe: the public methods hop to the client's event loop; all state below lives there.
/// The work is split by job: Session+Dispatch (transport, connection, reconnects, fallback,
/// rotation), Session+Events (delivery, recovery, completion), Session+Standby (warm rotation).
public final class Session: @unchecked Sendable {   // mutable state is loop-confined
    public let client: ResponsesClient
    public let streamID: String?
    public let inputMode: InputMode
    let defaults: JSONObject
    public let counters = Counters()
    let count: CounterPair
    let chainHead = NIOLockedValueBox<String?>(nil)

    // MARK: confined to the event loop
    /// The session's lane on a (shared) connection.
    var attachment: Lease? {
        didSet { if attachment?.connection !== oldValue?.connection || attachment?.lane != oldValue?.lane { publishPlacement() } }
    }
    let placementBox = NIOLockedValueBox(Placement())
    /// A fork: the connection its parent was on when it forked (its cache holds the head).
    weak var preferredConnection: SharedConnection?
    /// A fork whose first turn has not been queued: its parent and the head it forked from.
    weak var forkedFrom: Session?
    var forkHead: String?
    /// The fork's first turn holds `barrierParent`'s next turn back (§5.3).
    var holdsParentBarrier = false
    weak var barrierParent: Session?
    /// Forks of this session whose first response has not started yet.
    var forksStarting = 0
    var connection: WebSocketConnection? { attachment?.connection }
    /// The stream_id its requests carry: its own, or the lane its connection gave it.
    var lane: String? { attachment?.lane ?? streamID }
    /// A lease is under way; it sends the current turn when it comes.
    var leasing = false
    /// Set when the connection was lost: the next new connection counts as a reconnect.
    var lostConnection = false
    /// The conversation chain: head, transcript, where its cache is (a state machine).
    var chain: Chain
    var queue: [Turn] = []
    var current: Turn?
    var scratch: [UInt8] = []
    var closed = false
    var standby: Standby?
    var standbyTimer: Scheduled<Void>?
    /// Tests only: called on the loop each time a warm-up lands on the standby, so a test can
    /// wait for that instead of sleeping.
    var onStandbyReady: (() -> Void)?

    init(client: ResponsesClient, defaults: JSONObject, streamID: String?, inputMode: InputMode) {
        self.client = client
        self.defaults = defaults
        self.streamID = streamID
        self.inputMode = inputMode
        chain = Chain(inputMode: inputMode)
        count = CounterPair(session: counters, client: client.counters)
    }

    /// §3.1: `^[A-Za-z0-9_.-]+$`, 1–256 characters.
    static func validate(streamID: String) throws(RWSError) {
        let bytes = streamID.utf8
        let valid = (1...256).contains(bytes.count) && bytes.allSatisfy { c in
            switch c {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "-"):
                return true
            default:
                return false
            }
        }
        if !valid {
            throw RWSError(.invalidStreamID, "stream_id \"\(streamID)\" is invalid: use 1-256 letters, digits, '_', '.' or '-'")
        }
    }

    // MARK: public API (any thread)

    /// The id of the last completed response of the chain.
    public var lastResponse: String? { chainHead.withLockedValue { $0 } }

    /// The transcript mirror's items (tests and diagnostics). Event loop only.
    var transcriptItems: [[UInt8]] { chain.transcript.items }

    /// Prepares a request on the caller's thread (errors surface here, before anything is sent).
    public func prepare(_ json: UnsafeRawBufferPointer) throws(RWSError) -> TurnRequest {
        try TurnRequest.prepare(json, defaults: defaults, streamID: streamID, maxRequestBytes: client.config.maxRequestBytes)
    }

    /// Queues a turn; it is sent when the session's earlier turns have ended.
    public func start(_ request: TurnRequest, handler: Turn.EventHandler?) throws(RWSError) -> Turn {
        try enqueue(makeTurn(request, handler: handler))
    }

    private func makeTurn(_ request: TurnRequest, handler: Turn.EventHandler?) -> Turn {
        let turn = Turn(request: request, handler: handler, maxQueuedBytes: client.config.maxQueuedBytes)
        if handler == nil { turn.onDrained = Self.drainHandler(session: self, turn: turn) }
        return turn
    }

    /// Warms the session: a connection (handshake only) when `request` is nil, else also the
    /// chain, by sending the request with `generate: false` (§5.4).
    public func prewarm(_ request: TurnRequest?) throws(RWSError) -> Turn {
        guard let request else {
            let turn = Turn(request: TurnRequest.empty, handler: nil)
            turn.handshakeOnly = true
            return try enqueue(turn)
        }
        return try enqueue(makeTurn(request.asWarmup, handler: nil))
    }

    private func enqueue(_ turn: Turn) throws(RWSError) -> Turn {
        let accepted = client.executeOnLoop { [self] in
            guard !closed else {
                complete(turn, RWSError(.invalidState, "the session was freed before the turn could start"))
                return
            }
            if !turn.handshakeOnly {
                count.add(.turns)
                holdParentForFirstTurn()
            }
            queue.append(turn)
            startNext()
        }
        guard accepted else { throw RWSError(.invalidState, "the client was freed") }
        return turn
    }

    /// Cancels `turn`. When it returns, no further event of the turn is delivered: from another
    /// thread it waits for the I/O thread to take note (microseconds unless a callback is busy).
    @discardableResult
    public func cancel(_ turn: Turn, status: Status = .cancelled, message: String = "the turn was cancelled") -> Status {
        if !client.loop.inEventLoop, turn.result != nil {
            // Ended: its result is published only after its last event, so nothing is left to
            // stop, and no round trip to the I/O thread is needed (rws_turn_free of every
            // consumed turn comes here; the hop cost about as much as a minimal turn).
            turn.detached = true
            return .done
        }
        if !client.loop.inEventLoop && ResponsesClient.onAnyClientThread {
            // Inside another client's callback, which must not wait for this client's loop:
            // no callback of the turn starts from now on, and the turn ends asynchronously.
            turn.detached = true
            client.executeOnLoop { [self] in cancelOnLoop(turn, RWSError(status, message)) }
            return .ok
        }
        let outcome = try? client.runOnLoop { [self] () -> Status in
            turn.detached = true
            guard !turn.isFinished else { return .done }
            cancelOnLoop(turn, RWSError(status, message))
            return .ok
        }
        return outcome ?? .done
    }

    /// Forgets the chain: the next turn starts a new conversation.
    public func reset() throws(RWSError) {
        try client.runOnLoop { [self] in
            apply(.reset)
            dropStandby()
        }
    }

    /// Cancels queued and running turns and returns the connection to the client's pool.
    public func close() throws(RWSError) {
        guard !ResponsesClient.onAnyClientThread else {
            throw RWSError(.invalidState, "rws_session_free must not be called from inside an event callback (of any client)")
        }
        try? client.runOnLoop { [self] in
            closeOnLoop(reason: "the session was freed")
            client.sessionClosed(self)
        }
    }

    // MARK: event loop

    func closeOnLoop(reason: String) {
        guard !closed else { return }
        closed = true
        for turn in queue { complete(turn, RWSError(.cancelled, reason)) }
        queue.removeAll()
        if let turn = current { cancelOnLoop(turn, RWSError(.cancelled, reason)) }
        dropStandby()
        releaseParentBarrier()
        detach(lost: false)
    }

    /// Leaves the connection (the client keeps it for others or closes it). `lost`: it failed,
    /// so the next connection counts as a reconnect.
    func detach(lost: Bool) {
        if lost { lostConnection = true }
        guard let lease = attachment else { return }
        attachment = nil
        lease.shared.leave(self)
    }

    /// Feeds the chain and publishes its head when it changed (read from any thread).
    func apply(_ input: Chain.Input) {
        if chain.apply(input) {
            let head = chain.head
            chainHead.withLockedValue { $0 = head }
        }
    }
}
