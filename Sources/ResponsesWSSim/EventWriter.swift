import NIOCore
import ResponsesJSON

/// Where a response's events go: WebSocket text frames (WebSocketSession) or SSE `event:`/`data:`
/// records (HTTPHandler). Event-loop confined.
protocol EventSink: AnyObject {
    /// Appends one event; `body` writes its JSON object into a buffer owned by the sink.
    func writeEvent(type: StaticString, capacity: Int, _ body: (inout ByteBuffer) -> Void)
    /// Sends what was written since the last flush.
    func flush()
    /// False while the peer is not keeping up: the run parks until `ResponseRun.resume()`.
    var isWritable: Bool { get }
    /// Registers a run to resume when the sink becomes writable again.
    func parkUntilWritable(_ run: ResponseRun)
    /// Closes the connection without a close frame or a final chunk (fault injection).
    func abortConnection()
}

/// Builds the JSON of every event of one response. Everything that is constant over the
/// response (ids, `stream_id`, the echoed request config) is serialised once, up front; a delta
/// event is then four byte copies, an integer and the escaped token (§4.3 shapes, §4.1 envelope).
struct EventWriter {
    let responseID: String
    let itemID: String
    let createdAt: Int
    let echo: [UInt8]
    /// `,"stream_id":"…"` when the create had a `stream_id` (§4.1), else empty.
    let streamIDMember: [UInt8]
    /// `,"item_id":"…","output_index":0,"content_index":0,"delta":` (text) or without
    /// `content_index` (function-call arguments).
    private let deltaMiddle: [UInt8]
    /// `,"logprobs":[]` (text only) + stream id + `}`.
    private let deltaSuffix: [UInt8]
    private let isText: Bool

