import ResponsesJSON

/// What the fake model will produce for one request.
struct ModelPlan: Sendable {
    enum Output: Sendable {
        /// `generate: false` (§5.4): no output items at all.
        case warmUp
        case text(Tokenizer.Pieces)
        case functionCall(name: String, callID: String, arguments: Tokenizer.Pieces)
    }

    var output: Output
    /// `max_output_tokens` cut the output short: the response ends `incomplete`.
    var truncated: Bool

    var outputTokens: Int {
        switch output {
        case .warmUp: return 0
        case .text(let p): return p.count
        case .functionCall(_, _, let p): return p.count
        }
    }
}

/// A deterministic stand-in for a model: the answer depends only on the request and its context.
///
/// - Function tools present and the conversation's last item is a user message: a call to one of
///   the tools (the one `tool_choice` names, else one picked by a hash of the user's text), with
///   arguments filled in from the tool's JSON schema.
/// - Last item a `function_call_output`: a text answer that quotes the output.
/// - Otherwise: a text answer that echoes the user's last message, padded with filler words up to
///   `outputTokens` pieces.
struct FakeModel: Sendable {
    var outputTokens: Int

    func plan(for request: CreateRequest, parent: ConversationNode?) throws(APIError) -> ModelPlan {
        try validateToolOutputs(request, parent: parent)
        guard request.generate else { return ModelPlan(output: .warmUp, truncated: false) }

        let last = request.input.last ?? newestItem(parent)
        let userText = lastUserText(request, parent: parent) ?? ""
        var output: ModelPlan.Output

        if let last, ItemText.userText(last) != nil, !request.tools.isEmpty, request.toolChoice?.stringValue != "none" {
            let tool = try chooseTool(request, userText: userText)
            output = .functionCall(name: tool.name, callID: IDs.callID(),
                                   arguments: Tokenizer.tokenize(Self.arguments(for: tool, userText: userText)))
        } else if let last, last["type"]?.stringValue == "function_call_output" {
            let callID = last["call_id"]?.stringValue ?? ""
            let name = toolName(forCallID: callID, request: request, parent: parent) ?? "tool"
            let result = ItemText.outputText(last["output"]) ?? ""
            let quoted = result.unicodeScalars.count > 400 ? String(String.UnicodeScalarView(result.unicodeScalars.prefix(400))) + "…" : result
            output = .text(answer(prefix: (request.steerTexts.isEmpty ? "" : steerNote(request) + " ") + "The \(name) tool returned: \(quoted).", seed: result + request.model))
        } else {
            let words = Self.shortened(userText)
            let echo = !request.steerTexts.isEmpty ? steerNote(request) : words.isEmpty ? "Hello!" : "You said: \"\(words)\"."
            output = .text(answer(prefix: echo, seed: userText + request.model))
        }

        var truncated = false
        if let limit = request.maxOutputTokens {
            switch output {
            case .text(let p) where p.count > limit:
                output = .text(p.prefix(limit)); truncated = true
            case .functionCall(let n, let c, let p) where p.count > limit:
                output = .functionCall(name: n, callID: c, arguments: p.prefix(limit)); truncated = true
            default: break
            }
        }
        return ModelPlan(output: output, truncated: truncated)
    }

    // MARK: text

    /// Echo at most 12 words of at most 24 characters: a huge input must not become a huge answer.
    private static func shortened(_ text: String) -> String {
        text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\t" }).prefix(12).map { $0.prefix(24) }.joined(separator: " ")
    }

    /// §5.6: a response that carries steering input names it first (`Steered: "a" "b".`), so a
    /// client test can see that the steer arrived, in order.
    private func steerNote(_ request: CreateRequest) -> String {
        guard !request.steerTexts.isEmpty else { return "" }
        return "Steered: " + request.steerTexts.map { "\"\(Self.shortened($0))\"" }.joined(separator: " ") + "."
    }

    private static let vocabulary = [
        "the", "simulated", "model", "streams", "this", "answer", "one", "small", "piece", "at", "a", "time",
        "so", "that", "clients", "can", "measure", "latency", "and", "throughput", "without", "network", "cost",
        "every", "token", "arrives", "as", "its", "own", "delta", "event", "with", "sequence", "numbers", "in",
        "order", "local", "server", "keeps", "state", "per", "connection", "lane", "cache", "warm", "socket",
        "response", "continues", "from", "previous", "turn", "tools", "run", "fast", "offline", "agents",
        "developers", "test", "deterministic", "output", "depends", "only", "on", "request",
    ]

