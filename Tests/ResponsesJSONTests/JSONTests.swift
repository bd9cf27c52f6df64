import Testing
@testable import ResponsesJSON

@Suite struct JSONParsingTests {
    @Test func roundTripKeepsOrderAndNumberLiterals() throws {
        let text = #"{"b":0.70,"a":[1,true,null,"x\"y"],"c":{"d":-12e3}}"#
        let v = try JSONValue.parse(text)
        #expect(v.serializedString == text)
        #expect(v["b"] == .number("0.70"))
        #expect(v["a"]?.arrayValue?.count == 4)
    }

    @Test func objectEqualityIgnoresKeyOrder() throws {
        #expect(try JSONValue.parse(#"{"a":1,"b":[2]}"#) == JSONValue.parse(#"{"b":[2],"a":1}"#))
        #expect(try JSONValue.parse(#"{"a":1}"#) != JSONValue.parse(#"{"a":2}"#))
        #expect(try JSONValue.parse("1.0") == JSONValue.parse("1"))
    }

    @Test(arguments: ["", "{", "{\"a\":}", "[1,]", "01", "\"abc", "{\"a\":1}x", "tru", "{\"a\" 1}", "\"\u{01}\""])
    func rejectsInvalidDocuments(_ text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(text) }
    }

    @Test func decodesEscapesAndSurrogates() throws {
        let v = try JSONValue.parse(#""a\nb\u00e9\ud83d\ude00\/""#)
        #expect(v.stringValue == "a\nb\u{e9}\u{1F600}/")
        #expect(JSONValue.string("q\"\\\n\u{01}").serializedString == #""q\"\\\n\u0001""#)
    }

    @Test func errorsNamePosition() {
        do {
            _ = try JSONValue.parse("[1, 2, x]")
            Issue.record("expected an error")
        } catch {
            #expect(error.offset == 7)
            #expect(error.description.contains("byte 7"))
        }
    }
}

@Suite struct JSONScannerTests {
    @Test func scansTopLevelMembersWithoutBuildingATree() throws {
        let text = Array(#"{"type":"response.output_text.delta","sequence_number":42,"delta":"He\"llo","nested":{"x":[1,2]}}"#.utf8)
        try text.withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            var type = "", seq: Int64 = -1, delta = ""
            try s.forEachMember { s, key, _ in
                if s.span(key, equals: "type") {
                    let (span, esc) = try s.scanString(); type = s.string(span, escaped: esc)
                } else if s.span(key, equals: "sequence_number") {
                    seq = try s.readInt() ?? -1
                } else if s.span(key, equals: "delta") {
                    let (span, esc) = try s.scanString(); #expect(esc); delta = s.string(span, escaped: esc)
                } else {
                    try s.skipValue()
                }
            }
            try s.expectEnd()
            #expect(type == "response.output_text.delta")
            #expect(seq == 42)
            #expect(delta == "He\"llo")
        }
    }

    /// The word-at-a-time string scan must find the closing quote, every escape and every
    /// control character wherever it falls in or across an 8-byte word.
    @Test func stringScanFindsEveryStopByteAtEveryOffset() throws {
        let plain = Array("abcdefghijklmnopqrstuvwxyz0123456789é€".utf8)
        for length in 0...plain.count {
            for lead in 0..<8 {   // shifts the string against the 8-byte words
                let body = Array(plain[0..<length])
                let doc = Array(repeating: UInt8(ascii: " "), count: lead) + [UInt8(ascii: "\"")] + body + Array("\",1".utf8)
                try doc.withUnsafeBytes { raw in
                    var s = JSONScanner(raw)
                    s.skipWhitespace()
                    let (span, escaped) = try s.scanString()
                    #expect(span.start == lead + 1 && span.end == lead + 1 + length && !escaped)
                }
                for at in 0..<length {
                    var escapedBody = body
                    escapedBody.insert(contentsOf: Array("\\\"".utf8), at: at)   // \" inside: not the end
                    let doc2 = [UInt8(ascii: "\"")] + escapedBody + [UInt8(ascii: "\"")]
                    try doc2.withUnsafeBytes { raw in
                        var s = JSONScanner(raw)
                        let (span, escaped) = try s.scanString()
                        #expect(span.end == doc2.count - 1 && escaped)
                    }
                    var controlBody = body
                    controlBody[at] = 0x1F
                    let doc3 = [UInt8(ascii: "\"")] + controlBody + [UInt8(ascii: "\"")]
                    doc3.withUnsafeBytes { raw in
                        var s = JSONScanner(raw)
                        #expect(throws: JSONSyntaxError.self) { try s.scanString() }
                    }
                }
            }
        }
    }

    @Test func readIntRejectsFractions() throws {
        try Array("1.5".utf8).withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            let value = try s.readInt()
            #expect(value == nil)
        }
    }

    /// readInt parses integers in one pass; whatever it returns, it consumes exactly one value,
    /// so the member after it is read correctly.
    @Test(arguments: [
        ("0", Int64(0)), ("7", 7), ("-12", -12), ("9223372036854775807", Int64.max),
        ("9223372036854775808", nil), ("-0", 0), ("1.5", nil), ("2e3", nil), ("-4E-1", nil),
        ("\"7\"", nil), ("null", nil), ("[1]", nil), ("{\"a\":1}", nil), (" 42", 42),
    ] as [(String, Int64?)])
    func readIntConsumesOneValue(_ literal: String, _ expected: Int64?) throws {
        let doc = Array("{\"n\":\(literal),\"after\":true}".utf8)
        try doc.withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            var value: Int64?? = .none
            var sawAfter = false
            try s.forEachMember { s, key, _ in
                if s.span(key, equals: "n") { value = .some(try s.readInt()) } else { sawAfter = true; try s.skipValue() }
            }
            try s.expectEnd()
            #expect(value == .some(expected))
            #expect(sawAfter)
        }
    }

    @Test(arguments: ["-", "01", "-01", "1.", "1e", "-.5", "00"])
    func readIntRejectsMalformedNumbers(_ literal: String) {
        Array("[\(literal)]".utf8).withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            #expect(throws: JSONSyntaxError.self) {
                try s.forEachElement { s in _ = try s.readInt() }
            }
        }
    }

    /// The last bytes of a buffer are scanned from a padded word: a string cut off there is
    /// unterminated whatever its length, and one that ends there is read exactly.
    @Test func stringScanAtTheEndOfTheBuffer() throws {
        for length in 0..<12 {
            let body = String(repeating: "k", count: length)
            Array("\"\(body)".utf8).withUnsafeBytes { raw in
                var s = JSONScanner(raw)
                #expect(throws: JSONSyntaxError("unterminated string", at: 0)) { try s.scanString() }
            }
            Array("\"\(body)\\".utf8).withUnsafeBytes { raw in   // ends inside an escape
                var s = JSONScanner(raw)
                #expect(throws: JSONSyntaxError.self) { try s.scanString() }
            }
            try Array("\"\(body)\"".utf8).withUnsafeBytes { raw in
                var s = JSONScanner(raw)
                let (span, escaped) = try s.scanString()
                #expect(span == JSONSpan(start: 1, end: 1 + length) && !escaped && s.position == raw.count)
            }
        }
    }

    @Test func controlCharacterErrorNamesItsOffset() {
        Array("\"abcdefghij\u{01}\"".utf8).withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            #expect(throws: JSONSyntaxError("control character in string", at: 11)) { try s.scanString() }
        }
    }
}