    init(responseID: String, itemID: String, createdAt: Int, echo: [UInt8], streamID: String?, isText: Bool) {
        self.responseID = responseID
        self.itemID = itemID
        self.createdAt = createdAt
        self.echo = echo
        self.isText = isText
        var sid: [UInt8] = []
        if let streamID {
            sid.append(contentsOf: #","stream_id":"#.utf8)
            JSONValue.writeString(streamID, to: &sid)
        }
        streamIDMember = sid
        var middle = Array(#","item_id":"#.utf8)
        JSONValue.writeString(itemID, to: &middle)
        middle.append(contentsOf: (isText ? #","output_index":0,"content_index":0,"delta":"# : #","output_index":0,"delta":"#).utf8)
        deltaMiddle = middle
        deltaSuffix = Array((isText ? #","logprobs":[]"# : "").utf8) + sid + [UInt8(ascii: "}")]
    }

    // MARK: the hot path

    /// `response.output_text.delta` or `response.function_call_arguments.delta`.
    func writeDelta(_ buf: inout ByteBuffer, sequence: Int, token: UnsafeRawBufferPointer) {
        if isText {
            buf.writeStaticString(#"{"type":"response.output_text.delta","sequence_number":"#)
        } else {
            buf.writeStaticString(#"{"type":"response.function_call_arguments.delta","sequence_number":"#)
        }
        buf.writeJSONInt(sequence)
        buf.writeBytes(deltaMiddle)
        buf.writeJSONString(utf8: token)
        buf.writeBytes(deltaSuffix)
    }

    // MARK: lifecycle events

    /// `{"type":TYPE,"sequence_number":N` — the caller writes the rest, then `close`.
    func open(_ buf: inout ByteBuffer, type: StaticString, sequence: Int) {
        buf.writeStaticString(#"{"type":""#)
        buf.writeStaticString(type)
        buf.writeStaticString(#"","sequence_number":"#)
        buf.writeJSONInt(sequence)
    }

    func close(_ buf: inout ByteBuffer) {
        buf.writeBytes(streamIDMember)
        buf.writeInteger(UInt8(ascii: "}"))
    }

    /// The Response object (§4.1). `output` writes the output items array contents.
    func writeResponse(
        _ buf: inout ByteBuffer, status: StaticString, completedAt: Int?, usage: Usage?,
        error: APIError? = nil, incompleteReason: StaticString? = nil, output: (inout ByteBuffer) -> Void
    ) {
        buf.writeStaticString(#"{"id":"#)
        buf.writeJSONString(responseID)
        buf.writeStaticString(#","object":"response","created_at":"#)
        buf.writeJSONInt(createdAt)
        buf.writeStaticString(#","status":""#)
        buf.writeStaticString(status)
        buf.writeStaticString(#"","completed_at":"#)
        if let completedAt { buf.writeJSONInt(completedAt) } else { buf.writeStaticString("null") }
        buf.writeStaticString(#","error":"#)
        if let error {
            buf.writeStaticString(#"{"code":"#)
            if let code = error.code { buf.writeJSONString(code) } else { buf.writeStaticString("null") }
            buf.writeStaticString(#","message":"#)
            buf.writeJSONString(error.message)
            buf.writeStaticString("}")
        } else {
            buf.writeStaticString("null")
        }
        buf.writeStaticString(#","incomplete_details":"#)
        if let incompleteReason {
            buf.writeStaticString(#"{"reason":""#)
            buf.writeStaticString(incompleteReason)
            buf.writeStaticString(#""}"#)
        } else {
            buf.writeStaticString("null")
        }
        buf.writeBytes(echo)
        buf.writeStaticString(#","output":["#)
        output(&buf)
        buf.writeStaticString(#"],"usage":"#)
        if let usage { usage.write(&buf) } else { buf.writeStaticString("null") }
        buf.writeInteger(UInt8(ascii: "}"))
    }

    /// A `message` output item holding `text` (or an empty content list while in progress).
    func writeMessageItem(_ buf: inout ByteBuffer, status: StaticString, text: [UInt8]?) {
        buf.writeStaticString(#"{"id":"#)
        buf.writeJSONString(itemID)
        buf.writeStaticString(#","type":"message","status":""#)
        buf.writeStaticString(status)
        buf.writeStaticString(#"","role":"assistant","content":["#)
        if let text { writeTextPart(&buf, text: text) }
        buf.writeStaticString("]}")
    }

    func writeTextPart(_ buf: inout ByteBuffer, text: [UInt8]) {
        buf.writeStaticString(#"{"type":"output_text","text":"#)
        text.withUnsafeBytes { buf.writeJSONString(utf8: $0) }
        buf.writeStaticString(#","annotations":[],"logprobs":[]}"#)
    }

    func writeFunctionCallItem(_ buf: inout ByteBuffer, status: StaticString, name: String, callID: String, arguments: [UInt8]) {
        buf.writeStaticString(#"{"id":"#)
        buf.writeJSONString(itemID)
        buf.writeStaticString(#","type":"function_call","status":""#)
        buf.writeStaticString(status)
        buf.writeStaticString(#"","arguments":"#)
        arguments.withUnsafeBytes { buf.writeJSONString(utf8: $0) }
        buf.writeStaticString(#","call_id":"#)
        buf.writeJSONString(callID)
        buf.writeStaticString(#","name":"#)
        buf.writeJSONString(name)
        buf.writeStaticString("}")
    }
}

/// `usage` of a terminal Response (§4.1, §5.12).
struct Usage: Sendable, Equatable {
    var inputTokens: Int
    var cachedTokens: Int
    var outputTokens: Int

    func write(_ buf: inout ByteBuffer) {
        buf.writeStaticString(#"{"input_tokens":"#)
        buf.writeJSONInt(inputTokens)
        buf.writeStaticString(#","input_tokens_details":{"cached_tokens":"#)
        buf.writeJSONInt(cachedTokens)
        buf.writeStaticString(#","cache_write_tokens":0},"output_tokens":"#)
        buf.writeJSONInt(outputTokens)
        buf.writeStaticString(#","output_tokens_details":{"reasoning_tokens":0},"total_tokens":"#)
        buf.writeJSONInt(inputTokens + outputTokens)
        buf.writeInteger(UInt8(ascii: "}"))
    }
}

extension APIError {
    /// §4.5: the WebSocket `error` event: nested `error`, top-level `status`, and `stream_id`
    /// when the request named a lane.
    func writeWebSocketEvent(_ buf: inout ByteBuffer, streamID: String?, sequence: Int? = nil) {
        buf.writeStaticString(#"{"type":"error","status":"#)
        buf.writeJSONInt(status)
        if let sequence {
            buf.writeStaticString(#","sequence_number":"#)
            buf.writeJSONInt(sequence)
        }
        if let streamID {
            buf.writeStaticString(#","stream_id":"#)
            buf.writeJSONString(streamID)
        }
        buf.writeStaticString(#","error":"#)
        // §4.5: `param` is omitted when there is none (as in the connection-limit example).
        writeBody(&buf, nullParam: false)
        buf.writeInteger(UInt8(ascii: "}"))
    }

    /// `{"type","code","message","param"}`: the nested object of §4.5 and the `error` member
    /// of an HTTP error body (which always has `param`, null or not).
    func writeBody(_ buf: inout ByteBuffer, nullParam: Bool = true) {
        buf.writeStaticString(#"{"type":"#)
        buf.writeJSONString(type)
        buf.writeStaticString(#","code":"#)
        if let code { buf.writeJSONString(code) } else { buf.writeStaticString("null") }
        buf.writeStaticString(#","message":"#)
        buf.writeJSONString(message)
        if let param {
            buf.writeStaticString(#","param":"#)
            buf.writeJSONString(param)
        } else if nullParam {
            buf.writeStaticString(#","param":null"#)
        }
        buf.writeInteger(UInt8(ascii: "}"))
    }

    /// The HTTP error body: `{"error":{"message","type","param","code"}}`.
    func httpBody(allocator: ByteBufferAllocator) -> ByteBuffer {
        var buf = allocator.buffer(capacity: 256)
        buf.writeStaticString(#"{"error":"#)
        writeBody(&buf)
        buf.writeInteger(UInt8(ascii: "}"))
        return buf
    }
}
