import NIOConcurrencyHelpers
import ResponsesJSON

/// Forks (§5.3): a child session on a new lane of the parent's connection continues from the
/// parent's latest response, a cache hit even with store:false, sending only its own new items.
/// The barrier keeps the parent from replacing that response in its lane's cache before the
/// fork's first response has started: the parent's next turn waits until every fork started
/// from its current head has reported `response.in_progress` (or ended).
extension Session {
    /// What a session knows about where it lives, readable from any thread (stats).
    public struct Placement: Sendable, Equatable {
        /// The connection it holds a lane on (`WebSocketConnection.id`), 0 for none.
        public var connectionID: UInt64 = 0
        /// The stream_id it sends there; nil: the default lane.
        public var lane: String?
        /// The response it was forked from; nil: not a fork (or a fork of a chain without one).
        public var forkParent: String?
    }

    /// Where the session is now.
    public var placement: Placement { placementBox.withLockedValue { $0 } }

    /// Creates a child session with this session's defaults (`extraDefaults` merged over them,
    /// its own fields winning), input mode and transcript, whose first turn chains from this
    /// session's latest response on a lane of the same connection. Never blocks inside a
    /// callback of another client (the child is then set up asynchronously, before any of its
    /// turns).
    public func fork(extraDefaults: JSONObject = JSONObject(), streamID: String? = nil) throws(RWSError) -> Session {
        if let streamID { try Session.validate(streamID: streamID) }
        var merged = defaults
        for (key, value) in extraDefaults.members { merged[key] = value }
        let child = Session(client: client, defaults: merged, streamID: streamID, inputMode: inputMode)
        let setUp: @Sendable () -> Void = { [self] in
            child.chain = chain
            child.forkedFrom = self
            child.forkHead = chain.head
            child.preferredConnection = attachment?.shared
            let head = chain.head
            child.chainHead.withLockedValue { $0 = head }
            child.placementBox.withLockedValue { $0.forkParent = head }
        }
        if client.loop.inEventLoop || !ResponsesClient.onAnyClientThread {
            try client.runOnLoop(setUp)
        } else {
            guard client.executeOnLoop(setUp) else { throw RWSError(.invalidState, "the client was freed") }
        }
        try client.register(child)
        return child
    }

    // MARK: the barrier (event loop)

    /// The child's first turn is queued: while the parent still has the head the child forked
    /// from and is between turns, its next turn waits for this fork.
    func holdParentForFirstTurn() {
        guard let parent = forkedFrom else { return }
        forkedFrom = nil   // only the first turn can hold it
        guard let forkHead, parent.chain.head == forkHead, parent.current == nil, !parent.closed else { return }
        holdsParentBarrier = true
        barrierParent = parent
        parent.forksStarting += 1
    }

    /// The fork's first response started (or its turn ended): the parent may go on.
    func releaseParentBarrier() {
        guard holdsParentBarrier else { return }
        holdsParentBarrier = false
        guard let parent = barrierParent else { return }
        barrierParent = nil
        parent.forksStarting -= 1
        if parent.forksStarting == 0 { parent.startNext() }
    }

    /// Publishes where the session is (stats), after its lease changed.
    func publishPlacement() {
        let now = (attachment?.connection.id ?? 0, attachment?.lane)
        placementBox.withLockedValue { $0.connectionID = now.0; $0.lane = now.1 }
    }
}
