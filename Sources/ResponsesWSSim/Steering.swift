import NIOCore
import ResponsesJSON

/// A validated `response.steer` (PROTOCOL.md §3.2).
struct SteerRequest: Sendable {
    var target: String
    /// The input exactly as sent: `response.steer.failed` hands it back (§4.6).
    var rawInput: JSONValue
    /// The input as user message items, ready to become a response's new input.
    var items: [JSONValue]
    /// The messages' text, for the fake model's answer.
    var text: String

    /// Why a steer is `invalid_input`.
    struct Invalid: Error { var message: String }

    /// §3.2 rules.
    static func parse(_ body: JSONObject) -> Result<SteerRequest, Invalid> {
        for (key, _) in body.members where key != "type" && key != "previous_response_id" && key != "input" {
            return .failure(Invalid(message: key == "stream_id"
                ? "'stream_id' must not be sent with response.steer: the target response's lane applies."
                : "Unknown parameter: '\(key)'. A steer has only 'type', 'previous_response_id' and 'input'."))
        }
        guard let target = body["previous_response_id"]?.stringValue, !target.isEmpty else {
            return .failure(Invalid(message: "'previous_response_id' must be the id of a response on this connection."))
        }
        let raw = body["input"] ?? .null
        switch raw {
        case .string(let text):
            return .success(SteerRequest(target: target, rawInput: raw,
                                         items: [["type": "message", "role": "user", "content": .string(text)]], text: text))
        case .array(let messages) where !messages.isEmpty:
            var text = ""
            for (i, message) in messages.enumerated() {
                if let problem = problem(inMessage: message, at: i) { return .failure(Invalid(message: problem)) }
                if let t = ItemText.userText(message), !t.isEmpty { text += (text.isEmpty ? "" : " ") + t }
            }
            // An optional `type` is spelled out, as the create path stores it.
            let items = messages.map { m -> JSONValue in
                guard m["type"] == nil, case .object(var o) = m else { return m }
                o.members.insert(("type", "message"), at: 0)
                return .object(o)
            }
            return .success(SteerRequest(target: target, rawInput: raw, items: items, text: text))
        case .array:
            return .failure(Invalid(message: "'input' must not be an empty array."))
        default:
            return .failure(Invalid(message: "'input' must be a string or a non-empty array of user messages."))
        }
    }

    /// Only `type` ("message"), `role` ("user") and `content` (a string or input_text /
    /// input_image / input_file parts): no ids, status, other roles or tool outputs.
    private static func problem(inMessage message: JSONValue, at i: Int) -> String? {
        guard case .object(let o) = message else { return "'input[\(i)]' must be a user message object." }
        for (key, _) in o.members where key != "type" && key != "role" && key != "content" {
            return "'input[\(i)].\(key)' is not allowed: steering input is user messages with only 'type', 'role' and 'content'."
        }
        if let type = o["type"], type.stringValue != "message" {
            return "'input[\(i)].type' must be 'message': steering input is user messages only."
        }
        guard o["role"]?.stringValue == "user" else { return "'input[\(i)].role' must be 'user'." }
        switch o["content"] {
        case .string?:
            return nil
        case .array(let parts)?:
            for (j, part) in parts.enumerated() {
                switch part["type"]?.stringValue {
                case "input_text"?:
                    if part["text"]?.stringValue == nil { return "'input[\(i)].content[\(j)].text' must be a string." }
                case "input_image"?, "input_file"?:
                    break
                default:
                    return "'input[\(i)].content[\(j)].type' must be 'input_text', 'input_image' or 'input_file'."
                }
            }
            return nil
        default:
            return "'input[\(i)].content' must be a string or an array of content parts."
        }
    }
}

/// A steer the server took (`response.steer.accepted`): queued until it is committed or fails.
struct AcceptedSteer: Sendable {
    /// "steer_" + 32 lowercase hex digits.
    var id: String
    var request: SteerRequest
    /// `--fault steer-fail@N`: fail with `successor_creation_failed` where it would be committed.
    var failsAtCommit: Bool
}

/// One identifying stub of `response.steer.pending` (§4.6): what the client must supply.
struct RequiredInputStub: Sendable {
    var callID: String
    var name: String
}

/// A response of this connection that has ended, as steering needs it.
struct EndedResponse: Sendable {
    var streamID: String?
    var model: String
    /// The next `sequence_number` inside its numbering (steer events after its terminal event).
    var nextSequence: Int
    /// Set while it waits for client tool output (it completed with a function call and no
    /// continuation from it has started on its lane yet): steers are then still accepted.
    var waitingFor: [RequiredInputStub]?
}

