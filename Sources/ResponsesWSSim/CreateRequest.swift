import ResponsesJSON

/// An OpenAI-style API error: the body of an HTTP 4xx/5xx, or the nested `error` of a WebSocket
/// `error` event (§4.5).
struct APIError: Error, Sendable, Equatable {
    var status: Int
    var type: String = "invalid_request_error"
    var code: String?
    var message: String
    var param: String?

    static func invalid(_ message: String, param: String? = nil, code: String? = nil) -> APIError {
        APIError(status: 400, code: code, message: message, param: param)
    }

    static func previousResponseNotFound(_ id: String) -> APIError {
        .invalid("Previous response with id '\(id)' not found.", param: "previous_response_id",
                 code: "previous_response_not_found")
    }

    /// §4.5: the documented message and code; no `param`.
    static func connectionLimitReached(ageSeconds: Double) -> APIError {
        let minutes = ageSeconds.truncatingRemainder(dividingBy: 60) == 0 && ageSeconds >= 60
            ? "\(Int(ageSeconds / 60)) minutes" : "\(ageSeconds) seconds"
        return .invalid(
            "Responses websocket connection limit reached (\(minutes)). Create a new websocket connection to continue.",
            code: "websocket_connection_limit_reached")
    }
}

/// A function tool the fake model may call.
struct FunctionTool: Sendable {
    var name: String
    var parameters: JSONValue?
}

/// Which transport a request came on; a few fields are legal on one only.
enum Transport: Sendable { case webSocket, http }

/// A validated `response.create` (WebSocket) or `POST /v1/responses` body.
struct CreateRequest: Sendable {
    var model: String
    var streamID: String?
    var previousResponseID: String?
    /// The new input items, normalised (a string input becomes one user message).
    var input: [JSONValue]
    var inputBytes: Int
    var inputTokens: Int
    var instructionTokens: Int
    var store: Bool
    /// `generate: false` asks for a warm-up (§5.4).
    var generate: Bool
    var stream: Bool
    var maxOutputTokens: Int?
    var tools: [FunctionTool]
    var toolChoice: JSONValue?
    /// The request's configuration, echoed in every Response object.
    var echo: ResponseEcho
    /// The body as received, so that a steering successor can repeat its settings (§5.6).
    let settings: JSONObject
    /// The text of each steer whose input this request carries (§5.6), in submission order.
    var steerTexts: [String] = []

    /// §3.1 field rules. `stream_id` is validated separately (WebSocketSession) because its error
    /// must be raised before the lane is known.
    static func parse(_ body: JSONObject, transport: Transport) -> Result<CreateRequest, APIError> {
        do throws(APIError) {
            return .success(try CreateRequest(body, transport: transport))
        } catch {
            return .failure(error)
        }
    }

    private init(_ body: JSONObject, transport: Transport) throws(APIError) {
        guard let model = body["model"]?.stringValue, !model.isEmpty else {
            throw .invalid("Missing required parameter: 'model'.", param: "model", code: "missing_required_parameter")
        }
        self.model = model

        if transport == .http {
            // §3.1: `stream_id` and `generate` are WebSocket-only; the real API rejects unknown params.
            for key in ["stream_id", "generate"] where body[key] != nil {
                throw .invalid("Unsupported parameter: '\(key)' is only supported in WebSocket mode.", param: key,
                               code: "unsupported_parameter")
            }
        }
        if let background = body["background"], background.boolValue == true {
            throw .invalid(
                transport == .webSocket
                    ? "Background mode is not supported in WebSocket mode." : "Background mode is not supported by this simulator.",
                param: "background", code: "unsupported_parameter")
        }

        switch body["previous_response_id"] {
        case nil, .null?: previousResponseID = nil
        case .string(let id)? where !id.isEmpty: previousResponseID = id
        default: throw .invalid("Invalid type for 'previous_response_id': expected a non-empty string.", param: "previous_response_id", code: "invalid_type")
        }

        switch body["input"] {
        case nil, .null?:
            input = []
        case .string(let text)?:
            input = [["type": "message", "role": "user", "content": .string(text)]]
        case .array(let items)?:
            for (i, item) in items.enumerated() {
                guard case .object(let o) = item else {
                    throw .invalid("Invalid type for 'input[\(i)]': expected an object.", param: "input[\(i)]", code: "invalid_type")
                }
                if o["type"] == nil && o["role"] == nil {
                    throw .invalid("Missing required parameter: 'input[\(i)].type'.", param: "input[\(i)].type", code: "missing_required_parameter")
                }
                if o["type"]?.stringValue == "function_call_output" && o["call_id"]?.stringValue == nil {
                    throw .invalid("Missing required parameter: 'input[\(i)].call_id'.", param: "input[\(i)].call_id", code: "missing_required_parameter")
                }
            }
            input = items
        default:
            throw .invalid("Invalid type for 'input': expected a string or an array of input items.", param: "input", code: "invalid_type")
        }
        inputBytes = input.reduce(0) { $0 + $1.serializedByteCount }
        inputTokens = input.reduce(0) { $0 + ItemText.tokens(of: $1) }

        func bool(_ key: String, default value: Bool) throws(APIError) -> Bool {
            switch body[key] {
            case nil, .null?: return value
            case .bool(let b)?: return b
            default: throw .invalid("Invalid type for '\(key)': expected a boolean.", param: key, code: "invalid_type")
            }
        }
        store = try bool("store", default: true)  // §3.1: defaults to true
        generate = try bool("generate", default: true)
        stream = try bool("stream", default: false)

        switch body["max_output_tokens"] {
        case nil, .null?: maxOutputTokens = nil
        case let v? where (v.intValue ?? 0) >= 1: maxOutputTokens = v.intValue
        default: throw .invalid("Invalid 'max_output_tokens': expected an integer >= 1.", param: "max_output_tokens", code: "invalid_value")
        }

        var tools: [FunctionTool] = []
        switch body["tools"] {
        case nil, .null?: break
        case .array(let list)?:
            for (i, tool) in list.enumerated() where tool["type"]?.stringValue == "function" {
                guard let name = tool["name"]?.stringValue, !name.isEmpty else {
                    throw .invalid("Missing required parameter: 'tools[\(i)].name'.", param: "tools[\(i)].name", code: "missing_required_parameter")
                }
                tools.append(FunctionTool(name: name, parameters: tool["parameters"]))
            }
        default: throw .invalid("Invalid type for 'tools': expected an array.", param: "tools", code: "invalid_type")
        }
        self.tools = tools
        toolChoice = body["tool_choice"]
        instructionTokens = body["instructions"].map { v in
            var n = 0
            if case .string(let s) = v { n = Tokenizer.count(s) } else if !v.isNull { n = Tokenizer.count(v.serializedString) }
            return n
        } ?? 0
        echo = ResponseEcho(body, model: model, store: store, previousResponseID: previousResponseID)
        settings = body
        streamID = nil
    }

