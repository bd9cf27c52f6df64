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
        // UTF-8 first, for the whole span: escapes are ASCII, so what remains is only them.
        try validateUTF8(from: span.start, to: span.end)
        if !escaped {
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[span.start..<span.end]), as: UTF8.self)
        }
        var out: [UInt8] = []
        out.reserveCapacity(span.count)
        var i = span.start
        while i < span.end {
            let c = bytes[i]
            if c != UInt8(ascii: "\\") { out.append(c); i += 1; continue }
            let escapeStart = i
            guard i + 1 < span.end else { throw JSONSyntaxError("unterminated escape", at: escapeStart) }
            let e = bytes[i + 1]
            i += 2
            if let byte = Self.simpleEscape(e) {
                out.append(byte)
                continue
            }
            guard e == UInt8(ascii: "u") else {
                let shown = e >= 0x20 && e < 0x7F ? String(Character(Unicode.Scalar(e))) : "byte 0x\(hex2(e))"
                throw JSONSyntaxError("invalid escape '\\\(shown)'", at: escapeStart)
            }
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
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Throws at the first byte in `start..<end` that does not begin or continue a valid UTF-8
    /// sequence (overlong forms, encoded surrogates and values over U+10FFFF are invalid), or at
    /// the start of a sequence that `end` cuts.
    func validateUTF8(from start: Int, to end: Int) throws(JSONSyntaxError) {
        guard start < end else { return }
        var validator = UTF8Validator()
        guard validator.feed(UnsafeRawBufferPointer(rebasing: bytes[start..<end])) else {
            let at = start + validator.validBytes
            throw JSONSyntaxError("invalid UTF-8 byte 0x\(hex2(bytes[at]))", at: at)
        }
        if !validator.isComplete {
            var lead = end - 1
            while bytes[lead] & 0xC0 == 0x80 { lead -= 1 }
            throw JSONSyntaxError("truncated UTF-8 sequence", at: lead)
        }
    }
}

private func hex2(_ b: UInt8) -> String {
    let digits = Array("0123456789abcdef")
    return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}

private func hex4(_ v: UInt32) -> String { hex2(UInt8(v >> 8)) + hex2(UInt8(v & 0xFF)) }