/// The steering state of one connection: the steers queued per target and a bounded memory of
/// ended responses (to tell `response_already_completed` from `response_not_found`). It lives
/// on the connection and is dropped with it (PROTOCOL.md §5.2).
struct SteerBook {
    /// Queued (accepted, not yet committed or failed) steers one response may hold; one more
    /// gets `too_many_pending_steers` (§4.6). The real limit is undocumented; the simulator's is 4.
    static let maxQueuedPerResponse = 4
    /// Ended responses remembered; older ones answer `response_not_found`.
    static let endedToRemember = 1024

    private(set) var queued: [String: [AcceptedSteer]] = [:]
    private(set) var ended: [String: EndedResponse] = [:]
    private var endedOrder = CircularBuffer<String>()

    func queuedCount(_ target: String) -> Int { queued[target]?.count ?? 0 }

    mutating func enqueue(_ steer: AcceptedSteer) { queued[steer.request.target, default: []].append(steer) }

    /// Removes and returns the target's queued steers, in submission order.
    mutating func takeQueued(_ target: String) -> [AcceptedSteer] { queued.removeValue(forKey: target) ?? [] }

    mutating func recordEnded(_ id: String, _ response: EndedResponse) {
        if ended.updateValue(response, forKey: id) == nil { endedOrder.append(id) }
        while endedOrder.count > Self.endedToRemember, let oldest = endedOrder.popFirst() {
            ended[oldest] = nil
            queued[oldest] = nil
        }
    }

    /// A continuation from `id` started on its lane: it no longer waits for input.
    mutating func markContinued(_ id: String) { ended[id]?.waitingFor = nil }

    /// The next sequence number inside an ended response's numbering.
    mutating func takeSequence(_ id: String) -> Int? {
        guard let n = ended[id]?.nextSequence else { return nil }
        ended[id]?.nextSequence = n + 1
        return n
    }
}

/// The JSON of the three steer events (§4.6), each with `stream_id` when the target's lane is named.
enum SteerEvents {
    static func accepted(_ buf: inout ByteBuffer, sequence: Int, steerID: String, target: String, streamID: String?) {
        buf.writeStaticString(#"{"type":"response.steer.accepted","sequence_number":"#)
        buf.writeJSONInt(sequence)
        writeSteer(&buf, id: steerID, target: target)
        buf.writeStaticString("}")
        close(&buf, streamID: streamID)
    }

    static func pending(_ buf: inout ByteBuffer, sequence: Int, steerID: String, target: String,
                        stubs: [RequiredInputStub], streamID: String?) {
        buf.writeStaticString(#"{"type":"response.steer.pending","sequence_number":"#)
        buf.writeJSONInt(sequence)
        writeSteer(&buf, id: steerID, target: target)
        buf.writeStaticString(#"},"reason":"waiting_for_required_input","required_input":["#)
        for (i, stub) in stubs.enumerated() {
            if i > 0 { buf.writeStaticString(",") }
            buf.writeStaticString(#"{"type":"function_call_output","call_id":"#)
            buf.writeJSONString(stub.callID)
            buf.writeStaticString(#","name":"#)
            buf.writeJSONString(stub.name)
            buf.writeStaticString("}")
        }
        buf.writeStaticString("]")
        close(&buf, streamID: streamID)
    }

    /// `steerID` is nil when the steer failed before it was given one.
    static func failed(_ buf: inout ByteBuffer, sequence: Int, steerID: String?, target: String, input: JSONValue,
                       code: String, message: String, streamID: String?) {
        buf.writeStaticString(#"{"type":"response.steer.failed","sequence_number":"#)
        buf.writeJSONInt(sequence)
        buf.writeStaticString(#","error":{"type":"invalid_request_error","code":"#)
        buf.writeJSONString(code)
        buf.writeStaticString(#","message":"#)
        buf.writeJSONString(message)
        buf.writeStaticString(#"},"steer":{"#)
        if let steerID {
            buf.writeStaticString(#""id":"#)
            buf.writeJSONString(steerID)
            buf.writeStaticString(",")
        }
        buf.writeStaticString(#""previous_response_id":"#)
        buf.writeJSONString(target)
        buf.writeStaticString(#","input":"#)
        buf.writeJSONValue(input)
        buf.writeStaticString("}")
        close(&buf, streamID: streamID)
    }

    private static func writeSteer(_ buf: inout ByteBuffer, id: String, target: String) {
        buf.writeStaticString(#","steer":{"id":"#)
        buf.writeJSONString(id)
        buf.writeStaticString(#","previous_response_id":"#)
        buf.writeJSONString(target)
    }

    private static func close(_ buf: inout ByteBuffer, streamID: String?) {
        if let streamID {
            buf.writeStaticString(#","stream_id":"#)
            buf.writeJSONString(streamID)
        }
        buf.writeStaticString("}")
    }
}
