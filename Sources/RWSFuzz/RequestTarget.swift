#if RWS_FUZZING || DEBUG

import NIOCore
import ResponsesJSON
@testable import ResponsesWSCore

/// The input is a caller's request JSON (what `rws_turn_start` receives). The two JSON readers
/// (tree parser, validating skipper) must agree, serialising a parsed tree must be stable, and a
/// request that `TurnRequest.prepare` accepts must produce wire bodies that are valid JSON with
/// the transport's fields in place and none of the caller's overriding them.
enum RequestTarget {
    static let defaults = JSONObject([
        ("model", "gpt-fuzz"), ("store", false), ("instructions", "be brief"), ("stream", true),
    ])

    static func run(_ data: UnsafeRawBufferPointer) {
        var choices = Choices(data)
        checkReaders(data)
        let streamID: String? = choices.pick([nil, "lane-1"])
        let limit = choices.pick([64, 4096, 1 << 20])
        let request: TurnRequest
        do {
            request = try TurnRequest.prepare(data, defaults: defaults, streamID: streamID, maxRequestBytes: limit)
        } catch {
            let expected: [Status] = [.invalidJSON, .unsupported, .invalidArgument, .requestTooBig]
            require(expected.contains(error.status), "prepare failed with \(error.status): \(error.message)")
            return
        }
        let allocator = ByteBufferAllocator()
        for previous in [nil, "resp_\u{1}\"x"] as [String?] {
            let ws = object(request.webSocketBody(items: request.newItems, previousResponseID: previous, streamID: streamID, allocator: allocator), "WebSocket body")
            require(ws.members.first?.key == "type" && ws["type"] == "response.create", "the frame does not start with type response.create")
            require(ws["input"]?.arrayValue?.count == request.newItems.count, "the frame's input is not the new items")
            require(ws["previous_response_id"]?.stringValue == previous, "previous_response_id not the one given")
            require(ws["stream_id"]?.stringValue == streamID, "stream_id not the session's lane")
            for key in ["stream", "background", "stream_options"] {
                require(ws[key] == nil, "the frame carries \"\(key)\"")
            }
            require(ws.keys.count == Set(ws.keys).count, "the frame repeats a key")
        }
        let http = object(request.httpBody(items: request.newItems, allocator: allocator), "HTTP body")
        require(http["stream"] == true, "the HTTP body does not ask for a stream")
        for key in ["generate", "stream_id", "previous_response_id", "type"] {
            require(http[key] == nil, "the HTTP body carries \"\(key)\"")
        }
        require(http.keys.count == Set(http.keys).count, "the HTTP body repeats a key")
    }

    /// Both readers accept the same documents; a parsed tree serialises to a fixed point.
    private static func checkReaders(_ data: UnsafeRawBufferPointer) {
        var scanner = JSONScanner(data)
        let skipped = Result { () throws in
            try scanner.skipValue()
            try scanner.expectEnd()
        }
        switch (Result { () throws(JSONSyntaxError) in try JSONValue.parse(data) }, skipped) {
        case (.success(let value), .success):
            let once = value.serialized
            guard case .success(let again) = Result(catching: { () throws(JSONSyntaxError) in try JSONValue.parse(once) }) else {
                require(false, "the serialised tree is not valid JSON: \(String(decoding: once, as: UTF8.self))")
                return
            }
            require(again.serialized == once, "serialising is not stable")
        case (.failure, .failure):
            break
        case (.success, .failure(let error)):
            require(false, "the tree parser accepted what the skipper rejects: \(error)")
        case (.failure(let error), .success):
            // The tree parser (requests) also refuses invalid string contents, which the
            // skipper (events) lets through by design.
            require(isStrictStringError(error), "the skipper accepted what the tree parser rejects: \(error)")
        }
    }

    private static func object(_ body: ByteBuffer, _ what: String) -> JSONObject {
        let value = body.withUnsafeReadableBytes { raw in Result { () throws(JSONSyntaxError) in try JSONValue.parse(raw) } }
        guard case .success(.object(let object)) = value else {
            require(false, "the \(what) is not a JSON object: \(String(buffer: body))")
            return JSONObject()
        }
        return object
    }
}

#endif
