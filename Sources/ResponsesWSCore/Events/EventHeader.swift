import ResponsesJSON

/// The fields of one server event that routing and callers need, read once from the raw frame
/// without building a tree or copying (DESIGN.md §3). Every span points into the frame's bytes;
/// strings marked `…Escaped` contain JSON escapes and must be decoded before use.
public struct EventHeader: Sendable {
    public var type: EventType = .other
    public var typeName = JSONSpan.empty
    public var responseID = JSONSpan.empty        // response.id, lifecycle events only
    public var responseStatus = JSONSpan.empty    // response.status, lifecycle events only
    public var response = JSONSpan.empty          // the whole `response` object, lifecycle events
    public var streamID = JSONSpan.empty
    public var itemID = JSONSpan.empty
    public var delta = JSONSpan.empty
    public var deltaEscaped = false
    public var errorCode = JSONSpan.empty         // `error` events: error.code
    public var errorMessage = JSONSpan.empty      // `error` events: error.message
    public var errorMessageEscaped = false
    public var sequenceNumber: Int64 = -1
    public var outputIndex: Int64 = -1
    public var errorStatus: Int32 = 0             // `error` events: top-level "status" (§4.5)

    public init() {}

    /// Reads the header of one event. Throws when the frame is not a JSON object with a string
    /// `type` (protocol §2 rule 1).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> EventHeader {
        var header = EventHeader()
        var scanner = JSONScanner(bytes)
        var sawType = false
        try scanner.forEachMember { s, key, _ in
            switch key.count {
            case 4 where s.span(key, equals: "type"):
                guard try s.peekKind() == .string else { try s.skipValue(); return }
                header.typeName = try s.scanString().span
                sawType = true
            case 5 where s.span(key, equals: "delta"):
                if try s.peekKind() == .string {
                    (header.delta, header.deltaEscaped) = try s.scanString()
                } else {
                    try s.skipValue()   // e.g. shell output deltas are objects
                }
            case 7 where s.span(key, equals: "item_id"):
                header.itemID = try s.readStringSpan()
            case 15 where s.span(key, equals: "sequence_number"):
                header.sequenceNumber = try s.readInt() ?? -1
            case 12 where s.span(key, equals: "output_index"):
                header.outputIndex = try s.readInt() ?? -1
            case 9 where s.span(key, equals: "stream_id"):
                header.streamID = try s.readStringSpan()
            case 8 where s.span(key, equals: "response"):
                try header.readResponse(&s)
            case 5 where s.span(key, equals: "error"):
                try header.readError(&s)
            case 6 where s.span(key, equals: "status"):
                header.errorStatus = Int32(clamping: try s.readInt() ?? 0)
            default:
                try s.skipValue()
            }
        }
        try scanner.expectEnd()
        guard sawType else { throw JSONSyntaxError("event has no string \"type\"", at: 0) }
        header.type = EventType.classify(bytes, header.typeName)
        if !header.type.carriesResponse { header.response = .empty }
        return header
    }

    private mutating func readResponse(_ s: inout JSONScanner) throws {
        guard try s.peekKind() == .object else { try s.skipValue(); return }
        let start = s.position
        try s.forEachMember { s, key, _ in
            if s.span(key, equals: "id") {
                responseID = try s.readStringSpan()
            } else if s.span(key, equals: "status") {
                responseStatus = try s.readStringSpan()
            } else {
                try s.skipValue()
            }
        }
        response = JSONSpan(start: start, end: s.position)
    }

    private mutating func readError(_ s: inout JSONScanner) throws {
        guard try s.peekKind() == .object else { try s.skipValue(); return }
        try s.forEachMember { s, key, _ in
            if s.span(key, equals: "code") {
                errorCode = try s.readStringSpan()
            } else if s.span(key, equals: "message"), try s.peekKind() == .string {
                (errorMessage, errorMessageEscaped) = try s.scanString()
            } else {
                try s.skipValue()
            }
        }
    }
}

extension JSONScanner {
    /// The span of a string value (empty for null or any other kind, which is consumed).
    /// Ids and codes never need escapes in practice; an escaped one is returned raw.
    mutating func readStringSpan() throws -> JSONSpan {
        if try peekKind() == .string { return try scanString().span }
        try skipValue()
        return .empty
    }
}
