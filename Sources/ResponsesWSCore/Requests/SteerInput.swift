import ResponsesJSON

/// The input of a `response.steer` (§3.2), checked on the caller's thread before anything is
/// sent: a string, or a non-empty array of user messages, each with only `type` ("message"),
/// `role` ("user") and `content` (a string, or `input_text` / `input_image` / `input_file`
/// parts). The server rejects anything else with `invalid_input`; failing here instead names
/// the offending item and loses no round trip.
public struct SteerInput: Sendable {
    /// The input as given, for the wire.
    public let json: [UInt8]
    /// The input as user message items: what a successor's context gains (the transcript).
    let items: [[UInt8]]

    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(RWSError) -> SteerInput {
        let value: JSONValue
        do {
            value = try JSONValue.parse(bytes)
        } catch {
            throw RWSError(.invalidJSON, "the steer input is not valid JSON: \(error.description)")
        }
        switch value {
        case .string(let text):
            guard !text.isEmpty else { throw invalid("the steer input is an empty string") }
            let item: JSONValue = ["type": "message", "role": "user", "content": .string(text)]
            return SteerInput(json: Array(bytes), items: [item.serialized])
        case .array(let messages) where !messages.isEmpty:
            var items: [[UInt8]] = []
            for (i, message) in messages.enumerated() {
                guard case .object(var fields) = message else { throw invalid("input[\(i)] is not a message object") }
                try check(fields, at: i)
                if fields["type"] == nil { fields.members.insert(("type", "message"), at: 0) }
                items.append(JSONValue.object(fields).serialized)
            }
            return SteerInput(json: Array(bytes), items: items)
        default:
            throw invalid("the steer input must be a string or a non-empty array of user messages")
        }
    }

    private static func check(_ message: JSONObject, at i: Int) throws(RWSError) {
        if let extra = message.keys.first(where: { !["type", "role", "content"].contains($0) }) {
            throw invalid("input[\(i)].\(extra) is not allowed: a steer carries user messages with only type, role and content")
        }
        if let type = message["type"], type.stringValue != "message" { throw invalid("input[\(i)].type must be \"message\"") }
        guard message["role"]?.stringValue == "user" else { throw invalid("input[\(i)].role must be \"user\": only user input can steer") }
        switch message["content"] {
        case .string?:
            return
        case .array(let parts)?:
            for (j, part) in parts.enumerated() {
                switch part["type"]?.stringValue {
                case "input_text"?:
                    guard part["text"]?.stringValue != nil else { throw invalid("input[\(i)].content[\(j)].text must be a string") }
                case "input_image"?, "input_file"?:
                    continue
                default:
                    throw invalid("input[\(i)].content[\(j)].type must be input_text, input_image or input_file")
                }
            }
        default:
            throw invalid("input[\(i)].content must be a string or an array of content parts")
        }
    }

    private static func invalid(_ why: String) -> RWSError {
        RWSError(.invalidArgument, "\(why) (docs/PROTOCOL.md §3.2); nothing was sent")
    }
}
