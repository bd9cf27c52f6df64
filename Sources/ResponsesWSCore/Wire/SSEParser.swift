import NIOCore

/// Incremental `text/event-stream` parser, following the HTML Living Standard's "interpreting an
/// event stream" where it matters for `POST /v1/responses` with `stream: true` (§5.11):
/// - lines end in LF, CR or CRLF, also when a CRLF is split across chunks;
/// - `data:` values (one leading space dropped) of one event are joined with "\n";
/// - comments (":…") and the `event`, `id`, `retry` and unknown fields are ignored (the JSON
///   payload carries its own `type`);
/// - a blank line dispatches the event; empty data and the `[DONE]` sentinel are not delivered;
/// - an event not closed by a blank line when the stream ends is discarded;
/// - a UTF-8 byte order mark at the very start is skipped.
/// A single-line event's data is a slice of the received bytes: no copy.
struct SSEParser {
    struct EventTooLarge: Error {}

    private static let lineFeed = UInt8(ascii: "\n")
    private static let carriageReturn = UInt8(ascii: "\r")
    private static let colon = UInt8(ascii: ":")
    private static let space = UInt8(ascii: " ")

    private let maxEventBytes: Int
    /// An unterminated line carried over from the previous chunk.
    private var partialLine: ByteBuffer?
    /// The previous chunk ended in CR: a leading LF in the next one belongs to it.
    private var skipLeadingLineFeed = false
    private var atStreamStart = true
    /// Leading bytes of a byte order mark seen so far: it may be split across reads.
    private var byteOrderMarkBytes = 0
    private var data: ByteBuffer?
    private var dataLineCount = 0

    init(maxEventBytes: Int) {
        self.maxEventBytes = maxEventBytes
    }

    mutating func feed(
        _ chunk: ByteBuffer,
        allocator: ByteBufferAllocator,
        onEvent: (ByteBuffer) -> Void
    ) throws(EventTooLarge) {
        var input = chunk
        guard input.readableBytes > 0 else { return }
        if atStreamStart {
            let mark: [UInt8] = [0xEF, 0xBB, 0xBF]
            let missing = mark[byteOrderMarkBytes...]
            let n = min(missing.count, input.readableBytes)
            if input.readableBytesView.prefix(n).elementsEqual(missing.prefix(n)) {
                input.moveReaderIndex(forwardBy: n)
                byteOrderMarkBytes += n
                guard byteOrderMarkBytes == mark.count else { return }  // the rest decides
            } else if byteOrderMarkBytes > 0 {
                partialLine = ByteBuffer(bytes: mark[..<byteOrderMarkBytes])  // not a mark: text
            }
            atStreamStart = false
            guard input.readableBytes > 0 else { return }
        }
        if skipLeadingLineFeed {
            skipLeadingLineFeed = false
            if input.readableBytesView.first == Self.lineFeed { input.moveReaderIndex(forwardBy: 1) }
        }
        while let lineLength = Self.lineLength(in: input), var line = input.readSlice(length: lineLength) {
            let terminator = input.readInteger(as: UInt8.self)
            if terminator == Self.carriageReturn {
                if input.readableBytes == 0 {
                    skipLeadingLineFeed = true
                } else if input.readableBytesView.first == Self.lineFeed {
                    input.moveReaderIndex(forwardBy: 1)
                }
            }
            if var partial = partialLine {
                partialLine = nil
                partial.writeBuffer(&line)
                line = partial
            }
            try process(line: line, allocator: allocator, onEvent: onEvent)
        }
        if input.readableBytes > 0 {
            if var partial = partialLine {
                partialLine = nil
                partial.writeBuffer(&input)
                partialLine = partial
            } else {
                partialLine = input
            }
            if let partialLine, partialLine.readableBytes > maxEventBytes + 8 { throw EventTooLarge() }
        }
    }

    /// Bytes before the first CR or LF, or nil if the buffer holds no line end.
    private static func lineLength(in buffer: ByteBuffer) -> Int? {
        buffer.withUnsafeReadableBytes { raw in
            raw.firstIndex { $0 == lineFeed || $0 == carriageReturn }
        }
    }

    private mutating func process(line: ByteBuffer, allocator: ByteBufferAllocator, onEvent: (ByteBuffer) -> Void) throws(EventTooLarge) {
        let bytes = line.readableBytesView
        guard let first = bytes.first else {
            dispatch(onEvent)
            return
        }
        if first == Self.colon { return }  // comment
        let colon = bytes.firstIndex(of: Self.colon) ?? bytes.endIndex
        guard bytes[bytes.startIndex..<colon].elementsEqual("data".utf8) else { return }
        var valueStart = colon < bytes.endIndex ? colon + 1 : colon
        if valueStart < bytes.endIndex && bytes[valueStart] == Self.space { valueStart += 1 }
        guard var value = line.getSlice(at: valueStart, length: bytes.endIndex - valueStart) else { return }
        try appendData(&value, allocator: allocator)
    }

    private mutating func appendData(_ value: inout ByteBuffer, allocator: ByteBufferAllocator) throws(EventTooLarge) {
        guard var joined = data else {
            data = value
            dataLineCount = 1
            if value.readableBytes > maxEventBytes { throw EventTooLarge() }
            return
        }
        data = nil
        if dataLineCount == 1 {
            // The first line was a slice of the input; joining needs a buffer of our own.
            var copy = allocator.buffer(capacity: joined.readableBytes + 1 + value.readableBytes)
            copy.writeBuffer(&joined)
            joined = copy
        }
        joined.writeInteger(Self.lineFeed)
        joined.writeBuffer(&value)
        dataLineCount += 1
        if joined.readableBytes > maxEventBytes { throw EventTooLarge() }
        data = joined
    }

    private mutating func dispatch(_ onEvent: (ByteBuffer) -> Void) {
        guard let event = data else { return }
        data = nil
        dataLineCount = 0
        if event.readableBytes == 0 || event.readableBytesView.elementsEqual("[DONE]".utf8) { return }
        onEvent(event)
    }
}
