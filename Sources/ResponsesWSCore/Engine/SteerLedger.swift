/// What became of one steer (rws_steer_info.state; raw values are the RWS_STEER_* constants).
public enum SteerState: Int32, Sendable {
    /// Waiting for the target's `response.created`, or sent without an answer yet.
    case unknown = 0
    /// `response.steer.accepted`: the server queued it (§4.6).
    case accepted = 1
    /// The successor response that sees it was created (§5.6).
    case committed = 2
    /// `response.steer.pending`: the target stopped for client tool output; the session's next
    /// turn, carrying that output, commits it (the server prepends the steer input).
    case pending = 3
    /// Not applied and never will be: `response.steer.failed`, or refused before it was sent.
    case failed = 4
    /// The connection or the turn ended before an answer: the outcome is unknown. Never replayed.
    case lost = 5
}

/// One steer as callers read it.
public struct SteerStatus: Sendable, Equatable {
    public var state = SteerState.unknown
    /// "steer_…", once the server gave one.
    public var id: String?
    /// The response it steers, once sent.
    public var target: String?
    /// failed: the server's code (e.g. response_not_active); nil for a local refusal.
    public var errorCode: String?
    public var message = ""
    /// failed: the input handed back, to replay with a new turn if wanted.
    public var returnedInput: [UInt8] = []
    /// pending: the required-input stubs (a JSON array) the next turn must fill.
    public var requiredInput: [UInt8] = []
    /// Bumped by every change, so that readers can tell snapshots apart.
    public var version = 0
}

/// The steers of one turn as a state machine (§5.6). Inputs: a steer added, the target
/// created (the held ones go out), sent, the server's acknowledgements, the successor
/// created, the turn's end. It answers what to send and whether the turn must wait for an
/// outcome before it may end. Acknowledgements without an id (refusals before one was given)
/// belong to the oldest unanswered steer: the server answers steers in order.
struct SteerLedger {
    private(set) var statuses: [SteerStatus] = []
    private var inputs: [SteerInput] = []
    /// Added, not sent yet (the target has no response.created yet).
    private var held: [Int] = []
    /// Sent; neither accepted nor failed yet (in sending order).
    private var unanswered: [Int] = []
    private(set) var ended = false

    var isEmpty: Bool { statuses.isEmpty }

    /// A steer of the turn; nil once the turn has ended.
    mutating func add(_ input: SteerInput) -> Int? {
        guard !ended else { return nil }
        statuses.append(SteerStatus())
        inputs.append(input)
        held.append(statuses.count - 1)
        return statuses.count - 1
    }

    /// The steers to send now that `target` runs; they count as sent.
    mutating func release(target: String) -> [(index: Int, input: SteerInput)] {
        let out = held.map { ($0, inputs[$0]) }
        for i in held { change(i) { $0.target = target } }
        unanswered += held
        held.removeAll()
        return out
    }

    mutating func accepted(id: String) {
        guard !unanswered.isEmpty else { return }
        let i = unanswered.removeFirst()
        change(i) { $0.state = .accepted; $0.id = id }
    }

    mutating func failed(id: String?, code: String?, message: String, input: [UInt8]) {
        let i: Int
        if let id, let known = statuses.firstIndex(where: { $0.id == id }) {
            i = known
        } else if !unanswered.isEmpty {
            i = unanswered.removeFirst()
        } else {
            return
        }
        unanswered.removeAll { $0 == i }
        change(i) { $0.state = .failed; $0.errorCode = code; $0.message = message; $0.returnedInput = input }
    }

    mutating func pending(id: String, requiredInput: [UInt8]) {
        guard let i = statuses.firstIndex(where: { $0.id == id && $0.state == .accepted }) else { return }
        change(i) { $0.state = .pending; $0.requiredInput = requiredInput }
    }

    /// A refusal of ours, before anything was sent (the turn is not on WebSocket, or ended).
    mutating func refuse(_ i: Int, _ message: String) {
        held.removeAll { $0 == i }
        let input = inputs[i].json
        change(i) { $0.state = .failed; $0.message = message; $0.returnedInput = input }
    }

    /// A write failed after the steer was handed to the connection: the server may have it.
    mutating func lost(_ i: Int, _ message: String) {
        unanswered.removeAll { $0 == i }
        change(i) { $0.state = .lost; $0.message = message }
    }

    /// The successor response started: the accepted steers went into it. Returns their items,
    /// in order, as the successor's new input (for the transcript).
    mutating func successorCreated() -> [[UInt8]] {
        var items: [[UInt8]] = []
        for i in statuses.indices where statuses[i].state == .accepted {
            items += inputs[i].items
            change(i) { $0.state = .committed }
        }
        return items
    }

    /// Whether a steer may still produce a successor or an acknowledgement: the turn waits
    /// for that after its response's terminal event.
    var awaitingOutcome: Bool {
        !unanswered.isEmpty || statuses.contains { $0.state == .accepted }
    }

    /// The turn ended: what was never sent failed, what had no outcome is lost.
    mutating func turnEnded(_ why: String) {
        ended = true
        for i in held {
            let input = inputs[i].json
            change(i) { $0.state = .failed; $0.message = "the turn ended before its response was created (\(why)); the steer was not sent"; $0.returnedInput = input }
        }
        held.removeAll()
        for i in statuses.indices where statuses[i].state == .unknown || statuses[i].state == .accepted {
            change(i) { $0.state = .lost; $0.message = "the turn ended before the steer's outcome was known (\(why)); it was not replayed" }
        }
        unanswered.removeAll()
    }

    private mutating func change(_ i: Int, _ body: (inout SteerStatus) -> Void) {
        body(&statuses[i])
        statuses[i].version += 1
    }
}