    /// `prefix` followed by filler words, ending with a period, at most `outputTokens` pieces
    /// (or just `prefix` when that alone is longer).
    private func answer(prefix: String, seed: String) -> Tokenizer.Pieces {
        var text = prefix
        var tokens = Tokenizer.count(prefix)
        var rng = SplitMix64(seed: fnv1a(seed))
        var addedWords = false
        while true {
            let word = " " + Self.vocabulary[Int(rng.next() % UInt64(Self.vocabulary.count))]
            let cost = Tokenizer.count(word)
            if tokens + cost + 1 > outputTokens { break }  // +1 keeps room for the final period
            text += word
            tokens += cost
            addedWords = true
        }
        if addedWords { text += "." }
        return Tokenizer.tokenize(text)
    }

    // MARK: tools

    private func chooseTool(_ request: CreateRequest, userText: String) throws(APIError) -> FunctionTool {
        if case .object(let choice)? = request.toolChoice, choice["type"]?.stringValue == "function",
           let name = choice["name"]?.stringValue {
            guard let tool = request.tools.first(where: { $0.name == name }) else {
                throw .invalid("Tool choice '\(name)' not found in 'tools' parameter.", param: "tool_choice", code: "invalid_value")
            }
            return tool
        }
        return request.tools[Int(fnv1a(userText) % UInt64(request.tools.count))]
    }

    /// Arguments that satisfy the tool's schema (top-level properties, in schema order).
    static func arguments(for tool: FunctionTool, userText: String) -> String {
        var args = JSONObject()
        let hash = fnv1a(tool.name + userText)
        let shortText = String(String.UnicodeScalarView(userText.unicodeScalars.prefix(40)))
        if case .object(let properties)? = tool.parameters?["properties"] {
            for (name, schema) in properties.members {
                let value: JSONValue
                if let first = schema["enum"]?.arrayValue?.first {
                    value = first
                } else {
                    switch schema["type"]?.stringValue {
                    case "integer", "number": value = .int(Int(hash % 100) + 1)
                    case "boolean": value = true
                    case "array": value = []
                    case "object": value = .object(JSONObject())
                    case "null": value = nil
                    default: value = .string(shortText.isEmpty ? name : shortText)
                    }
                }
                args.members.append((name, value))
            }
        }
        return JSONValue.object(args).serializedString
    }

    /// §5.2 (the OpenResponses eviction check relies on it): every `function_call_output` must
    /// answer a `function_call` in the context.
    private func validateToolOutputs(_ request: CreateRequest, parent: ConversationNode?) throws(APIError) {
        for (i, item) in request.input.enumerated() where item["type"]?.stringValue == "function_call_output" {
            let callID = item["call_id"]?.stringValue ?? ""
            let inRequest = request.input[..<i].contains { $0["type"]?.stringValue == "function_call" && $0["call_id"]?.stringValue == callID }
            if !inRequest && findCall(callID, in: parent) == nil {
                throw .invalid("No tool call found for function call output with call_id \(callID).", param: "input")
            }
        }
    }

    private func toolName(forCallID callID: String, request: CreateRequest, parent: ConversationNode?) -> String? {
        if let call = request.input.last(where: { $0["type"]?.stringValue == "function_call" && $0["call_id"]?.stringValue == callID }) {
            return call["name"]?.stringValue
        }
        return findCall(callID, in: parent)?["name"]?.stringValue
    }

    private func findCall(_ callID: String, in parent: ConversationNode?) -> JSONValue? {
        var found: JSONValue?
        parent?.forEachItemNewestFirst { item in
            if item["type"]?.stringValue == "function_call", item["call_id"]?.stringValue == callID { found = item; return false }
            return true
        }
        return found
    }

    private func newestItem(_ parent: ConversationNode?) -> JSONValue? {
        var found: JSONValue?
        parent?.forEachItemNewestFirst { found = $0; return false }
        return found
    }

    private func lastUserText(_ request: CreateRequest, parent: ConversationNode?) -> String? {
        if let text = request.input.lazy.reversed().compactMap(ItemText.userText).first { return text }
        var found: String?
        parent?.forEachItemNewestFirst { item in
            found = ItemText.userText(item)
            return found == nil
        }
        return found
    }
}

/// FNV-1a: a stable hash (Swift's Hasher is seeded per process, which would break determinism).
func fnv1a(_ text: String) -> UInt64 {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in text.utf8 { h = (h ^ UInt64(b)) &* 0x0000_0100_0000_01B3 }
    return h
}

struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
