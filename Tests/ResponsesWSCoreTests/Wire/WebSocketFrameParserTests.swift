import NIOCore
import Testing

@testable import ResponsesWSCore

/// The server-side framing we read by hand (RFC 6455 §5), checked on byte streams built here.
@Suite struct WebSocketFrameParserTests {
    /// What the parser delivered, in a comparable form.
    enum Seen: Equatable {
        case text(String), binary, ping(String), pong, close([UInt8])
    }

    /// One unmasked frame as a server writes it, with the shortest length encoding, or the one
    /// forced by `lengthBytes` (2 or 8).
    static func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, lengthBytes: Int? = nil, masked: Bool = false) -> [UInt8] {
        var out: [UInt8] = [(fin ? 0x80 : 0) | opcode]
        let mask: UInt8 = masked ? 0x80 : 0
        let n = payload.count
        if lengthBytes == 8 || n > 0xFFFF {
            out.append(mask | 127)
            out += withUnsafeBytes(of: UInt64(n).bigEndian, Array.init)
        } else if lengthBytes == 2 || n > 125 {
            out.append(mask | 126)
            out += withUnsafeBytes(of: UInt16(n).bigEndian, Array.init)
        } else {
            out.append(mask | UInt8(n))
        }
        if masked { out += [1, 2, 3, 4] }
        return out + payload
    }

    static func text(_ s: String, fin: Bool = true) -> [UInt8] { frame(0x1, Array(s.utf8), fin: fin) }

    /// Feeds `chunks` as separate socket reads and returns what was delivered.
    static func parse(_ chunks: [[UInt8]], max: Int = 1 << 20) throws(WebSocketFrameParser.Violation) -> [Seen] {
        var parser = WebSocketFrameParser(maxMessageBytes: max)
        var seen: [Seen] = []
        for chunk in chunks {
            try parser.feed(ByteBuffer(bytes: chunk), allocator: ByteBufferAllocator()) { message in
                switch message {
                case .text(let b): seen.append(.text(String(buffer: b)))
                case .binary: seen.append(.binary)
                case .ping(let b): seen.append(.ping(String(buffer: b)))
                case .pong: seen.append(.pong)
                case .close(let code, let reason):
                    let codeBytes = code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? []
                    seen.append(.close(codeBytes + Array(reason.readableBytesView)))
                }
                return true
            }
        }
        return seen
    }

    /// A stream with every kind of frame and length encoding, fragments and interleaved control
    /// frames.
    static let stream: [UInt8] =
        text("{\"type\":\"response.created\"}")
        + frame(0x1, Array(repeating: UInt8(ascii: "a"), count: 300))            // 16-bit length
        + frame(0x1, Array("eight".utf8), lengthBytes: 8)                        // 64-bit length
        + text("Hel", fin: false) + frame(0x9, Array("p".utf8)) + frame(0x0, Array("lo, ".utf8), fin: false)
        + frame(0x0, Array("world".utf8))
        + frame(0xA, []) + frame(0x1, [])
        + frame(0x8, [0x03, 0xE8])
    static let expected: [Seen] = [
        .text("{\"type\":\"response.created\"}"), .text(String(repeating: "a", count: 300)), .text("eight"),
        .ping("p"), .text("Hello, world"), .pong, .text(""), .close([0x03, 0xE8]),
    ]

    @Test func wholeStreamInOneRead() throws {
        #expect(try Self.parse([Self.stream]) == Self.expected)
    }

    /// Any cut of the stream into two reads, and byte-by-byte reads, give the same messages.
    @Test func everySplitGivesTheSameMessages() throws {
        for cut in 0...Self.stream.count {
            #expect(try Self.parse([Array(Self.stream[..<cut]), Array(Self.stream[cut...])]) == Self.expected, "cut at \(cut)")
        }
        #expect(try Self.parse(Self.stream.map { [$0] }) == Self.expected)
    }

    @Test func textIsASliceOfTheReadNotACopy() throws {
        var parser = WebSocketFrameParser(maxMessageBytes: 1000)
        let read = ByteBuffer(bytes: Self.text("abc") + Self.text("def"))
        var views: [ByteBuffer] = []
        try parser.feed(read, allocator: ByteBufferAllocator()) { message in
            if case .text(let b) = message { views.append(b) }
            return true
        }
        #expect(views.map { String(buffer: $0) } == ["abc", "def"])
        read.withUnsafeReadableBytes { whole in
            views[1].withUnsafeReadableBytes { view in
                #expect(view.baseAddress == whole.baseAddress! + 7)   // header 2 + "abc" + header 2
            }
        }
    }

    /// A frame that arrives over many reads is completed in the one buffer set aside for it,
    /// and a fragmented message grows in one buffer: neither is copied whole on each read. (A
    /// copy is made while the old buffer is still referenced, so it always lands elsewhere:
    /// counting moves of the buffer counts copies.)
    @Test func largeFramesAndFragmentsGrowInPlace() throws {
        func base(_ buffer: ByteBuffer?) -> UnsafeRawPointer? { buffer?.withUnsafeReadableBytes { $0.baseAddress } }
        var parser = WebSocketFrameParser(maxMessageBytes: 1 << 20)
        let big = Self.frame(0x1, Array(repeating: UInt8(ascii: "z"), count: 100_000))
        var delivered: [Int] = []
        var held: UnsafeRawPointer?
        var heldMoves = 0
        for start in stride(from: 0, to: big.count, by: 4096) {
            try parser.feed(ByteBuffer(bytes: big[start..<min(start + 4096, big.count)]), allocator: ByteBufferAllocator()) { message in
                if case .text(let b) = message { delivered.append(b.readableBytes) }
                return true
            }
            if let now = base(parser.partial) {
                if held != nil && now != held { heldMoves += 1 }
                held = now
            }
        }
        #expect(delivered == [100_000])
        #expect(heldMoves == 0, "the held frame was copied \(heldMoves) times in 24 reads")

        var joined: UnsafeRawPointer?
        var joinedMoves = 0
        let pieces = [Self.text("start", fin: false)] + (0..<50).map { _ in Self.frame(0x0, Array(repeating: 0x61, count: 1000), fin: false) }
        for (index, piece) in pieces.enumerated() {
            try parser.feed(ByteBuffer(bytes: piece), allocator: ByteBufferAllocator()) { _ in true }
            guard index >= 2, let now = base(parser.fragmented?.payload) else { continue }   // owned from the 2nd join on
            if joined != nil && now != joined { joinedMoves += 1 }
            joined = now
        }
        // Growing by doubling may move it a few times (log2 of 50 kB / 2 kB), not once per join.
        #expect(joinedMoves <= 5, "the joined message moved \(joinedMoves) times in 48 joins")
    }

    @Test func deliverReturningFalseStopsTheRead() throws {
        var parser = WebSocketFrameParser(maxMessageBytes: 1000)
        var count = 0
        try parser.feed(ByteBuffer(bytes: Self.text("a") + Self.text("b") + Self.text("c")), allocator: ByteBufferAllocator()) { _ in
            count += 1
            return false
        }
        #expect(count == 1)
    }

    @Test func messagesOverTheLimitAreRefusedBeforeTheirPayloadArrives() throws {
        // Only the header of a 2000-byte frame: refused at once, not buffered.
        let header = Array(Self.frame(0x1, Array(repeating: 0x61, count: 2000)).prefix(4))
        #expect(throws: WebSocketFrameParser.Violation.tooBig) { try Self.parse([header], max: 1000) }
        #expect(try Self.parse([Self.frame(0x1, Array(repeating: 0x61, count: 1000))], max: 1000).count == 1)
        // Fragments count together.
        let fragments = Self.frame(0x1, Array(repeating: 0x61, count: 600), fin: false) + Self.frame(0x0, Array(repeating: 0x61, count: 600))
        #expect(throws: WebSocketFrameParser.Violation.tooBig) { try Self.parse([fragments], max: 1000) }
        // A 64-bit length with the top bit set (or just huge) is too big, never an overflow.
        let huge: [UInt8] = [0x81, 127, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        #expect(throws: WebSocketFrameParser.Violation.tooBig) { try Self.parse([huge]) }
    }

    @Test(arguments: [
        (Self.frame(0x1, Array("x".utf8), masked: true), "masked"),
        ([0xC1, 0x00], "reserved bits"),
        (Self.frame(0x3, []), "unknown opcode 3"),
        (Self.frame(0x9, Array(repeating: 0x61, count: 126)), "control frame"),
        (Self.frame(0x9, [], fin: false), "control frame"),
        (Self.frame(0x0, Array("x".utf8)), "continuation frame without a message"),
        (Self.text("a", fin: false) + Self.text("b"), "new message began"),
    ])
    func framingViolations(bytes: [UInt8], says: String) throws {
        do {
            _ = try Self.parse([bytes])
            Issue.record("accepted \(bytes)")
        } catch {
            guard case .framing(let what) = error else { Issue.record("\(error)"); return }
            #expect(what.contains(says), "\(what)")
        }
    }

    @Test func binaryFramesAreReportedNotDelivered() throws {
        #expect(try Self.parse([Self.frame(0x2, [1, 2, 3])]) == [.binary])
    }

    @Test func aBinaryMessageIsReportedAtItsFirstFragment() throws {
        // Its continuation never arrives in the test: the connection fails at the first frame.
        #expect(try Self.parse([Self.frame(0x2, [1, 2, 3], fin: false)]) == [.binary])
    }

    // MARK: - UTF-8 (RFC 6455 §8.1)

    static func utf8Violation(_ chunks: [[UInt8]]) -> String? {
        do {
            _ = try parse(chunks)
            return nil
        } catch {
            guard case .invalidUTF8(let what) = error else { return "wrong violation: \(error)" }
            return what
        }
    }

    @Test func validMultiByteTextIsDeliveredAtEverySplit() throws {
        let text = "héllo wörld — 世界 🎉 " + String(repeating: "ascii ", count: 10) + "ÿ"
        let stream = Self.text(String(text.prefix(9)), fin: false) + Self.frame(0x0, Array(String(text.dropFirst(9)).utf8))
        for cut in 0...stream.count {
            #expect(try Self.parse([Array(stream[..<cut]), Array(stream[cut...])]) == [.text(text)], "cut at \(cut)")
        }
        // A character split between fragments is whole once joined.
        let euro = Array("€".utf8)
        #expect(try Self.parse([Self.frame(0x1, [euro[0]], fin: false) + Self.frame(0x0, Array(euro[1...]))]) == [.text("€")])
    }

    @Test(arguments: [
        [0xFF], [0xC0, 0xAF], [0xC1, 0x81], [0x80], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80],
        [0xF0, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
        [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80],
    ] as [[UInt8]])
    func invalidTextFailsWith1007(bytes: [UInt8]) {
        let what = Self.utf8Violation([Self.frame(0x1, Array("ok ".utf8) + bytes + Array(" tail".utf8))])
        #expect(what?.contains("not valid UTF-8") == true, "\(String(describing: what))")
    }

    @Test func aMessageEndingInsideACharacterIsInvalid() {
        let what = Self.utf8Violation([Self.frame(0x1, [0x61, 0xE2, 0x82])])
        #expect(what?.contains("ends inside a character") == true, "\(String(describing: what))")
        // The same bytes in a first fragment are fine until the message ends.
        #expect(Self.utf8Violation([Self.frame(0x1, [0x61, 0xE2, 0x82], fin: false)]) == nil)
    }

    /// The invalid byte fails the message when it arrives: in an early fragment, or in the first
    /// bytes of a frame whose rest has not been read (Autobahn 6.4.x).
    @Test func invalidTextFailsBeforeTheMessageOrFrameIsComplete() {
        let firstFragment = Self.frame(0x1, Array("κόσμε".utf8) + [0xF4, 0x90, 0x80, 0x80], fin: false)
        #expect(Self.utf8Violation([firstFragment]) != nil)
        // A 2000-byte frame of which only the header, some text and the bad byte arrived.
        let frame = Self.frame(0x1, Array(repeating: 0x61, count: 100) + [0xFF] + Array(repeating: 0x61, count: 1899))
        #expect(Self.utf8Violation([Array(frame.prefix(50)), Array(frame[50..<110])]) != nil)
        #expect(Self.utf8Violation([Array(frame.prefix(104))]) == nil)   // the bad byte has not arrived
    }

    /// The parser's verdict matches the standard library's for every short byte sequence made
    /// from bytes around the boundaries of RFC 3629's ranges.
    @Test func agreesWithTheStandardLibrary() throws {
        let interesting: [UInt8] = [0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                                    0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF]
        var checked = 0
        func check(_ bytes: [UInt8]) {
            let expected = String(validating: bytes, as: UTF8.self) != nil
            for padding in [0, 13, 45] {   // through the 32-byte and 8-byte ASCII skips first
                let payload = Array(repeating: UInt8(ascii: "x"), count: padding) + bytes
                let got = Self.utf8Violation([Self.frame(0x1, payload)]) == nil
                #expect(got == expected, "\(bytes.map { String($0, radix: 16) }) after \(padding) ASCII bytes")
            }
            checked += 1
        }
        for a in interesting {
            check([a])
            for b in interesting {
                check([a, b])
                for c in interesting where a >= 0xC0 { check([a, b, c]) }
            }
        }
        for a: UInt8 in [0xF0, 0xF1, 0xF4] {
            for b: UInt8 in [0x80, 0x8F, 0x90, 0xBF, 0xC0] {
                for c: UInt8 in [0x7F, 0x80, 0xBF] { for d: UInt8 in [0x41, 0x80, 0xBF, 0xC0] { check([a, b, c, d]) } }
            }
        }
        #expect(checked > 10_000)
    }

    // MARK: - Close frames (RFC 6455 §5.5.1, §7.4)

    static func closeFrame(_ code: UInt16?, _ reason: [UInt8] = []) -> [UInt8] {
        frame(0x8, (code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? []) + reason)
    }

    @Test(arguments: [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999] as [UInt16])
    func validCloseCodesAreDelivered(code: UInt16) throws {
        #expect(try Self.parse([Self.closeFrame(code, Array("bye".utf8))]) == [.close([UInt8(code >> 8), UInt8(code & 0xFF)] + Array("bye".utf8))])
    }

    @Test(arguments: [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] as [UInt16])
    func invalidCloseCodesAreAProtocolError(code: UInt16) {
        #expect(throws: WebSocketFrameParser.Violation.framing(
            "a close frame with code \(code), which no endpoint may send (RFC 6455 §7.4)")) {
            try Self.parse([Self.closeFrame(code)])
        }
    }

    @Test func closePayloadsThatAreNotACodeAndUTF8AreRefused() throws {
        #expect(try Self.parse([Self.closeFrame(nil)]) == [.close([])])
        #expect(throws: WebSocketFrameParser.Violation.self) { try Self.parse([Self.frame(0x8, [0x03])]) }
        #expect(Self.utf8Violation([Self.closeFrame(1000, [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80])]) != nil)
    }
}
