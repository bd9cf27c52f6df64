import NIOCore
import NIOHTTP1
import ResponsesDeflate
import Testing

@testable import ResponsesWSCore

/// permessage-deflate (RFC 7692) without sockets: the negotiation text, the compressor and the
/// bounded inflater, and the frame parser reading compressed messages.
@Suite struct PerMessageDeflateTests {
    // MARK: negotiation (RFC 7692 §7.1)

    private func answer(_ values: String...) throws(DeflateNegotiationError) -> DeflateParameters? {
        try DeflateNegotiation.acceptAnswer(values)
    }

    private func refused(_ values: String...) -> String? {
        do { _ = try DeflateNegotiation.acceptAnswer(values); return nil } catch { return error.description }
    }

    @Test func acceptsTheAnswersRFC7692Allows() throws {
        #expect(try answer() == nil)   // declined
        #expect(try answer("permessage-deflate") == DeflateParameters())
        #expect(try answer("  Permessage-Deflate ; Server_No_Context_Takeover ") == DeflateParameters(serverNoContextTakeover: true))
        #expect(try answer("permessage-deflate; client_no_context_takeover; server_max_window_bits=10; client_max_window_bits=\"8\"")
            == DeflateParameters(clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 8))
        #expect(try answer("permessage-deflate; client_max_window_bits=15", "") == DeflateParameters())
    }

    @Test func refusesWhatWasNotOfferedOrIsInvalid() {
        #expect(refused("x-webkit-deflate-frame")?.contains("never offered") == true)
        #expect(refused("permessage-deflate, permessage-deflate")?.contains("2 extensions") == true)
        #expect(refused("permessage-deflate", "permessage-deflate") != nil)
        #expect(refused("permessage-deflate; mystery")?.contains("unknown permessage-deflate parameter 'mystery'") == true)
        #expect(refused("permessage-deflate; server_no_context_takeover; server_no_context_takeover")?.contains("twice") == true)
        #expect(refused("permessage-deflate; server_no_context_takeover=1")?.contains("must not have a value") == true)
        for bad in ["client_max_window_bits", "client_max_window_bits=7", "server_max_window_bits=16",
                    "server_max_window_bits=09x", "server_max_window_bits=\"\""] {
            #expect(refused("permessage-deflate; \(bad)") != nil, "\(bad)")
        }
        #expect(refused("permessage-deflate; server_max_window_bits=\"10") != nil)   // unterminated quote
        #expect(refused("; server_no_context_takeover") != nil)
    }

    @Test func theServerSideTakesTheFirstUsableOffer() throws {
        let offers = ["permessage-deflate; server_max_window_bits=99, permessage-deflate; server_no_context_takeover; client_max_window_bits",
                      "permessage-deflate"]
        let chosen = try #require(DeflateNegotiation.chooseOffer(offers))
        #expect(chosen.parameters == DeflateParameters(serverNoContextTakeover: true))
        #expect(chosen.answer == "permessage-deflate; server_no_context_takeover")
        #expect(DeflateNegotiation.chooseOffer(["x-other"]) == nil)
        #expect(DeflateNegotiation.chooseOffer([]) == nil)
        // What our client offers is taken as it is; the answer is one our client accepts.
        let ours = try #require(DeflateNegotiation.chooseOffer([DeflateNegotiation.clientOffer]))
        #expect(try DeflateNegotiation.acceptAnswer([ours.answer]) == ours.parameters)
    }

    // MARK: compressor and inflater (RFC 7692 §7.2)

    private func text(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

    private func roundTrip(_ messages: [String], windowBits: Int, noContextTakeover: Bool) throws -> [String] {
        let deflater = try MessageDeflater(windowBits: windowBits, noContextTakeover: noContextTakeover)
        let inflater = try MessageInflater(noContextTakeover: noContextTakeover)
        return try messages.map { message in
            let compressed = deflater.compress(text(message), allocator: ByteBufferAllocator())
            var out = ByteBuffer()
            try inflater.inflate(compressed, into: &out, limit: 1 << 20)
            try inflater.finishMessage(into: &out, limit: 1 << 20)
            return String(buffer: out)
        }
    }

    @Test func messagesSurviveARoundTripWithAndWithoutContextTakeover() throws {
        let messages = ["", "hello", String(repeating: "{\"type\":\"response.output_text.delta\",\"delta\":\"abc\"}", count: 200), "hello"]
        for bits in [8, 9, 12, 15] {   // 8: zlib compresses with 9 (see DeflateParameters)
            #expect(try roundTrip(messages, windowBits: bits, noContextTakeover: false) == messages)
            #expect(try roundTrip(messages, windowBits: bits, noContextTakeover: true) == messages)
        }
    }

    @Test func contextTakeoverMakesARepeatedMessageSmaller() throws {
        let message = text(String(repeating: "{\"type\":\"response.created\",\"id\":\"resp_123\"}", count: 3))
        let keeps = try MessageDeflater(windowBits: 15, noContextTakeover: false)
        let resets = try MessageDeflater(windowBits: 15, noContextTakeover: true)
        let allocator = ByteBufferAllocator()
        _ = keeps.compress(message, allocator: allocator)
        _ = resets.compress(message, allocator: allocator)
        #expect(keeps.compress(message, allocator: allocator).readableBytes < resets.compress(message, allocator: allocator).readableBytes)
    }

    /// 64 MiB of spaces compress to about 64 KiB; with a 1 MiB limit the inflater stops after
    /// 1 MiB of output, without allocating the rest.
    @Test func theInflaterStopsADecompressionBombAtTheLimit() throws {
        let bomb = try Self.bomb(mebibytes: 64)
        #expect(bomb.readableBytes < 128 << 10)
        let inflater = try MessageInflater(noContextTakeover: false)
        var out = ByteBuffer()
        #expect(throws: InflateError.tooBig) { try inflater.inflate(bomb, into: &out, limit: 1 << 20) }
        #expect(out.readableBytes <= (1 << 20) + 1)
        #expect(out.capacity <= 4 << 20)
    }

    @Test func garbageIsCorruptNotACrash() throws {
        let inflater = try MessageInflater(noContextTakeover: false)
        var out = ByteBuffer()
        #expect(throws: InflateError.self) {
            try inflater.inflate(ByteBuffer(bytes: [0xFF, 0xFF, 0xFF, 0xFF, 0x00]), into: &out, limit: 1 << 20)
            try inflater.finishMessage(into: &out, limit: 1 << 20)
        }
    }

    /// One compressed message of `mebibytes` MiB of spaces (tail removed).
    static func bomb(mebibytes: Int) throws -> ByteBuffer {
        let deflater = try MessageDeflater(windowBits: 15, noContextTakeover: false)
        var part = ByteBuffer()
        part.writeRepeatingByte(UInt8(ascii: " "), count: 1 << 20)
        var out = ByteBuffer()
        for _ in 0..<mebibytes { deflater.compressPart(part, into: &out) }
        deflater.endMessage(&out)
        return out
    }

    // MARK: the frame parser with permessage-deflate (§6)

    typealias Parser = WebSocketFrameParserTests

    private func parse(_ chunks: [[UInt8]], max: Int = 1 << 20, deflate: Bool = true) throws(WebSocketFrameParser.Violation) -> [String] {
        var parser = WebSocketFrameParser(maxMessageBytes: max, inflater: deflate ? try! MessageInflater(noContextTakeover: false) : nil)
        var seen: [String] = []
        for chunk in chunks {
            try parser.feed(ByteBuffer(bytes: chunk), allocator: ByteBufferAllocator()) { message in
                if case .text(let b) = message { seen.append(String(buffer: b)) } else { seen.append("other") }
                return true
            }
        }
        return seen
    }

    /// `messages` compressed by one deflater (context taken over), each as frames of RSV1 +
    /// continuations cut every `fragment` compressed bytes.
    private func compressedStream(_ messages: [String], fragment: Int = .max) throws -> [UInt8] {
        let deflater = try MessageDeflater(windowBits: 15, noContextTakeover: false)
        var out: [UInt8] = []
        for message in messages {
            let compressed = Array(deflater.compress(text(message), allocator: ByteBufferAllocator()).readableBytesView)
            var pieces = stride(from: 0, to: max(compressed.count, 1), by: fragment).map { Array(compressed[$0..<min($0 + fragment, compressed.count)]) }
            if pieces.isEmpty { pieces = [[]] }
            for (i, piece) in pieces.enumerated() {
                var frame = Parser.frame(i == 0 ? 0x1 : 0x0, piece, fin: i == pieces.count - 1)
                if i == 0 { frame[0] |= 0x40 }
                out += frame
            }
        }
        return out
    }

    @Test func compressedMessagesAreInflatedWhateverTheReadsAndFragments() throws {
        let messages = ["{\"type\":\"response.created\"}", String(repeating: "délta ", count: 500), "", "{\"type\":\"response.created\"}"]
        for fragment in [1, 3, 64, Int.max] {
            let stream = try compressedStream(messages, fragment: fragment)
            #expect(try parse([stream]) == messages, "fragment \(fragment)")
            #expect(try parse(stream.map { [$0] }) == messages, "fragment \(fragment), byte reads")
        }
        // Uncompressed messages still pass between compressed ones.
        #expect(try parse([Parser.text("plain") + (try compressedStream(["packed"])) + Parser.text("plain")]) == ["plain", "packed", "plain"])
    }

    @Test func rsv1IsRefusedWhereRFC7692DoesNotAllowIt() throws {
        var control = Parser.frame(0x9, [])
        control[0] |= 0x40
        #expect(throws: WebSocketFrameParser.Violation.self) { try parse([control]) }
        var continuation = Parser.frame(0x0, [0x00])
        continuation[0] |= 0x40
        #expect(throws: WebSocketFrameParser.Violation.self) { try parse([Parser.text("a", fin: false) + continuation]) }
        var rsv2 = Parser.text("a")
        rsv2[0] |= 0x20
        #expect(throws: WebSocketFrameParser.Violation.self) { try parse([rsv2]) }
        // Not negotiated: RSV1 is refused as before.
        #expect(throws: WebSocketFrameParser.Violation.self) { try parse([try compressedStream(["x"])], deflate: false) }
    }

    @Test func theLimitAppliesToTheInflatedSize() throws {
        var bombFrame = Parser.frame(0x1, Array(try Self.bomb(mebibytes: 64).readableBytesView))
        bombFrame[0] |= 0x40
        #expect(throws: WebSocketFrameParser.Violation.tooBig) { try parse([bombFrame], max: 1 << 20) }
        // Exactly at the limit is fine; one byte over is not.
        let exact = String(repeating: "a", count: 4096)
        #expect(try parse([try compressedStream([exact])], max: 4096) == [exact])
        #expect(throws: WebSocketFrameParser.Violation.tooBig) { try parse([try compressedStream([exact + "a"])], max: 4096) }
    }

    @Test func utf8IsCheckedAfterInflation() throws {
        let deflater = try MessageDeflater(windowBits: 15, noContextTakeover: false)
        var frame = Parser.frame(0x1, Array(deflater.compress(ByteBuffer(bytes: [0x61, 0xC3]), allocator: ByteBufferAllocator()).readableBytesView))
        frame[0] |= 0x40
        #expect {
            try parse([frame])
        } throws: { error in
            if case .invalidUTF8 = error as? WebSocketFrameParser.Violation { return true }
            return false
        }
    }
}
