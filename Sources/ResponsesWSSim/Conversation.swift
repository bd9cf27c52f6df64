import ResponsesJSON
import Synchronization

/// One response in a conversation chain: the items its request added and the items it produced.
/// Immutable and shared: the connection cache (per lane) and the process-wide store hold the same
/// nodes, and a continuation only links a new node to its parent (no history copying).
final class ConversationNode: Sendable {
    let responseID: String
    let parent: ConversationNode?
    let inputItems: [JSONValue]
    let outputItems: [JSONValue]
    /// Serialized bytes of every item on the chain up to and including this node: what a server
    /// without the connection cache must process again (the cost model's "full history").
    let contextBytes: Int
    /// Tokens of every item on the chain up to and including this node.
    let contextTokens: Int
    /// Whether the response was created with `store: true` (and so is in the ResponseStore).
    let stored: Bool

    init(responseID: String, parent: ConversationNode?, inputItems: [JSONValue], inputBytes: Int,
         inputTokens: Int, outputItems: [JSONValue], stored: Bool) {
        self.responseID = responseID
        self.parent = parent
        self.inputItems = inputItems
        self.outputItems = outputItems
        let outBytes = outputItems.reduce(0) { $0 + $1.serializedByteCount }
        let outTokens = outputItems.reduce(0) { $0 + ItemText.tokens(of: $1) }
        self.contextBytes = (parent?.contextBytes ?? 0) + inputBytes + outBytes
        self.contextTokens = (parent?.contextTokens ?? 0) + inputTokens + outTokens
        self.stored = stored
    }

    /// Visits items newest first (this node's output, its input, then the parent's, and so on)
    /// until `body` returns false.
    func forEachItemNewestFirst(_ body: (JSONValue) -> Bool) {
        var node: ConversationNode? = self
        while let n = node {
            for item in n.outputItems.reversed() where !body(item) { return }
            for item in n.inputItems.reversed() where !body(item) { return }
            node = n.parent
        }
    }
}

/// Reading the text out of input and output items (for tokens, the model's echo and tool calls).
enum ItemText {
    /// Per-item overhead in tokens, like the role/format tokens of a real chat template.
    static let itemOverheadTokens = 4

    static func tokens(of item: JSONValue) -> Int {
        var n = itemOverheadTokens
        forEachText(in: item) { n += Tokenizer.count($0) }
        return n
    }

    /// Calls `body` with each piece of text the model would read in `item`.
    static func forEachText(in item: JSONValue, _ body: (String) -> Void) {
        guard case .object(let o) = item else { return }
        switch o["type"]?.stringValue ?? (o["role"] != nil ? "message" : "") {
        case "message":
            contentText(o["content"], body)
        case "function_call":
            if let name = o["name"]?.stringValue { body(name) }
            if let args = o["arguments"]?.stringValue { body(args) }
        case "function_call_output":
            if let output = outputText(o["output"]) { body(output) }
        default:
            // Opaque items (reasoning, hosted tool calls...): count their JSON text.
            body(item.serializedString)
        }
    }

    static func contentText(_ content: JSONValue?, _ body: (String) -> Void) {
        switch content {
        case .string(let s)?: body(s)
        case .array(let parts)?:
            for part in parts {
                if let t = part["text"]?.stringValue { body(t) } else if let r = part["refusal"]?.stringValue { body(r) }
            }
        default: break
        }
    }

    /// A `function_call_output` output: a string, or an array of content parts.
    static func outputText(_ output: JSONValue?) -> String? {
        switch output {
        case .string(let s)?: return s
        case .array?:
            var text = ""
            contentText(output) { text += $0 }
            return text
        case nil, .null?: return nil
        case let other?: return other.serializedString
        }
    }

    /// The text of a user message item, or nil when `item` is not a user message.
    static func userText(_ item: JSONValue) -> String? {
        guard case .object(let o) = item, o["role"]?.stringValue == "user",
              (o["type"]?.stringValue ?? "message") == "message" else { return nil }
        var text = ""
        contentText(o["content"]) { if !text.isEmpty { text += " " }; text += $0 }
        return text
    }
}

/// Unique, random-looking ids without a system call per id: SplitMix64 over a process-wide
/// counter with a random starting point.
enum IDs {
    private static let counter = Atomic<UInt64>(UInt64.random(in: .min ... .max))

    static func response() -> String { "resp_" + hex(words: 3) }
    static func message() -> String { "msg_" + hex(words: 3) }
    static func functionCall() -> String { "fc_" + hex(words: 3) }
    static func callID() -> String { "call_" + hex(words: 2) }
    /// §4.6: "steer_" + 32 lowercase hex digits.
    static func steer() -> String { "steer_" + hex(words: 2) }
    static func request(_ config: SimulatorConfig) -> String { config.requestID ?? "req_" + hex(words: 2) }

    private static func hex(words: Int) -> String {
        var out = ""
        out.reserveCapacity(words * 16)
        for _ in 0..<words {
            var z = counter.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            z ^= z >> 31
            let s = String(z, radix: 16)
            out += String(repeating: "0", count: 16 - s.count) + s
        }
        return out
    }
}
