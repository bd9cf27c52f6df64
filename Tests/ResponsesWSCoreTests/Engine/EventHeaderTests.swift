import Testing
import ResponsesJSON
@testable import ResponsesWSCore

private func decode(_ text: String) throws -> (EventHeader, [UInt8]) {
    let bytes = Array(text.utf8)
    let header = try bytes.withUnsafeBytes { try EventHeader.decode($0) }
    return (header, bytes)
}

private func text(_ bytes: [UInt8], _ span: JSONSpan) -> String {
    String(decoding: bytes[span.start..<span.end], as: UTF8.self)
}

@Suite struct EventHeaderTests {
    @Test func decodesADeltaWithoutCopying() throws {
        let (h, b) = try decode(#"{"type":"response.output_text.delta","sequence_number":7,"item_id":"msg_1","output_index":0,"content_index":0,"delta":"Hel","stream_id":"main"}"#)
        #expect(h.type == .outputTextDelta)
        #expect(text(b, h.typeName) == "response.output_text.delta")
        #expect(h.sequenceNumber == 7)
        #expect(h.outputIndex == 0)
        #expect(text(b, h.itemID) == "msg_1")
        #expect(text(b, h.delta) == "Hel")
        #expect(!h.deltaEscaped)
        #expect(text(b, h.streamID) == "main")
        #expect(!h.type.isTerminal)
    }

    /// Servers send compact JSON, but whitespace anywhere JSON allows it must read the same.
    @Test func whitespaceBetweenTokensIsAllowed() throws {
        let (h, b) = try decode("{ \"type\" :\t\"response.output_text.delta\" ,\n \"sequence_number\" : 12 ,\r\n\"delta\": \"x\" , \"item_id\":\"m\" }\n")
        #expect(h.type == .outputTextDelta)
        #expect(h.sequenceNumber == 12)
        #expect(text(b, h.delta) == "x")
        #expect(text(b, h.itemID) == "m")
    }

    @Test func lifecycleEventsExposeTheResponseIdAndStatus() throws {
        let (h, b) = try decode(#"{"type":"response.completed","sequence_number":9,"response":{"id":"resp_42","object":"response","status":"completed","output":[{"type":"message"}],"usage":{"input_tokens":3}}}"#)
        #expect(h.type == .responseCompleted)
        #expect(h.type.isTerminal)
        #expect(text(b, h.responseID) == "resp_42")
        #expect(text(b, h.responseStatus) == "completed")
        #expect(text(b, h.response).hasPrefix(#"{"id":"resp_42""#))
        let summary = try b.withUnsafeBytes { try ResponseSummary.decode($0, response: h.response) }
        #expect(summary.id == "resp_42")
        #expect(summary.outputItems.count == 1)
        #expect(summary.inputTokens == 3)
        #expect(summary.outputTokens == -1)
    }

    @Test func errorEventsUseTheNestedShape() throws {
        // §4.5: nested error object plus a top-level HTTP-like status.
        let (h, b) = try decode(#"{"type":"error","status":400,"error":{"type":"invalid_request_error","code":"previous_response_not_found","message":"Previous response with id 'resp_abc' not found.","param":"previous_response_id"}}"#)
        #expect(h.type == .error)
        #expect(h.type.isTerminal)
        #expect(h.errorStatus == 400)
        #expect(text(b, h.errorCode) == "previous_response_not_found")
        #expect(Status.forServerError(code: text(b, h.errorCode), status: h.errorStatus) == .previousResponseNotFound)
    }

    @Test func unknownTypesAreKeptWithTheirName() throws {
        let (h, b) = try decode(#"{"type":"response.shell_call_output_content.delta","delta":{"stdout":"x"}}"#)
        #expect(h.type == .other)
        #expect(text(b, h.typeName) == "response.shell_call_output_content.delta")
        #expect(h.delta.count == 0)   // an object delta is not a text delta
    }

    @Test func legacyResponseDoneIsTerminal() throws {
        let (h, _) = try decode(#"{"type":"response.done","response":{"id":"r","status":"completed"}}"#)
        #expect(h.type == .responseDone)
        #expect(h.type.isTerminal)
    }

    @Test func escapedDeltasAreDecodedIntoScratch() throws {
        let (h, b) = try decode(#"{"type":"response.output_text.delta","delta":"a\"b\n\u00e9"}"#)
        #expect(h.deltaEscaped)
        var scratch: [UInt8] = []
        let delta = b.withUnsafeBytes { frame in
            DeliveredEvent.with(frame: frame, header: h, responseID: UnsafeRawBufferPointer(start: nil, count: 0), scratch: &scratch) {
                String(decoding: $0.delta, as: UTF8.self)
            }
        }
        #expect(delta == "a\"b\n\u{e9}")
    }

    @Test(arguments: ["not json", "[1,2]", #"{"no_type":1}"#, #"{"type":5}"#, #"{"type":"x"} trailing"#])
    func rejectsFramesThatAreNotEvents(_ frame: String) {
        #expect(throws: (any Error).self) { try decode(frame) }
    }

    @Test func everyKnownNameRoundTrips() throws {
        let names: [(String, EventType)] = [
            ("response.created", .responseCreated), ("response.queued", .responseQueued),
            ("response.in_progress", .responseInProgress), ("response.completed", .responseCompleted),
            ("response.failed", .responseFailed), ("response.incomplete", .responseIncomplete), ("error", .error),
            ("response.output_item.added", .outputItemAdded), ("response.output_item.done", .outputItemDone),
            ("response.content_part.added", .contentPartAdded), ("response.content_part.done", .contentPartDone),
            ("response.output_text.delta", .outputTextDelta), ("response.output_text.done", .outputTextDone),
            ("response.function_call_arguments.delta", .functionCallArgumentsDelta),
            ("response.function_call_arguments.done", .functionCallArgumentsDone),
            ("response.reasoning_summary_text.delta", .reasoningSummaryTextDelta),
            ("response.reasoning_summary_text.done", .reasoningSummaryTextDone),
            ("response.reasoning_text.delta", .reasoningTextDelta), ("response.reasoning_text.done", .reasoningTextDone),
            ("response.refusal.delta", .refusalDelta), ("response.refusal.done", .refusalDone), ("response.done", .responseDone),
        ]
        for (name, type) in names {
            let (h, _) = try decode(#"{"type":"\#(name)"}"#)
            #expect(h.type == type, "\(name)")
        }
    }
}

@Suite struct TurnRequestTests {
    private func prepare(_ json: String, defaults: JSONObject = JSONObject(), lane: String? = nil, max: Int = 1 << 20) throws(RWSError) -> TurnRequest {
        var json = json
        return try json.withUTF8 { raw in
            Result { () throws(RWSError) in try TurnRequest.prepare(UnsafeRawBufferPointer(raw), defaults: defaults, streamID: lane, maxRequestBytes: max) }
        }.get()
    }

    private func wire(_ r: TurnRequest, previous: String?, lane: String? = nil) throws -> JSONValue {
        var buffer = r.webSocketBody(items: r.newItems, previousResponseID: previous, streamID: lane, allocator: .init())
        return try JSONValue.parse(buffer.readBytes(length: buffer.readableBytes)!)
    }

    @Test func addsTypeAndChainingAndDropsTransportFields() throws {
        let r = try prepare(#"{"model":"m","input":"hi","stream":true,"stream_options":{},"type":"x","store":false}"#,
                            defaults: (["instructions": "be brief", "model": "default"] as JSONValue).objectValue!)
        let body = try wire(r, previous: "resp_1")
        #expect(body["type"] == "response.create")
        #expect(body["previous_response_id"] == "resp_1")
        #expect(body["model"] == "m")                // the request wins over defaults
        #expect(body["instructions"] == "be brief")   // defaults fill in
        #expect(body["stream"] == nil)                // §3.1: never sent
        #expect(body["stream_options"] == nil)
        #expect(body["store"] == false)
        #expect(body["input"] == [["type": "message", "role": "user", "content": "hi"]])
        #expect(r.chaining == .session)
    }

    @Test func explicitChainingIsKept() throws {
        #expect(try prepare(#"{"previous_response_id":null}"#).chaining == .none)
        #expect(try prepare(#"{"previous_response_id":"resp_9"}"#).chaining == .explicit("resp_9"))
    }

    @Test func laneAndGenerateGoOnTheWire() throws {
        let r = try prepare(#"{"input":[],"generate":false}"#, lane: "main")
        let body = try wire(r, previous: nil, lane: "main")
        #expect(body["stream_id"] == "main")
        #expect(body["generate"] == false)
        #expect(body["previous_response_id"] == nil)
    }

    @Test func httpBodyCarriesTheFullContextAndNoWebSocketFields() throws {
        let r = try prepare(#"{"model":"m","input":[{"type":"function_call_output","call_id":"c","output":"1"}],"generate":false}"#)
        var buffer = r.httpBody(items: [Array(#"{"role":"user","content":"a"}"#.utf8)] + r.newItems, allocator: .init())
        let body = try JSONValue.parse(buffer.readBytes(length: buffer.readableBytes)!)
        #expect(body["stream"] == true)
        #expect(body["generate"] == nil)
        #expect(body["input"]?.arrayValue?.count == 2)
        #expect(body["type"] == nil)
    }

    @Test func badRequestsFailWithDistinctStatuses() {
        func status(_ json: String, max: Int = 1 << 20) -> Status? {
            do { _ = try prepare(json, max: max); return nil } catch { return error.status }
        }
        #expect(status("{") == .invalidJSON)
        #expect(status("[1]") == .invalidJSON)
        #expect(status(#"{"input":5}"#) == .invalidJSON)
        #expect(status(#"{"input":[1]}"#) == .invalidJSON)
        #expect(status(#"{"background":true}"#) == .unsupported)
        #expect(status(#"{"stream_id":"other"}"#) == .invalidArgument)
        #expect(status(#"{"previous_response_id":3}"#) == .invalidJSON)
        #expect(status(#"{"input":"\#(String(repeating: "x", count: 5000))"}"#, max: 2048) == .requestTooBig)
    }

    @Test func requestTooBigNamesTheSizeAndLimit() {
        do {
            _ = try prepare(#"{"input":"\#(String(repeating: "x", count: 5000))"}"#, max: 2048)
            Issue.record("expected requestTooBig")
        } catch {
            #expect(error.message.contains("2048"))
        }
    }
}

@Suite struct StatusMappingTests {
    @Test func serverErrorsMapByCodeThenStatus() {
        #expect(Status.forServerError(code: "websocket_connection_limit_reached", status: 400) == .connectionLimit)
        #expect(Status.forServerError(code: "websocket_stream_limit_reached", status: 400) == .streamLimit)
        #expect(Status.forServerError(code: "invalid_stream_id", status: 400) == .invalidStreamID)
        #expect(Status.forServerError(code: nil, status: 429) == .rateLimited)
        #expect(Status.forServerError(code: "invalid_api_key", status: 401) == .auth)
        #expect(Status.forServerError(code: "bad_param", status: 400) == .invalidRequest)
        #expect(Status.forServerError(code: "server_error", status: 500) == .server)
    }

    @Test func streamIDValidationFollowsTheProtocol() {
        #expect(throws: RWSError.self) { try Session.validate(streamID: "") }
        #expect(throws: RWSError.self) { try Session.validate(streamID: "has space") }
        #expect(throws: RWSError.self) { try Session.validate(streamID: String(repeating: "a", count: 257)) }
        #expect(throws: Never.self) { try Session.validate(streamID: "lane_1.a-b") }
    }
}

/// A request holding an invalid escape, a lone surrogate or invalid UTF-8 is refused before
/// anything is sent, with the byte named; valid text keeps its meaning on the wire.
@Suite struct StrictTurnRequestTests {
    private func prepare(_ json: [UInt8]) throws(RWSError) -> TurnRequest {
        try json.withUnsafeBytes { raw in
            Result { () throws(RWSError) in try TurnRequest.prepare(raw, defaults: JSONObject(), streamID: nil, maxRequestBytes: 1 << 20) }
        }.get()
    }

    @Test func refusesInvalidStringsWithTheByteOffset() {
        let cases: [([UInt8], Int)] = [
            (Array(#"{"input":"a\qb"}"#.utf8), 11),
            (Array(#"{"input":"\x41"}"#.utf8), 10),
            (Array(#"{"input":"\u00zz"}"#.utf8), 10),
            (Array(#"{"input":"\ud800"}"#.utf8), 10),
            (Array(#"{"input":"\udc00"}"#.utf8), 10),
            (Array(#"{"input":"\ud800\u0041"}"#.utf8), 10),
            (Array(#"{"model":"m","input":[{"type":"message","content":"x"#.utf8) + [0xFE] + Array(#""}]}"#.utf8), 52),
        ]
        for (json, offset) in cases {
            do {
                _ = try prepare(json)
                Issue.record("accepted \(String(decoding: json, as: UTF8.self))")
            } catch {
                #expect(error.status == .invalidJSON)
                #expect(error.message.contains("byte \(offset)"), "\(error.message)")
            }
        }
    }

    @Test func validTextIsSentWithItsMeaning() throws {
        let r = try prepare(Array(#"{"model":"m","temperature":0.70,"input":"caf\u00e9 \ud83d\ude00 €"}"#.utf8))
        var buffer = r.webSocketBody(items: r.newItems, previousResponseID: nil, streamID: nil, allocator: .init())
        let wire = String(decoding: buffer.readBytes(length: buffer.readableBytes)!, as: UTF8.self)
        #expect(wire.contains(#""content":"café 😀 €""#))
        #expect(wire.contains(#""temperature":0.70"#))
    }
}
