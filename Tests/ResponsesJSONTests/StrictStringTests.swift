import Testing
@testable import ResponsesJSON

/// Value trees (requests, defaults) refuse what the lenient event decoder replaces with U+FFFD,
/// and name the offending byte.
@Suite struct StrictStringTests {
    static let invalid: [(doc: [UInt8], offset: Int)] = [
        (Array(#"{"a":"x\qy"}"#.utf8), 7),            // unknown escape
        (Array(#"{"a":"\x41"}"#.utf8), 6),
        (Array(#"{"a":"\u00zz"}"#.utf8), 6),          // bad hex
        (Array(#"{"a":"\ud800"}"#.utf8), 6),          // lone high surrogate at the end
        (Array(#"{"a":"\ud800x"}"#.utf8), 6),         // high surrogate followed by text
        (Array(#"{"a":"\ud800\u0041"}"#.utf8), 6),    // ... by a non-surrogate escape
        (Array(#"{"a":"\udc00"}"#.utf8), 6),          // lone low surrogate
        (Array(#"{"k\q":1}"#.utf8), 3),               // in a key
        (Array(#"{"a":"x"#.utf8) + [0xFF] + Array(#""}"#.utf8), 7),         // invalid UTF-8 byte
        (Array(#"{"a":"\n"#.utf8) + [0xC3] + Array(#""}"#.utf8), 8),        // truncated sequence, with escapes
        (Array(#"{"a":""#.utf8) + [0xC0, 0xAF] + Array(#""}"#.utf8), 6),    // overlong
        (Array(#"{"a":""#.utf8) + [0xED, 0xA0, 0x80] + Array(#""}"#.utf8), 7),  // encoded surrogate
        (Array(#"{""#.utf8) + [0xE2, 0x82] + Array(#"":1}"#.utf8), 2),     // truncated, in a key
    ]

    @Test func refusesInvalidEscapesSurrogatesAndUTF8WithTheOffset() {
        for (doc, offset) in Self.invalid {
            do {
                _ = try JSONValue.parse(doc)
                Issue.record("accepted \(doc)")
            } catch {
                #expect(error.offset == offset, "\(String(decoding: doc, as: UTF8.self)): \(error)")
                #expect(error.description.contains("byte \(offset)"))
            }
        }
    }

    @Test func acceptsValidEscapesAndMultibyteText() throws {
        let v = try JSONValue.parse(#"{"a":"\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00é€😀","é":1}"#)
        #expect(v["a"]?.stringValue == "\"\\/\u{08}\u{0C}\n\r\t\u{e9}\u{1F600}é€😀")
        #expect(v["é"] == .number("1"))
    }

    /// The event path stays lenient: a bad escape in a delta is replaced, the event kept.
    @Test func eventDecodingStaysLenient() throws {
        let doc = Array(#""a\qb""#.utf8)
        try doc.withUnsafeBytes { raw in
            var s = JSONScanner(raw)
            let (span, escaped) = try s.scanString()
            #expect(s.string(span, escaped: escaped) == "a\u{FFFD}b")
        }
    }
}
