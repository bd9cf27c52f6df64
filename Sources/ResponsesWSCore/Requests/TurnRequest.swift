import NIOCore
import ResponsesJSON

/// How a turn chains to earlier responses.
public enum Chaining: Sendable, Equatable {
    /// Continue from the session's last response, if it has one (the fast path, §5.2).
    case session
    /// The caller passed `"previous_response_id": null`: start a new chain.
    case none
    /// The caller passed an explicit id.
    case explicit(String)
}

/// A caller's request, checked and split once on the caller's thread, so that the I/O thread
/// only concatenates bytes when it sends: the chaining fields are known only then, after the
/// session's previous turn has ended.
public struct TurnRequest: Sendable {
    /// The new input items, each as compact JSON.
    public var newItems: [[UInt8]]
    /// Every other body field, merged with the session defaults (the request's fields win).
    public var fields: JSONObject
    /// `fields` without `generate`, serialised as `,"key":value` pairs.
    var fieldsJSON: [UInt8]
    /// `generate` as given (sent over WebSocket only, §5.4).
    public var generate: Bool?
    public var chaining: Chaining

    /// No input, no fields: the request of a handshake-only prewarm (never sent).
    public static let empty = TurnRequest(newItems: [], fields: JSONObject(), fieldsJSON: [], generate: nil, chaining: .session)

    /// Fields the library owns on the wire (§3.1): never taken from the caller's body.
    static let transportFields: Set<String> = ["type", "stream", "stream_options", "previous_response_id", "input", "generate", "background", "stream_id"]

    public static func prepare(
        _ json: UnsafeRawBufferPointer, defaults: JSONObject, streamID: String?, maxRequestBytes: Int
    ) throws(RWSError) -> TurnRequest {
        let value: JSONValue
        do {
            value = try JSONValue.parse(json)
        } catch {
            throw RWSError(.invalidJSON, "the request is not valid JSON: \(error.description)")
        }
        guard case .object(let body) = value else {
            throw RWSError(.invalidJSON, "the request must be a JSON object with the fields of POST /v1/responses")
        }
        if body["background"]?.boolValue == true {
            throw RWSError(.unsupported, "\"background\": true is not supported over WebSocket (docs/PROTOCOL.md §3.1); remove it")
        }
        if let lane = body["stream_id"], lane != .null, lane.stringValue != streamID {
            throw RWSError(.invalidArgument, "the request's \"stream_id\" differs from the session's lane; set the lane with rws_session_options.stream_id")
        }
        var generate: Bool?
        if let g = body["generate"] {
            guard let b = g.boolValue else { throw RWSError(.invalidJSON, "\"generate\" must be true or false") }
            generate = b
        }
        let chaining: Chaining
        switch body["previous_response_id"] {
        case nil: chaining = .session
        case .null?: chaining = .none
        case .string(let id)?: chaining = id.isEmpty ? .none : .explicit(id)
        default: throw RWSError(.invalidJSON, "\"previous_response_id\" must be a string or null")
        }

        let items = try normalizedInput(body["input"])
        var fields = defaults
        for (key, v) in body.members where !transportFields.contains(key) { fields[key] = v }
        for key in transportFields { fields[key] = nil }

        var fieldsJSON: [UInt8] = []
        for (key, v) in fields.members {
            fieldsJSON.append(UInt8(ascii: ","))
            JSONValue.writeString(key, to: &fieldsJSON)
            fieldsJSON.append(UInt8(ascii: ":"))
            v.write(to: &fieldsJSON)
        }
        let request = TurnRequest(newItems: items, fields: fields, fieldsJSON: fieldsJSON, generate: generate, chaining: chaining)
        let estimate = request.webSocketSize(items: items, previousResponseID: nil, streamID: streamID) + 128
        if estimate > maxRequestBytes {
            throw RWSError(.requestTooBig, "the request is \(estimate) bytes, over the \(maxRequestBytes)-byte limit (max_request_bytes); upload large files and images by file_id instead of inline")
        }
        return request
    }

    /// `input` as a list of items: a string is one user message (as the API reads it).
    static func normalizedInput(_ input: JSONValue?) throws(RWSError) -> [[UInt8]] {
        switch input {
        case nil, .null?:
            return []
        case .string(let text)?:
            let message: JSONValue = ["type": "message", "role": "user", "content": .string(text)]
            return [message.serialized]
        case .array(let items)?:
            var out: [[UInt8]] = []
            out.reserveCapacity(items.count)
            for item in items {
                guard case .object = item else {
                    throw RWSError(.invalidJSON, "every element of \"input\" must be an item object")
                }
                out.append(item.serialized)
            }
            return out
        default:
            throw RWSError(.invalidJSON, "\"input\" must be a string or an array of items")
        }
    }

    // MARK: wire bodies

    /// The same request as a warm-up (§5.4): prepares the chain, generates nothing.
    public var asWarmup: TurnRequest {
        var copy = self
        copy.generate = false
        return copy
    }

    func webSocketSize(items: [[UInt8]], previousResponseID: String?, streamID: String?) -> Int {
        var n = 48 + fieldsJSON.count + 12 + items.reduce(0) { $0 + $1.count + 1 }
        if let previousResponseID { n += 26 + previousResponseID.utf8.count }
        if let streamID { n += 14 + streamID.utf8.count }
        return n
    }

    /// The `response.create` frame (§3.1): flat body, `type` first, never `stream`/`background`.
    /// `items` are the input items to send (the new ones, or the full context on a fresh chain).
    public func webSocketBody(items: [[UInt8]], previousResponseID: String?, streamID: String?, allocator: ByteBufferAllocator) -> ByteBuffer {
        var out: [UInt8] = []
        out.reserveCapacity(webSocketSize(items: items, previousResponseID: previousResponseID, streamID: streamID))
        out.append(contentsOf: #"{"type":"response.create""#.utf8)
        if let streamID {
            out.append(contentsOf: #","stream_id":"#.utf8)
            JSONValue.writeString(streamID, to: &out)
        }
        if let previousResponseID {
            out.append(contentsOf: #","previous_response_id":"#.utf8)
            JSONValue.writeString(previousResponseID, to: &out)
        }
        if let generate {
            out.append(contentsOf: (generate ? #","generate":true"# : #","generate":false"#).utf8)
        }
        appendInput(items, to: &out)
        out.append(contentsOf: fieldsJSON)
        out.append(UInt8(ascii: "}"))
        var buffer = allocator.buffer(capacity: out.count)
        buffer.writeBytes(out)
        return buffer
    }

    /// The body of `POST /v1/responses` with SSE streaming: `items` is the full context (HTTP
    /// clients resend history), never `generate` or `stream_id` (§5.4, §5.11).
    public func httpBody(items: [[UInt8]], allocator: ByteBufferAllocator) -> ByteBuffer {
        var out: [UInt8] = []
        out.append(contentsOf: #"{"stream":true"#.utf8)
        appendInput(items, to: &out)
        out.append(contentsOf: fieldsJSON)
        out.append(UInt8(ascii: "}"))
        var buffer = allocator.buffer(capacity: out.count)
        buffer.writeBytes(out)
        return buffer
    }

    private func appendInput(_ items: [[UInt8]], to out: inout [UInt8]) {
        out.append(contentsOf: #","input":["#.utf8)
        for (i, item) in items.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: item)
        }
        out.append(UInt8(ascii: "]"))
    }
}
