import ResponsesJSON

/// The fields of one server event that routing and callers need, read once from the raw frame
/// without building a tree or copying (callers get the raw frame plus these fields). Every span
/// points into the frame's bytes; strings marked `…Escaped` contain JSON escapes and must be
/// decoded before use.
///
/// Spans are stored as 32-bit offsets (frames are at most `maxEventBytes`): the header is copied
/// a few times per event, and at 96 bytes a copy is a handful of register moves instead of a
/// `memcpy` call (at 188 bytes those calls were 8% of the client's time per event).
public struct EventHeader: Sendable {
    /// Largest frame a header can describe; the client caps max_message_bytes at it.
    public static let maxEventBytes = Int(UInt32.max)

    public var type: EventType = .other
    public var deltaEscaped = false
    public var errorMessageEscaped = false
    public var errorStatus: Int32 = 0             // `error` events: top-level "status" (§4.5)
    public var sequenceNumber: Int64 = -1
    public var outputIndex: Int64 = -1
    private var spans = Spans()

    /// The stored spans: start and end offsets, two per field.
    private struct Spans: Sendable {
        var typeName = CompactSpan(), responseID = CompactSpan(), responseStatus = CompactSpan()
        var response = CompactSpan(), streamID = CompactSpan(), itemID = CompactSpan()
        var delta = CompactSpan(), errorCode = CompactSpan(), errorMessage = CompactSpan()
    }

    public var typeName: JSONSpan { get { spans.typeName.span } set { spans.typeName = CompactSpan(newValue) } }
    /// response.id, lifecycle events only.
    public var responseID: JSONSpan { get { spans.responseID.span } set { spans.responseID = CompactSpan(newValue) } }
    /// response.status, lifecycle events only.
    public var responseStatus: JSONSpan { get { spans.responseStatus.span } set { spans.responseStatus = CompactSpan(newValue) } }
    /// The whole `response` object, lifecycle events only.
    public var response: JSONSpan { get { spans.response.span } set { spans.response = CompactSpan(newValue) } }
    public var streamID: JSONSpan { get { spans.streamID.span } set { spans.streamID = CompactSpan(newValue) } }
    public var itemID: JSONSpan { get { spans.itemID.span } set { spans.itemID = CompactSpan(newValue) } }
    public var delta: JSONSpan { get { spans.delta.span } set { spans.delta = CompactSpan(newValue) } }
    /// `error` events: error.code.
    public var errorCode: JSONSpan { get { spans.errorCode.span } set { spans.errorCode = CompactSpan(newValue) } }
    /// `error` events: error.message.
    public var errorMessage: JSONSpan { get { spans.errorMessage.span } set { spans.errorMessage = CompactSpan(newValue) } }

    public init() {}

    /// Reads the header of one event. Throws when the frame is not a JSON object with a string
    /// `type` (§2.1).
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws -> EventHeader {
        guard bytes.count <= maxEventBytes else {
            throw JSONSyntaxError("event of \(bytes.count) bytes is larger than the 4 GiB an event header can describe", at: 0)
        }
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

/// A span in 8 bytes instead of 16, for a struct that holds many (offsets below 4 GiB).
struct CompactSpan: Sendable {
    private var start: UInt32 = 0
    private var end: UInt32 = 0

    init() {}
    @inline(__always) init(_ span: JSONSpan) {
        start = UInt32(truncatingIfNeeded: span.start)
        end = UInt32(truncatingIfNeeded: span.end)
    }
    @inline(__always) var span: JSONSpan { JSONSpan(start: Int(start), end: Int(end)) }
}