    /// §5.6 automatic continuation: the successor of a steered response repeats its settings,
    /// continues from it, and has the steering input (in submission order) as its new items.
    func steeringSuccessor(of responseID: String, steers: [SteerRequest]) -> CreateRequest {
        var successor = self
        successor.previousResponseID = responseID
        successor.generate = true
        successor.echo = ResponseEcho(settings, model: model, store: store, previousResponseID: responseID)
        successor.setInput(steers.flatMap(\.items))
        successor.steerTexts = steers.map(\.text)
        return successor
    }

    /// §5.6 required-input path: the queued steering input goes in front of the request's own
    /// input; the request keeps its own settings.
    func prepending(_ steers: [SteerRequest]) -> CreateRequest {
        var request = self
        request.setInput(steers.flatMap(\.items) + input)
        request.steerTexts = steers.map(\.text) + steerTexts
        return request
    }

    private mutating func setInput(_ items: [JSONValue]) {
        input = items
        inputBytes = items.reduce(0) { $0 + $1.serializedByteCount }
        inputTokens = items.reduce(0) { $0 + ItemText.tokens(of: $1) }
    }
}

/// The request configuration a Response object repeats (§4.1 "echoed config fields"), serialised
/// once per request. Defaults are the values the real API reports when a field is omitted.
struct ResponseEcho: Sendable {
    /// `,"key":value` members, ready to be appended inside the Response object.
    let members: [UInt8]

    init(_ body: JSONObject, model: String, store: Bool, previousResponseID: String?) {
        let defaults: [(String, JSONValue)] = [
            ("background", false),
            ("instructions", nil),
            ("max_output_tokens", nil),
            ("max_tool_calls", nil),
            ("metadata", .object(JSONObject())),
            ("parallel_tool_calls", true),
            ("prompt_cache_key", nil),
            ("reasoning", ["effort": nil, "summary": nil]),
            ("safety_identifier", nil),
            ("service_tier", "default"),
            ("temperature", .number("1.0")),
            ("text", ["format": ["type": "text"], "verbosity": "medium"]),
            ("tool_choice", "auto"),
            ("tools", []),
            ("top_logprobs", 0),
            ("top_p", .number("1.0")),
            ("truncation", "disabled"),
            ("user", nil),
        ]
        var out: [UInt8] = []
        func member(_ key: String, _ value: JSONValue) {
            out.append(UInt8(ascii: ","))
            JSONValue.writeString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            value.write(to: &out)
        }
        member("model", .string(model))
        member("previous_response_id", previousResponseID.map(JSONValue.string) ?? .null)
        member("store", .bool(store))
        for (key, fallback) in defaults {
            // A null for a field the SDK types as non-optional (tools, parallel_tool_calls...)
            // reports the default, as the real API does.
            switch body[key] {
            case nil, .null?: member(key, fallback)
            case let value?: member(key, value)
            }
        }
        members = out
    }
}
