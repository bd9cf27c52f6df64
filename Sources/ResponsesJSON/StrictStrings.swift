// Strict string decoding for value trees (requests, defaults, the simulator's parsing).
//
// Why separate from `decodeString`: server events on the hot path are read leniently (a bad
// escape inside a delta must not lose the event), but a caller's request that holds an invalid
// escape, a lone surrogate or invalid UTF-8 must be refused with the offending byte named,
// not sent with U+FFFD in its place.

extension JSONScanner {
    /// Decodes the contents of a string span, throwing at the first invalid escape, lone
    /// surrogate escape or invalid UTF-8 byte, with its offset in `bytes`.
    public func strictString(_ span: JSONSpan, escaped: Bool) throws(JSONSyntaxError) -> String {
        if !escaped {
            try validateUTF8(from: span.start, to: span.end)
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.end]), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(span.count)
        var i = span.start
        while i < span.end {
            let c = bytes[i]
            if c >= 0x80 {
                let n = try utf8SequenceLength(at: i, end: span.end)
                out.append(contentsOf: bytes[i..<(i + n)])
                i += n
                continue
            }
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            let escapeStart = i
            guard i + 1 < span.end else { throw JSONSyntaxError("unterminated escape", at: escapeStart) }
            let e = bytes[i + 1]
            i += 2
            switch e {
            case UInt8(ascii: "\""): out.append(0x22)
            case UInt8(ascii: "\\"): out.append(0x5C)
            case UInt8(ascii: "/"): out.append(0x2F)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                guard let unit = readHex4(at: i, end: span.end) else {
                    throw JSONSyntaxError("invalid \\u escape (needs four hex digits)", at: escapeStart)
                }
                i += 4
                var scalar = unit
                if (0xD800...0xDBFF).contains(unit) {
                    guard i + 6 <= span.end, bytes[i] == UInt8(ascii: "\\"), bytes[i + 1] == UInt8(ascii: "u"),
                          let low = readHex4(at: i + 2, end: span.end), (0xDC00...0xDFFF).contains(low)
                    else {
                        throw JSONSyntaxError("lone high surrogate \\u\(hex4(unit)) (not followed by a low surrogate escape)", at: escapeStart)
                    }
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                } else if (0xDC00...0xDFFF).contains(unit) {
                    throw JSONSyntaxError("lone low surrogate \\u\(hex4(unit))", at: escapeStart)
                }
                // Every remaining value is a scalar: surrogates were handled above.
                appendUTF8(Unicode.Scalar(scalar)!, to: &out)
            default:
                let shown = e >= 0x20 && e < 0x7F ? String(Character(Unicode.Scalar(e))) : "byte 0x\(hex2(e))"
                throw JSONSyntaxError("invalid escape '\\\(shown)'", at: escapeStart)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Throws at the first byte in `start..<end` that does not begin or continue a valid UTF-8
    /// sequence (overlong forms, encoded surrogates and values over U+10FFFF are invalid).
    func validateUTF8(from start: Int, to end: Int) throws(JSONSyntaxError) {
        var i = start
        while i < end {
            if bytes[i] < 0x80 { i += 1; continue }
            i += try utf8SequenceLength(at: i, end: end)
        }
    }

    /// The length of the valid UTF-8 sequence that starts with the non-ASCII byte at `i`.
    func utf8SequenceLength(at i: Int, end: Int) throws(JSONSyntaxError) -> Int {
        let b0 = bytes[i]
        let n: Int
        var lowest: UInt8 = 0x80, highest: UInt8 = 0xBF   // bounds of the second byte
        switch b0 {
        case 0xC2...0xDF: n = 2
        case 0xE0: n = 3; lowest = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: n = 3
        case 0xED: n = 3; highest = 0x9F
        case 0xF0: n = 4; lowest = 0x90
        case 0xF1...0xF3: n = 4
        case 0xF4: n = 4; highest = 0x8F
        default: throw JSONSyntaxError("invalid UTF-8 byte 0x\(hex2(b0))", at: i)
        }
        guard i + n <= end else { throw JSONSyntaxError("truncated UTF-8 sequence", at: i) }
        let b1 = bytes[i + 1]
        guard b1 >= lowest && b1 <= highest else { throw JSONSyntaxError("invalid UTF-8 byte 0x\(hex2(b1))", at: i + 1) }
        for k in 2..<n where bytes[i + k] & 0xC0 != 0x80 {
            throw JSONSyntaxError("invalid UTF-8 byte 0x\(hex2(bytes[i + k]))", at: i + k)
        }
        return n
    }
}

private func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

private func hex4(_ v: UInt32) -> String { hex2(UInt8(v >> 8)) + hex2(UInt8(v & 0xFF)) }
