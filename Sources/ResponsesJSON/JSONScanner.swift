// A zero-allocation JSON scanner over borrowed bytes.
//
// Why hand-written: the transport must read a few fields of every server event (type, ids,
// sequence number, delta) without building a tree and without re-encoding the frame (callers
// get the frame's own bytes). Foundation's JSONSerialization allocates a full tree per event
// and costs ~40 MB when linked statically. `rws bench --only decode` measures its cost per event.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A byte range inside the scanned buffer: offsets, so it stays valid for any copy of the bytes.
public struct JSONSpan: Equatable, Sendable {
    public var start: Int
    public var end: Int
    @inlinable public init(start: Int, end: Int) { self.start = start; self.end = end }
    @inlinable public var count: Int { end - start }
    /// Computed, not stored: a stored `static let` read from another module goes through a lazy
    /// initialiser check on every access, and every event header starts from ten of these.
    @inlinable public static var empty: JSONSpan { JSONSpan(start: 0, end: 0) }
}

public struct JSONSyntaxError: Error, Equatable, Sendable, CustomStringConvertible {
    public var message: String
    public var offset: Int
    public init(_ message: String, at offset: Int) { self.message = message; self.offset = offset }
    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}

/// The kind of a JSON value, known from its first byte.
public enum JSONKind: Sendable, Equatable {
    case object, array, string, number, bool, null
}

/// Scans one JSON document held in `bytes`. All positions are offsets into `bytes`.
/// The per-event path (string scan, member loop) is `@inlinable`: callers in other modules
/// (`EventHeader.decode`) then inline it and its closure instead of calling across modules.
public struct JSONScanner {
    public let bytes: UnsafeRawBufferPointer
    @usableFromInline var pos: Int = 0

    @inlinable public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    @inlinable public var position: Int { pos }

    @inlinable subscript(_ i: Int) -> UInt8 { bytes[i] }

    /// Compact JSON (what servers send) has no whitespace: one inlined compare decides that,
    /// and only real whitespace pays for the loop.
    @inlinable @inline(__always) mutating func skipWhitespace() {
        if pos < bytes.count && bytes[pos] > 0x20 { return }
        skipWhitespaceLoop()
    }

