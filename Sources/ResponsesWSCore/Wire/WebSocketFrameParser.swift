import NIOCore
import ResponsesDeflate
import ResponsesJSON

/// Reads WebSocket messages sent by a server (RFC 6455 §5) straight out of the socket's bytes.
///
/// Why not NIO's `WebSocketFrameDecoder` + `NIOWebSocketFrameAggregator` (which we still use
/// for the handshake and for everything we send): they hand every frame down the pipeline as a
/// type-erased `NIOAny`, a heap box per frame, through two extra handlers. Responses events are
/// small (~200 bytes, thousands per second), and that framing took about a third of the
/// client's CPU per event (`perf record` on `rws bench`). This parser does the same job for
/// the one direction it serves: frames from a server are never masked, and a text message is
/// handed on as a slice of the read buffer, without a copy, unless it was fragmented.
///
/// Text is checked to be UTF-8 as its bytes arrive (RFC 6455 §8.1), including the bytes of a
/// frame that is still incomplete, so a message fails at its first invalid byte.
///
/// With permessage-deflate negotiated (RFC 7692), a message whose first frame has RSV1 set is
/// compressed: each of its frames is inflated as it completes, into a buffer bounded by the
/// message limit (so a decompression bomb fails as `.tooBig` with bounded memory), and the
/// UTF-8 check runs on the inflated bytes.
struct WebSocketFrameParser {
    /// One thing the server sent, with fragments already joined.
    enum Message {
        case text(ByteBuffer)
        /// The first frame of a binary message (the rest is never read: the connection fails).
        case binary
        case ping(ByteBuffer)
        case pong
        /// A valid close frame: its code (nil when it had none) and its UTF-8 reason.
        case close(code: UInt16?, reason: ByteBuffer)
    }

    /// Why the byte stream is not acceptable WebSocket from a server.
    enum Violation: Error, Equatable {
        /// A message (or a frame of one) larger than the limit: close with 1009.
        case tooBig
        /// Anything else that breaks RFC 6455 §5 or §7.4: close with 1002. The text says what.
        case framing(String)
        /// Text (a message or a close reason) that is not UTF-8: close with 1007. The text says
        /// where.
        case invalidUTF8(String)
    }

    /// Largest message accepted, fragments joined (ConnectionConfig.maxMessageBytes).
    let maxMessageBytes: Int
    /// A text or binary message whose first fragment arrived and whose last did not.
    private(set) var fragmented: (isText: Bool, payload: ByteBuffer)?
    /// The start of a frame whose rest has not arrived yet.
    private(set) var partial: ByteBuffer?
    /// The UTF-8 check of the text message being received (fresh between messages).
    private var utf8 = UTF8Validator()
    /// How many payload bytes of the frame held in `partial` were already checked.
    private var partialChecked = 0

    /// Set when permessage-deflate was negotiated: RSV1 then marks a compressed message.
    private let inflater: MessageInflater?
    /// The inflated bytes of the compressed message being received (its first frame came).
    private var inflated: ByteBuffer?
    /// Compressed messages delivered.
    private(set) var compressedMessages: UInt64 = 0

    init(maxMessageBytes: Int, inflater: MessageInflater? = nil) {
        self.maxMessageBytes = maxMessageBytes
        self.inflater = inflater
    }

