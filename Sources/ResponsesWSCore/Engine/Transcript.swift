import ResponsesJSON

/// The transcript mirror of a chain: every input and output item the server has seen in it, as
/// raw JSON, so the full context can always be rebuilt when the server's cache is gone (§5.10:
/// keep the complete history client-side, including tool calls and reasoning items).
struct Transcript {
    private(set) var items: [[UInt8]] = []
    /// False when the chain continues from a response this session did not see (an explicit
    /// previous_response_id): the transcript then cannot rebuild the context.
    private(set) var isComplete = true
    /// The fields (everything but input) of the request that produced the chain's head.
    private(set) var lastFields: JSONObject?

    mutating func reset() {
        items.removeAll()
        isComplete = true
        lastFields = nil
    }

    /// Records a completed turn. `chaining` is how the turn was sent.
    mutating func append(inputs: [[UInt8]], outputs: [[UInt8]], fields: JSONObject, chaining: Chaining, head: String?) {
        switch chaining {
        case .session:
            break
        case .none:
            items.removeAll()
            isComplete = true
        case .explicit(let id):
            if id != head {
                items.removeAll()
                isComplete = false
            }
        }
        items.append(contentsOf: inputs)
        items.append(contentsOf: outputs)
        lastFields = fields
    }

    /// Full-history mode: the new items of `request` when it extends this chain — the same
    /// fields, and an input that starts with every item so far (the previous inputs and the
    /// previous response's outputs). Nil when it does not, and the request must start a new chain.
    /// An empty delta counts only right after a warm-up (§6.5 rule 5).
    func delta(for request: TurnRequest, afterWarmup: Bool) -> [[UInt8]]? {
        guard isComplete, let lastFields, lastFields == request.fields else { return nil }
        let input = request.newItems
        guard input.count >= items.count else { return nil }
        for (mine, theirs) in zip(items, input) where !Transcript.sameItem(mine, theirs) { return nil }
        let delta = Array(input[items.count...])
        if delta.isEmpty && !afterWarmup { return nil }
        return delta
    }

    /// Item equality as a caller's SDK round-trips items: byte-equal, or equal as JSON once
    /// null-valued keys and the server-assigned `status` are set aside (SDKs add optional fields
    /// as null and may reorder keys).
    static func sameItem(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        if a == b { return true }
        guard let x = try? JSONValue.parse(a), let y = try? JSONValue.parse(b) else { return false }
        return normalized(x, top: true) == normalized(y, top: true)
    }

    private static func normalized(_ value: JSONValue, top: Bool = false) -> JSONValue {
        switch value {
        case .object(let object):
            var out = JSONObject()
            for (key, v) in object.members where v != .null && !(top && key == "status") {
                out.members.append((key, normalized(v)))
            }
            return .object(out)
        case .array(let items):
            return .array(items.map { normalized($0) })
        default:
            return value
        }
    }
}