    @usableFromInline mutating func skipWhitespaceLoop() {
        while pos < bytes.count {
            let c = bytes[pos]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 } else { return }
        }
    }

    @inlinable func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message, at: pos) }

    /// The kind of the value at the current position (after whitespace).
    @inlinable public mutating func peekKind() throws -> JSONKind {
        skipWhitespace()
        guard pos < bytes.count else { throw error("unexpected end of input") }
        switch bytes[pos] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number
        default: throw error("unexpected character '\(Character(Unicode.Scalar(bytes[pos])))'")
        }
    }

    /// Skips one complete value and returns its span. Validates syntax as it goes.
    @discardableResult
    public mutating func skipValue(depth: Int = 0) throws -> JSONSpan {
        guard depth < 512 else { throw error("nesting deeper than 512 levels") }
        let kind = try peekKind()
        let start = pos
        switch kind {
        case .string:
            _ = try scanString()
        case .number:
            try scanNumber()
        case .bool:
            if matchLiteral("true") || matchLiteral("false") { break }
            throw error("invalid literal")
        case .null:
            if matchLiteral("null") { break }
            throw error("invalid literal")
        case .array:
            pos += 1
            skipWhitespace()
            if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") { pos += 1; break }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                guard pos < bytes.count else { throw error("unterminated array") }
                let c = bytes[pos]; pos += 1
                if c == UInt8(ascii: "]") { break }
                if c != UInt8(ascii: ",") { pos -= 1; throw error("expected ',' or ']' in array") }
            }
        case .object:
            try forEachMember(depth: depth) { scanner, _, _ in try scanner.skipValue(depth: depth + 1) }
        }
        return JSONSpan(start: start, end: pos)
    }

    @inlinable mutating func matchLiteral(_ literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard pos + n <= bytes.count else { return false }
        let p = literal.utf8Start
        for i in 0..<n where bytes[pos + i] != p[i] { return false }
        pos += n
        return true
    }

    /// Scans (and validates) the number at the current position. Returns its value when it is
    /// an integer that fits in Int64, else nil (fractions, exponents, out of range): one pass
    /// serves both skipping a number and reading one (`readInt`, per event).
    @usableFromInline @discardableResult mutating func scanNumber() throws -> Int64? {
        let negative = bytes[pos] == UInt8(ascii: "-")
        if negative { pos += 1 }
        let digitsStart = pos
        var value: Int64 = 0
        var isInteger = true
        while pos < bytes.count {
            let digit = bytes[pos] &- UInt8(ascii: "0")
            guard digit < 10 else { break }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = m.addingReportingOverflow(Int64(digit))
            if o1 || o2 { isInteger = false }
            value = sum
            pos += 1
        }
        if pos == digitsStart { throw error("invalid number") }
        if pos - digitsStart > 1 && bytes[digitsStart] == UInt8(ascii: "0") { throw error("leading zero in number") }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: ".") {
            isInteger = false
            pos += 1
            let f = pos
            while pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") { pos += 1 }
            if pos == f { throw error("invalid fraction") }
        }
        if pos < bytes.count, bytes[pos] == UInt8(ascii: "e") || bytes[pos] == UInt8(ascii: "E") {
            isInteger = false
            pos += 1
            if pos < bytes.count, bytes[pos] == UInt8(ascii: "+") || bytes[pos] == UInt8(ascii: "-") { pos += 1 }
            let e = pos
            while pos < bytes.count, bytes[pos] >= UInt8(ascii: "0"), bytes[pos] <= UInt8(ascii: "9") { pos += 1 }
            if pos == e { throw error("invalid exponent") }
        }
        return isInteger ? (negative ? -value : value) : nil
    }

    /// Scans a string at the current position. Returns the span of its contents (without quotes)
    /// and whether it contains escapes (then `decodeString` must be used to read it).
    ///
    /// Eight bytes at a time: string scanning is the largest single cost of reading an event
    /// header (ids, type names, deltas). Each word's first quote, backslash or control byte is
    /// found without a byte loop, so the only data-dependent branch is the loop's exit.
    @inlinable public mutating func scanString() throws -> (span: JSONSpan, escaped: Bool) {
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "\"") else { throw error("expected string") }
        let start = pos + 1
        let count = bytes.count
        var p = start
        var escaped = false
        while p < count {
            let word = p + 8 <= count
                ? UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: p, as: UInt64.self))
                : Self.loadTail(bytes, from: p)
            let special = Self.specialBytes(word)
            if special == 0 {
                p += 8
                continue
            }
            p += special.trailingZeroBitCount >> 3
            let c = bytes[p]
            if c == UInt8(ascii: "\"") {
                pos = p + 1
                return (JSONSpan(start: start, end: p), escaped)
            }
            if c == UInt8(ascii: "\\") {
                escaped = true
                p += 2
                continue
            }
            pos = p
            throw error("control character in string")
        }
        pos = count
        throw JSONSyntaxError("unterminated string", at: start - 1)
    }

    /// The last (under eight) bytes of the buffer as a little-endian word, padded with a byte
    /// that is never special ("A").
    @usableFromInline static func loadTail(_ bytes: UnsafeRawBufferPointer, from p: Int) -> UInt64 {
        var word: UInt64 = 0x4141_4141_4141_4141
        for i in 0..<(bytes.count - p) {
            word = word & ~(0xFF << (8 * UInt64(i))) | UInt64(bytes[p + i]) << (8 * UInt64(i))
        }
        return word
    }

    /// The high bit of each byte of `word` that is a quote, a backslash or a control character
    /// (below 0x20), using the classic SWAR tests "has a zero byte" (after XOR with the byte
    /// searched for) and "has a byte less than n". Bytes above the lowest flagged one may be
    /// flagged falsely (a borrow carries into them), but the lowest flag is always exact, and
    /// it is the only one read.
    @inlinable @inline(__always) static func specialBytes(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let quote = word ^ (ones &* 0x22)
        let backslash = word ^ (ones &* 0x5C)
        let hasQuote = (quote &- ones) & ~quote
        let hasBackslash = (backslash &- ones) & ~backslash
        let hasControl = (word &- ones &* 0x20) & ~word
        return (hasQuote | hasBackslash | hasControl) & highs
    }

    /// Calls `body` for each member of the object at the current position with the key's span and
    /// whether the key has escapes; `body` must consume the member's value (e.g. `skipValue`).
    @inlinable public mutating func forEachMember(
        depth: Int = 0,
        _ body: (inout JSONScanner, JSONSpan, Bool) throws -> Void
    ) throws {
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "{") else { throw error("expected object") }
        pos += 1
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "}") { pos += 1; return }
        while true {
            skipWhitespace()
            let (key, escaped) = try scanString()
            skipWhitespace()
            guard pos < bytes.count, bytes[pos] == UInt8(ascii: ":") else { throw error("expected ':' after object key") }
            pos += 1
            skipWhitespace()
            try body(&self, key, escaped)
            skipWhitespace()
            guard pos < bytes.count else { throw error("unterminated object") }
            let c = bytes[pos]; pos += 1
            if c == UInt8(ascii: "}") { return }
            if c != UInt8(ascii: ",") { pos -= 1; throw error("expected ',' or '}' in object") }
        }
    }

    /// Calls `body` for each element of the array at the current position; `body` must consume it.
    public mutating func forEachElement(_ body: (inout JSONScanner) throws -> Void) throws {
        skipWhitespace()
        guard pos < bytes.count, bytes[pos] == UInt8(ascii: "[") else { throw error("expected array") }
        pos += 1
        skipWhitespace()
        if pos < bytes.count && bytes[pos] == UInt8(ascii: "]") { pos += 1; return }
        while true {
            skipWhitespace()
            try body(&self)
            skipWhitespace()
            guard pos < bytes.count else { throw error("unterminated array") }
            let c = bytes[pos]; pos += 1
            if c == UInt8(ascii: "]") { return }
            if c != UInt8(ascii: ",") { pos -= 1; throw error("expected ',' or ']' in array") }
        }
    }

    /// Checks that the whole buffer is exactly one JSON value (plus whitespace).
    public mutating func expectEnd() throws {
        skipWhitespace()
        if pos != bytes.count { throw error("trailing characters after JSON value") }
    }

    // MARK: reading scalars

    /// Whether the bytes of `span` equal `literal` (an ASCII key, compared unescaped). Always
    /// inlined: with the literal's length known, the compiler turns `memcmp` into one or two
    /// word compares.
    @inlinable @inline(__always) public func span(_ span: JSONSpan, equals literal: StaticString) -> Bool {
        let n = literal.utf8CodeUnitCount
        guard span.count == n else { return false }
        guard n > 0, let base = bytes.baseAddress else { return n == 0 }
        return memcmp(base + span.start, literal.utf8Start, n) == 0
    }

    /// Parses the integer literal at the current position (and consumes it). Other numbers
    /// (fractions, exponents, out of range) and other kinds are consumed and give nil.
    public mutating func readInt() throws -> Int64? {
        guard try peekKind() == .number else {
            try skipValue()
            return nil
        }
        return try scanNumber()
    }

    /// The byte a one-letter escape (`\n`, `\"`, ...) stands for; nil for `\u` and invalid ones.
    @inline(__always)
    static func simpleEscape(_ letter: UInt8) -> UInt8? {
        switch letter {
        case UInt8(ascii: "\""): return 0x22
        case UInt8(ascii: "\\"): return 0x5C
        case UInt8(ascii: "/"): return 0x2F
        case UInt8(ascii: "b"): return 0x08
        case UInt8(ascii: "f"): return 0x0C
        case UInt8(ascii: "n"): return 0x0A
        case UInt8(ascii: "r"): return 0x0D
        case UInt8(ascii: "t"): return 0x09
        default: return nil
        }
    }

    /// Decodes the contents of a string span (as returned by `scanString`) into UTF-8, appending
    /// to `out`. Invalid escapes are replaced by U+FFFD rather than failing: the span was already
    /// validated for structure, and a bad escape inside text must not lose the rest of the event.
    public func decodeString(_ span: JSONSpan, into out: inout [UInt8]) {
        var i = span.start
        while i < span.end {
            let c = bytes[i]
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            i += 1
            guard i < span.end else { break }
            let e = bytes[i]; i += 1
            if let byte = Self.simpleEscape(e) {
                out.append(byte)
                continue
            }
            switch e {
            case UInt8(ascii: "u"):
                var scalar = readHex4(at: i, end: span.end)
                i += 4
                if let hi = scalar, (0xD800...0xDBFF).contains(hi) {
                    if i + 6 <= span.end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
                       let lo = readHex4(at: i + 2, end: span.end), (0xDC00...0xDFFF).contains(lo) {
                        scalar = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                        i += 6
                    } else {
                        scalar = nil
                    }
                } else if let s = scalar, (0xDC00...0xDFFF).contains(s) {
                    scalar = nil
                }
                appendUTF8(scalar.flatMap(Unicode.Scalar.init) ?? "\u{FFFD}", to: &out)
            default:
                appendUTF8("\u{FFFD}", to: &out)
            }
        }
    }

    /// Decodes a string span into a Swift String.
    public func string(_ span: JSONSpan, escaped: Bool) -> String {
        if !escaped {
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.end]), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(span.count)
        decodeString(span, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    func readHex4(at i: Int, end: Int) -> UInt32? {
        guard i + 4 <= end else { return nil }
        var v: UInt32 = 0
        for k in 0..<4 {
            let c = bytes[i + k]
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: return nil
            }
            v = v << 4 | UInt32(d)
        }
        return v
    }
}

@inlinable func appendUTF8(_ scalar: Unicode.Scalar, to out: inout [UInt8]) {
    UTF8.encode(scalar) { out.append($0) }
}
