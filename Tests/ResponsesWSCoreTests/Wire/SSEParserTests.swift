import NIOCore
import Testing

@testable import ResponsesWSCore

@Suite struct SSEParserTests {
    private func parse(_ chunks: [String], maxEventBytes: Int = 1 << 20) throws -> [String] {
        var parser = SSEParser(maxEventBytes: maxEventBytes)
        var events: [String] = []
        for chunk in chunks {
            try parser.feed(ByteBuffer(string: chunk), allocator: ByteBufferAllocator()) { events.append(String(buffer: $0)) }
        }
        return events
    }

    @Test func scriptAsSent() throws {
        #expect(try parse(sseScript) == sseExpectedEvents)
    }

    /// Any split of the stream, down to single bytes (CRLF halves included), parses the same.
    @Test func byteByByte() throws {
        let bytes = Array(sseScript.joined().utf8)
        let chunks = bytes.map { String(decoding: [$0], as: UTF8.self) }
        #expect(try parse(chunks) == sseExpectedEvents)
    }

    @Test func everyTwoWaySplit() throws {
        let whole = Array(sseScript.joined().utf8)
        for cut in 0...whole.count {
            let chunks = [String(decoding: whole[..<cut], as: UTF8.self), String(decoding: whole[cut...], as: UTF8.self)]
            #expect(try parse(chunks) == sseExpectedEvents, "split at \(cut)")
        }
    }

    @Test func lineEndings() throws {
        #expect(try parse(["data: a\r\rdata: b\n\ndata: c\r\n\r\n"]) == ["a", "b", "c"])
        #expect(try parse(["data: x\r", "\r"]) == ["x"])
    }

    @Test func multiLineDataAndEmptyLines() throws {
        #expect(try parse(["data: one\ndata:\ndata: three\n\n"]) == ["one\n\nthree"])
        #expect(try parse(["data\n\n"]) == [])  // empty data is not delivered
        #expect(try parse(["data:  two spaces\n\n"]) == [" two spaces"])
    }

    @Test func ignoresCommentsOtherFieldsAndDone() throws {
        #expect(try parse([":hi\nevent: x\nid: 1\nretry: 5\nfoo: bar\n\n", "data: [DONE]\n\n"]) == [])
        #expect(try parse(["event: only\n\n", "data: {}\n\n"]) == ["{}"])
    }

    @Test func dropsUnterminatedFinalEventAndSkipsBOM() throws {
        #expect(try parse(["\u{FEFF}data: a\n\ndata: b\n"]) == ["a"])
    }

    private func parse(bytes chunks: [[UInt8]]) throws -> [String] {
        var parser = SSEParser(maxEventBytes: 1 << 20)
        var events: [String] = []
        for chunk in chunks {
            try parser.feed(ByteBuffer(bytes: chunk), allocator: ByteBufferAllocator()) { events.append(String(buffer: $0)) }
        }
        return events
    }

    /// Found by the `sse` fuzz target (Tests/fuzz.sh): a byte order mark cut by the first reads
    /// was kept as text, so the first line's field was not `data` and its event was lost.
    @Test func byteOrderMarkSplitAcrossReads() throws {
        let stream = Array("\u{FEFF}data: a\n\ndata: b\n\n".utf8)
        for cut in 1...3 {
            #expect(try parse(bytes: [Array(stream[..<cut]), Array(stream[cut...])]) == ["a", "b"], "cut at \(cut)")
        }
        #expect(try parse(bytes: stream.map { [$0] }) == ["a", "b"])
        // Bytes that only begin like a mark are the first line's text, however they arrive.
        let notMark = [0xEF, 0xBB] + Array("data: a\n\ndata: b\n\n".utf8)
        #expect(try parse(bytes: [notMark]) == ["b"])
        #expect(try parse(bytes: [[0xEF], [0xBB], Array(notMark[2...])]) == ["b"])
    }

    @Test func eventTooLarge() {
        #expect(throws: SSEParser.EventTooLarge.self) { try parse(["data: 12345\ndata: 67890\n\n"], maxEventBytes: 8) }
        #expect(throws: SSEParser.EventTooLarge.self) { try parse(["data: " + String(repeating: "a", count: 100)], maxEventBytes: 8) }
    }
}
