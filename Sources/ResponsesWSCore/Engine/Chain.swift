import ResponsesJSON

/// Which connection a chain's cache is on: `WebSocketConnection.id`, unique for the process's
/// life (an object's address could be reused by a later connection).
typealias ConnectionID = UInt64

/// What one attempt of a turn sends, and how its items join the transcript.
struct SendPlan: Equatable {
    var items: [[UInt8]]
    var previousResponseID: String?
    var chaining: Chaining
    /// The items that are new to the chain (what the transcript gains besides the outputs).
    var newItems: [[UInt8]]
    /// The full context had to be sent because the server's cache for the chain is gone.
    var fullResend = false
}

/// A session's conversation chain as a state machine: its head (the last completed response),
/// whether that head is a warm-up, the request that produced it, the transcript mirror, and the
/// connection whose cache holds it (§5.2). It takes what happened to the chain (`Input`) and
/// answers what a turn must send (`plan`). No sockets, no clock, no callbacks: the session
/// feeds it and acts on its answers.
struct Chain {
    enum Input {
        /// A turn's response completed (or ended incomplete) and becomes the head.
        case completed(Completion)
        /// A connection closed, was aborted or retired: the cache it held is gone (§5.2).
        case connectionGone(ConnectionID)
        /// The server answered previous_response_not_found: no connection holds the head.
        case cacheMissed
        /// A warm standby on `connection` holds `head`, a warm-up of the whole transcript (§5.4).
        case tookOverStandby(connection: ConnectionID, head: String)
        /// The caller forgot the chain (rws_session_reset).
        case reset
    }

    /// A completed turn, as the chain needs it.
    struct Completion {
        var request: TurnRequest
        /// What the turn's last attempt sent as new to the chain, and how it chained.
        var sentItems: [[UInt8]]
        var sentChaining: Chaining
        var responseID: String
        var outputItems: [[UInt8]]
        /// The WebSocket connection that carried it; nil over HTTP/SSE (no cache persists).
        var connection: ConnectionID?
    }

    let inputMode: InputMode
    private(set) var head: String?
    /// Whether the head is a warm-up (an empty delta may follow it in full-history mode, §5.4).
    private(set) var headIsWarmup = false
    /// The request of the last completed turn: its fields prepare a warm standby.
    private(set) var lastRequest: TurnRequest?
    private(set) var transcript = Transcript()
    /// The connection whose cache holds the head; continuing anywhere else needs the full
    /// context (store:false) or a load from storage (store:true).
    private(set) var cachedOn: ConnectionID?

    init(inputMode: InputMode) { self.inputMode = inputMode }

    /// Applies `input`; returns true when the head changed (the session publishes it).
    @discardableResult
    mutating func apply(_ input: Input) -> Bool {
        switch input {
        case .completed(let done):
            transcript.append(inputs: done.sentItems, outputs: done.outputItems, fields: done.request.fields,
                              chaining: done.sentChaining, head: head)
            lastRequest = done.request
            cachedOn = done.connection
            return setHead(done.responseID, warmup: done.request.generate == false)
        case .connectionGone(let id):
            if cachedOn == id { cachedOn = nil }
            return false
        case .cacheMissed:
            cachedOn = nil
            return false
        case .tookOverStandby(let connection, let standbyHead):
            cachedOn = connection
            return setHead(standbyHead, warmup: true)
        case .reset:
            let had = head != nil
            head = nil
            headIsWarmup = false
            lastRequest = nil
            cachedOn = nil
            transcript.reset()
            return had
        }
    }

    private mutating func setHead(_ id: String, warmup: Bool) -> Bool {
        let changed = head != id
        head = id
        headIsWarmup = warmup
        return changed
    }

    /// What `request` sends over WebSocket on `connection` (nil: over HTTP/SSE, where no cache
    /// is reachable): only the new items after the head when the head is reachable (the fast
    /// path, §5.2), else the full context on a fresh chain (§5.10). `afterMissingParent`: the
    /// turn's incremental send already got previous_response_not_found.
    func plan(_ request: TurnRequest, on connection: ConnectionID?, afterMissingParent: Bool) -> SendPlan {
        var chaining = request.chaining
        var newItems = request.newItems
        if inputMode == .fullHistory, chaining == .session {
            if head != nil, let delta = transcript.delta(for: request, afterWarmup: headIsWarmup) {
                newItems = delta
            } else {
                chaining = .none   // not an extension of the chain: the full request, new chain
            }
        }
        switch chaining {
        case .none:
            return SendPlan(items: newItems, previousResponseID: nil, chaining: .none, newItems: newItems)
        case .explicit(let id):
            return SendPlan(items: newItems, previousResponseID: id, chaining: chaining, newItems: newItems)
        case .session:
            guard let head else {
                return SendPlan(items: newItems, previousResponseID: nil, chaining: .session, newItems: newItems)
            }
            let cacheHere = connection != nil && connection == cachedOn
            let canRebuild = transcript.isComplete
            if afterMissingParent && canRebuild || (!cacheHere && !Self.stores(request) && canRebuild) {
                return SendPlan(items: transcript.items + newItems, previousResponseID: nil, chaining: .session,
                                newItems: newItems, fullResend: true)
            }
            // Here, or loadable from storage (store:true), or nothing to rebuild from.
            return SendPlan(items: newItems, previousResponseID: head, chaining: .session, newItems: newItems)
        }
    }

    /// Whether the previous_response_not_found recovery applies to a turn sent as `sent`:
    /// only an incremental continuation of this chain, once, and only if the transcript can
    /// rebuild the context (never for a caller's explicit previous_response_id).
    func canRecoverMissingParent(sentChaining: Chaining, wasIncremental: Bool, alreadyRecovered: Bool) -> Bool {
        sentChaining == .session && wasIncremental && transcript.isComplete && !alreadyRecovered
    }

    /// Whether a warm standby can keep this chain warm: its head is on `connection` and a
    /// store:false chain whose context the transcript can rebuild.
    func wantsStandby(on connection: ConnectionID) -> Bool {
        guard let lastRequest, cachedOn == connection else { return false }
        return !Self.stores(lastRequest) && transcript.isComplete
    }

    /// Whether the request asks the server to persist responses (`store` defaults to true).
    static func stores(_ request: TurnRequest) -> Bool {
        request.fields["store"]?.boolValue ?? true
    }
}
