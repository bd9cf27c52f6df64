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

    @Test func readIntRejectsFractions() throws {
        try Array("1.5".utf8).withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            let value = try s.readInt()
            #expect(value == nil)
        }
    }
}