    /// Reads every complete message in `bytes` (one socket read) and calls `deliver` with each,
    /// in order, until it returns false (the connection is closing). The start of a frame that
    /// the read cut off is kept for the next call.
    mutating func feed(
        _ bytes: ByteBuffer, allocator: ByteBufferAllocator, deliver: (Message) -> Bool
    ) throws(Violation) {
        var bytes = bytes
        // A frame split by the previous read: complete it with just its missing bytes; the
        // rest of this read is parsed in place, without a copy.
        while var held = partial, bytes.readableBytes > 0 {
            partial = nil   // before writing: a second reference would make the write copy it all
            var piece = bytes.readSlice(length: min(Self.missingBytes(in: held), bytes.readableBytes))!
            held.writeBuffer(&piece)
            while let message = try next(from: &held) {
                guard deliver(message) else { return }
            }
            if held.readableBytes > 0 {
                partial = held
                try checkPartialText(held)
            }
        }
        while let message = try next(from: &bytes) {
            guard deliver(message) else { return }
        }
        // Keep only the unread tail, copied (at most one frame's start), so that the read
        // buffer itself is released, or reused by NIO, at once.
        if bytes.readableBytes > 0 && partial == nil {
            // Sized for the whole frame (within the limit), so completing it never reallocates.
            let frameBytes = bytes.readableBytes + min(Self.missingBytes(in: bytes), maxMessageBytes)
            var tail = allocator.buffer(capacity: frameBytes)
            tail.writeBuffer(&bytes)
            partial = tail
            try checkPartialText(tail)
        }
    }

    /// Checks the payload bytes of an incomplete text frame that arrived since the last check,
    /// so that invalid UTF-8 fails the connection before the rest of the frame is waited for.
    private mutating func checkPartialText(_ held: ByteBuffer) throws(Violation) {
        guard let (b0, _) = held.getMultipleIntegers(at: held.readerIndex, as: (UInt8, UInt8).self),
              case .known(let headerLength, _) = Self.lengths(in: held),
              isText(opcode: b0 & 0x0F), b0 & 0x40 == 0, inflated == nil else { return }   // compressed: checked once inflated
        let available = held.readableBytes - headerLength
        guard available > partialChecked else { return }
        try checkText(held, from: held.readerIndex + headerLength + partialChecked, count: available - partialChecked)
        partialChecked = available
    }

    /// Whether a data frame with `opcode` carries text: a text frame that starts a message, or
    /// a continuation of a text message.
    private func isText(opcode: UInt8) -> Bool {
        opcode == 0x1 ? fragmented == nil : opcode == 0x0 && fragmented?.isText == true
    }

    private mutating func checkText(_ buffer: ByteBuffer, from index: Int, count: Int) throws(Violation) {
        guard count > 0 else { return }
        let valid = buffer.withUnsafeReadableBytes { bytes in
            utf8.feed(UnsafeRawBufferPointer(start: bytes.baseAddress! + (index - buffer.readerIndex), count: count))
        }
        if !valid {
            throw .invalidUTF8("a text message that is not valid UTF-8 (byte \(utf8.validBytes) of the message)")
        }
    }

    /// Checks the rest of a complete text frame's payload; at the message's last frame, that
    /// it does not end inside a character. Resets the check for the next message.
    private mutating func finishText(_ payload: ByteBuffer, fin: Bool) throws(Violation) {
        let checked = partialChecked
        partialChecked = 0
        try checkText(payload, from: payload.readerIndex + checked, count: payload.readableBytes - checked)
        guard fin else { return }
        defer { utf8 = UTF8Validator() }
        if !utf8.isComplete {
            throw .invalidUTF8("a text message that is not valid UTF-8 (it ends inside a character)")
        }
    }

    /// Takes the next complete message off the front of `buffer`; nil when more bytes are
    /// needed (nothing is consumed then, except whole fragments that were set aside).
    private mutating func next(from buffer: inout ByteBuffer) throws(Violation) -> Message? {
        while true {
            guard let frame = try Self.frame(in: buffer, maxPayload: maxMessageBytes - (fragmented?.payload.readableBytes ?? 0),
                                             compression: inflater != nil) else {
                return nil
            }
            // A slice shares the read buffer's memory: no copy. (NIO reads only readable bytes,
            // so it is taken before the frame is consumed.)
            let payload = buffer.getSlice(at: buffer.readerIndex + frame.payloadOffset, length: frame.payloadLength)!
            buffer.moveReaderIndex(forwardBy: frame.length)
            if let message = try assemble(frame, payload: payload) { return message }
        }
    }

