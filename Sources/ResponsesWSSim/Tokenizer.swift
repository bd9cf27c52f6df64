/// The fake model's tokenizer: text is cut into short word pieces so that an answer yields many
/// `response.output_text.delta` events, like a real BPE model does.
///
/// Rules, on UTF-8 bytes so that counting large inputs is cheap and every piece is valid UTF-8:
/// - a space (or other whitespace) starts a new piece and stays at its front (" Hel", "lo");
/// - punctuation is a piece of its own;
/// - a piece never grows past 4 bytes, and never splits a multi-byte scalar.
enum Tokenizer {
    /// A text plus the end offsets of its pieces: piece `i` is `bytes[ends[i-1]..<ends[i]]`.
    struct Pieces: Sendable, Equatable {
        var bytes: [UInt8] = []
        var ends: [Int] = []

        var count: Int { ends.count }
        var text: String { String(decoding: bytes, as: UTF8.self) }

        func range(_ i: Int) -> Range<Int> { (i == 0 ? 0 : ends[i - 1])..<ends[i] }

        /// The first `n` pieces.
        func prefix(_ n: Int) -> Pieces {
            guard n < ends.count else { return self }
            let end = n == 0 ? 0 : ends[n - 1]
            return Pieces(bytes: Array(bytes[..<end]), ends: Array(ends[..<n]))
        }
    }

    static func tokenize(_ text: String) -> Pieces {
        var pieces = Pieces(bytes: Array(text.utf8))
        forEachBoundary(pieces.bytes) { pieces.ends.append($0) }
        return pieces
    }

    static func count(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { count(utf8: UnsafeRawBufferPointer($0)) }
    }

    static func count(utf8 bytes: UnsafeRawBufferPointer) -> Int {
        var n = 0
        forEachBoundary(bytes) { _ in n += 1 }
        return n
    }

    /// Calls `body` with the end offset of every piece, in order.
    @inline(__always)
    static func forEachBoundary<C: RandomAccessCollection>(_ bytes: C, _ body: (Int) -> Void)
    where C.Element == UInt8, C.Index == Int {
        guard !bytes.isEmpty else { return }
        var start = bytes.startIndex
        var previousWasPunctuation = isPunctuation(bytes[start])
        var i = bytes.startIndex + 1
        while i < bytes.endIndex {
            let b = bytes[i]
            let isContinuation = b & 0xC0 == 0x80
            let punctuation = isPunctuation(b)
            if !isContinuation && (isSpace(b) || punctuation || previousWasPunctuation || i - start >= 4) {
                body(i - bytes.startIndex)
                start = i
            }
            if !isContinuation { previousWasPunctuation = punctuation }
            i += 1
        }
        body(bytes.endIndex - bytes.startIndex)
    }

    @inline(__always) static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x09 || b == 0x0D }

    @inline(__always) static func isPunctuation(_ b: UInt8) -> Bool {
        if b >= 0x80 || isSpace(b) { return false }
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "_"):
            return false
        default:
            return true
        }
    }
}
