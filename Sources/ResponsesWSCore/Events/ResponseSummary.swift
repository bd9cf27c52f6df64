import ResponsesJSON

/// What a session keeps from a terminal event's Response object: the id and status for the
/// chain, the output items for the transcript mirror, usage and error details for the result.
/// Read only on terminal events, so it may allocate.
public struct ResponseSummary: Sendable {
    public var id = ""
    public var status = ""
    public var outputItems: [[UInt8]] = []        // raw JSON of each output item
    public var inputTokens: Int64 = -1
    public var outputTokens: Int64 = -1
    public var cachedTokens: Int64 = -1
    public var reasoningTokens: Int64 = -1
    public var errorCode: String?
    public var errorMessage: String?
    public var incompleteReason: String?

    public init() {}

    /// Decodes the Response object at `span` of `bytes`.
    public static func decode(_ bytes: UnsafeRawBufferPointer, response span: JSONSpan) throws -> ResponseSummary {
        var summary = ResponseSummary()
        guard span.count > 0 else { return summary }
        var s = JSONScanner(UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.end]))
        try s.forEachMember { s, key, escaped in
            if s.span(key, equals: "id") {
                summary.id = try s.readString() ?? ""
            } else if s.span(key, equals: "status") {
                summary.status = try s.readString() ?? ""
            } else if s.span(key, equals: "output"), try s.peekKind() == .array {
                try s.forEachElement { s in
                    let item = try s.skipValue()
                    summary.outputItems.append(Array(s.bytes[item.start..<item.end]))
                }
            } else if s.span(key, equals: "usage"), try s.peekKind() == .object {
                try summary.readUsage(&s)
            } else if s.span(key, equals: "error"), try s.peekKind() == .object {
                try s.forEachMember { s, key, _ in
                    if s.span(key, equals: "code") { summary.errorCode = try s.readString() }
                    else if s.span(key, equals: "message") { summary.errorMessage = try s.readString() }
                    else { try s.skipValue() }
                }
            } else if s.span(key, equals: "incomplete_details"), try s.peekKind() == .object {
                try s.forEachMember { s, key, _ in
                    if s.span(key, equals: "reason") { summary.incompleteReason = try s.readString() }
                    else { try s.skipValue() }
                }
            } else {
                try s.skipValue()
            }
        }
        return summary
    }

    private mutating func readUsage(_ s: inout JSONScanner) throws {
        try s.forEachMember { s, key, _ in
            if s.span(key, equals: "input_tokens") { inputTokens = try s.readInt() ?? -1 }
            else if s.span(key, equals: "output_tokens") { outputTokens = try s.readInt() ?? -1 }
            else if s.span(key, equals: "input_tokens_details"), try s.peekKind() == .object {
                try s.forEachMember { s, key, _ in
                    if s.span(key, equals: "cached_tokens") { cachedTokens = try s.readInt() ?? -1 } else { try s.skipValue() }
                }
            } else if s.span(key, equals: "output_tokens_details"), try s.peekKind() == .object {
                try s.forEachMember { s, key, _ in
                    if s.span(key, equals: "reasoning_tokens") { reasoningTokens = try s.readInt() ?? -1 } else { try s.skipValue() }
                }
            } else {
                try s.skipValue()
            }
        }
    }
}

extension JSONScanner {
    /// Reads a string value (decoded), or nil for null / other kinds (consumed either way).
    mutating func readString() throws -> String? {
        guard try peekKind() == .string else { try skipValue(); return nil }
        let (span, escaped) = try scanString()
        return string(span, escaped: escaped)
    }
}