    /// How many more bytes the frame starting at `buffer`'s reader index needs before it is
    /// complete (0 when it is). Lets a frame split across two reads be completed by moving
    /// only its missing bytes, not the whole next read.
    private static func missingBytes(in buffer: ByteBuffer) -> Int {
        let have = buffer.readableBytes
        switch lengths(in: buffer) {
        case .needHeaderBytes(let total):
            return total - have
        case .known(let headerLength, let payloadLength):
            let total = UInt64(headerLength) + min(payloadLength, UInt64(Int.max / 2))
            return Int(total) - min(have, Int(total))
        }
    }

    /// The header and payload lengths of the frame at the reader index (RFC 6455 §5.2: a
    /// 7-bit length, or 126/127 followed by a 16/64-bit one), or how many header bytes are
    /// needed to know them.
    private enum Lengths {
        case needHeaderBytes(Int)
        case known(header: Int, payload: UInt64)
    }

    private static func lengths(in buffer: ByteBuffer) -> Lengths {
        let start = buffer.readerIndex
        guard let b1 = buffer.getInteger(at: start + 1, as: UInt8.self) else { return .needHeaderBytes(2) }
        switch b1 & 0x7F {
        case 126:
            guard let n = buffer.getInteger(at: start + 2, as: UInt16.self) else { return .needHeaderBytes(4) }
            return .known(header: 4, payload: UInt64(n))
        case 127:
            guard let n = buffer.getInteger(at: start + 2, as: UInt64.self) else { return .needHeaderBytes(10) }
            return .known(header: 10, payload: n)
        case let short:
            return .known(header: 2, payload: UInt64(short))
        }
    }

    /// A frame's header, read without consuming anything.
    private struct Frame {
        var fin: Bool
        /// RSV1: the first frame of a compressed message (only when permessage-deflate was negotiated).
        var compressed: Bool
        var opcode: UInt8
        /// Where the payload starts and how long it is, relative to the frame's start.
        var payloadOffset: Int
        var payloadLength: Int
        /// The whole frame: header plus payload.
        var length: Int { payloadOffset + payloadLength }
    }

    private static func frame(in buffer: ByteBuffer, maxPayload: Int, compression: Bool) throws(Violation) -> Frame? {
        let start = buffer.readerIndex
        guard let (b0, b1) = buffer.getMultipleIntegers(at: start, as: (UInt8, UInt8).self) else { return nil }
        if b0 & 0x30 != 0 || (b0 & 0x40 != 0 && !compression) {
            throw .framing(compression ? "a frame with RSV2 or RSV3 set (no extension defines them)"
                                       : "a frame with reserved bits set (no extension was negotiated)")
        }
        if b0 & 0x40 != 0 && b0 & 0x0F == 0 {
            throw .framing("a continuation frame with RSV1 set (RFC 7692 §6.1: only a message's first frame carries it)")
        }
        if b0 & 0x40 != 0 && b0 & 0x08 != 0 {
            throw .framing("a control frame with RSV1 set (RFC 7692 §6.1: control frames are never compressed)")
        }
        if b1 & 0x80 != 0 {
            throw .framing("a masked frame (RFC 6455 §5.1: a server must not mask its frames)")
        }
        let opcode = b0 & 0x0F
        guard case .known(let offset, let length) = lengths(in: buffer) else { return nil }
        if opcode >= 0x8 && (length > 125 || b0 & 0x80 == 0) {
            throw .framing("a control frame longer than 125 bytes or fragmented (RFC 6455 §5.5)")
        }
        // Refuse before buffering: a frame over the limit is never read in full.
        if opcode < 0x8 && length > UInt64(max(maxPayload, 0)) { throw .tooBig }
        let frame = Frame(fin: b0 & 0x80 != 0, compressed: b0 & 0x40 != 0, opcode: opcode, payloadOffset: offset, payloadLength: Int(length))
        return buffer.readableBytes >= frame.length ? frame : nil
    }

    /// The frame just consumed as a message, or nil when it was a fragment of one that goes on.
    private mutating func assemble(_ frame: Frame, payload: consuming ByteBuffer) throws(Violation) -> Message? {
        switch frame.opcode {
        case 0x1, 0x2:
            guard fragmented == nil else {
                throw .framing("a new message began before the fragmented one ended (RFC 6455 §5.4)")
            }
            guard frame.opcode == 0x1 else { return .binary }
            if frame.compressed {
                inflated = ByteBuffer()
                return try inflateText(payload, fin: frame.fin)
            }
            try finishText(payload, fin: frame.fin)
            if frame.fin { return .text(payload) }
            fragmented = (true, payload)
            return nil
        case 0x0:
            guard case .some((let isText, var joined)) = fragmented else {
                throw .framing("a continuation frame without a message to continue (RFC 6455 §5.4)")
            }
            fragmented = nil   // `joined` is then the only reference: appending does not copy it all
            if inflated != nil { return try inflateText(payload, fin: frame.fin) }
            if isText { try finishText(payload, fin: frame.fin) }
            var more = payload
            joined.writeBuffer(&more)
            guard frame.fin else {
                fragmented = (isText, joined)
                return nil
            }
            return isText ? .text(joined) : .binary
        case 0x8: return try Self.close(payload)
        case 0x9: return .ping(payload)
        case 0xA: return .pong
        default: throw .framing("a frame with unknown opcode \(frame.opcode)")
        }
    }

    /// Inflates one frame of a compressed text message and checks the new bytes as UTF-8; at
    /// the last frame, the whole message. nil while more frames are to come.
    private mutating func inflateText(_ payload: ByteBuffer, fin: Bool) throws(Violation) -> Message? {
        guard let inflater, var output = inflated.take() else { return nil }
        let checkedUpTo = output.readableBytes
        do throws(InflateError) {
            if fin {
                try inflater.inflateLast(payload, into: &output, limit: maxMessageBytes)
            } else {
                try inflater.inflate(payload, into: &output, limit: maxMessageBytes)
            }
        } catch {
            inflater.reset()
            switch error {
            case .tooBig: throw .tooBig
            case .corrupt(let why): throw .framing("a compressed message that does not inflate (zlib: \(why))")
            }
        }
        try checkText(output, from: output.readerIndex + checkedUpTo, count: output.readableBytes - checkedUpTo)
        guard fin else {
            inflated = output
            // Keeps "a message is in progress" for the continuation checks; the bytes are in `inflated`.
            fragmented = (true, ByteBuffer())
            return nil
        }
        defer { utf8 = UTF8Validator() }
        if !utf8.isComplete {
            throw .invalidUTF8("a text message that is not valid UTF-8 (it ends inside a character)")
        }
        compressedMessages &+= 1
        return .text(output)
    }

    /// A close frame's code and reason (RFC 6455 §5.5.1, §7.4), refused when the code is not
    /// one an endpoint may send or the reason is not UTF-8.
    private static func close(_ payload: ByteBuffer) throws(Violation) -> Message {
        var payload = payload
        guard payload.readableBytes != 1 else {
            throw .framing("a close frame with a 1-byte payload (a close code has 2 bytes)")
        }
        guard let code = payload.readInteger(as: UInt16.self) else { return .close(code: nil, reason: payload) }
        guard isValidCloseCode(code) else {
            throw .framing("a close frame with code \(code), which no endpoint may send (RFC 6455 §7.4)")
        }
        var reason = UTF8Validator()
        let valid = payload.withUnsafeReadableBytes { reason.feed($0) } && reason.isComplete
        guard valid else { throw .invalidUTF8("a close frame whose reason is not valid UTF-8") }
        return .close(code: code, reason: payload)
    }

    /// Codes defined for use in close frames (RFC 6455 §7.4.1 and IANA's registry: 1012–1014),
    /// and the ranges for libraries and applications (3000–4999). 1004–1006 and 1015 are
    /// reserved and never sent.
    static func isValidCloseCode(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}
