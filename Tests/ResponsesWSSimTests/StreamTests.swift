import NIOCore
import ResponsesJSON
import Testing
@testable import ResponsesWSSim

/// §4.3 event sequences, numbering, usage and the fake model's answers over WebSocket.
@Suite struct StreamTests {
    @Test func textResponseFollowsTheDocumentedSequence() async throws {
        try await withSimulator({ $0.outputTokens = 40 }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let events = try await ws.create(["input": "Hi there, simulator", "store": false])
            let deltaCount = events.deltas().count
            #expect(deltaCount > 10)
            #expect(events.types == ["response.created", "response.in_progress", "response.output_item.added",
                                     "response.content_part.added"]
                    + Array(repeating: "response.output_text.delta", count: deltaCount)
                    + ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                       "response.completed"])
            // sequence_number restarts at 0 per response and increases by one (§4.1).
            #expect(events.map { $0["sequence_number"]?.intValue } == Array(0..<events.count))
            // No stream_id on the default lane (§4.1).
            #expect(events.allSatisfy { $0["stream_id"] == nil })

            let created = try #require(events.first?["response"])
            #expect(created["status"] == "in_progress")
            #expect(created["object"] == "response")
            #expect(created["usage"] == .null)
            let id = try #require(created["id"]?.stringValue)
            #expect(id.hasPrefix("resp_"))

            let completed = try #require(events.terminal["response"])
            #expect(completed["id"]?.stringValue == id)
            #expect(completed["status"] == "completed")
            #expect(completed["store"] == false)
            #expect(completed["model"] == "gpt-sim")
            let text = events.deltas().joined()
            #expect(completed.outputText == text)
            #expect(text.contains("Hi there, simulator"))
            #expect(events[events.count - 4]["text"]?.stringValue == text)  // output_text.done
            #expect(events[events.count - 3]["part"]?["text"]?.stringValue == text)  // content_part.done
            let itemID = try #require(events[2]["item"]?["id"]?.stringValue)
            #expect(itemID.hasPrefix("msg_"))
            #expect(events.filter { $0["item_id"] != nil }.allSatisfy { $0["item_id"]?.stringValue == itemID })
            // One token per delta, each a short word piece.
            #expect(events.deltas().allSatisfy { !$0.isEmpty && $0.utf8.count <= 4 })
            #expect(deltaCount <= 40)

            let usage = try #require(completed["usage"])
            #expect(usage["output_tokens"]?.intValue == deltaCount)
            let input = try #require(usage["input_tokens"]?.intValue)
            #expect(input > 0)
            #expect(usage["total_tokens"]?.intValue == input + deltaCount)
            #expect(usage["input_tokens_details"]?["cached_tokens"] == 0)
            #expect(usage["output_tokens_details"]?["reasoning_tokens"] == 0)
            await ws.close()
        }
    }

    @Test func answersAreDeterministic() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let a = try await ws.create(["input": "The same question", "store": false]).deltas().joined()
            let b = try await ws.create(["input": "The same question", "store": false]).deltas().joined()
            let c = try await ws.create(["input": "Another question", "store": false]).deltas().joined()
            #expect(a == b)
            #expect(a != c)
            await ws.close()
        }
    }

    @Test func responseEchoesRequestConfiguration() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let events = try await ws.create([
                "input": "x", "instructions": "Be brief.", "temperature": .number("0.7"), "metadata": ["k": "v"],
                "parallel_tool_calls": false, "stream": true,  // §3.1: `stream` is tolerated
            ])
            let response = try #require(events.terminal["response"])
            #expect(events.terminal["type"] == "response.completed")
            #expect(response["instructions"] == "Be brief.")
            #expect(response["temperature"] == .number("0.7"))
            #expect(response["metadata"]?["k"] == "v")
            #expect(response["parallel_tool_calls"] == false)
            #expect(response["tool_choice"] == "auto")
            #expect(response["tools"] == [])
            #expect(response["store"] == true)  // §3.1: store defaults to true
            await ws.close()
        }
    }

    @Test func maxOutputTokensEndsIncomplete() async throws {
        try await withSimulator({ $0.outputTokens = 50 }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let events = try await ws.create(["input": "Tell me a long story", "max_output_tokens": 5])
            #expect(events.terminal["type"] == "response.incomplete")
            #expect(events.deltas().count == 5)
            let response = try #require(events.terminal["response"])
            #expect(response["status"] == "incomplete")
            #expect(response["incomplete_details"]?["reason"] == "max_output_tokens")
            #expect(response["usage"]?["output_tokens"] == 5)
            await ws.close()
        }
    }

    @Test func tokensArePacedAtTheConfiguredRate() async throws {
        // 20 tokens at 200/s: the server schedules token k at start + k/200 s, so the whole
        // response can never arrive sooner than (count - 1)/200 s after the request was sent.
        // (A lower bound that holds however slow the machine is; no speed is asserted.)
        try await withSimulator({ $0.tokensPerSecond = 200; $0.outputTokens = 20 }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let sent = NIODeadline.now()
            let events = try await ws.create(["input": "pace"])
            let elapsed = NIODeadline.now() - sent
            let count = events.deltas().count
            #expect(count > 10)
            #expect(elapsed >= .nanoseconds(Int64(count - 1) * 1_000_000_000 / 200))
            await ws.close()
        }
    }

    @Test func tokenizerSplitsIntoShortValidPieces() {
        let pieces = Tokenizer.tokenize("Hello, wonderful wörld! 12345")
        #expect(pieces.text == "Hello, wonderful wörld! 12345")
        let tokens = (0..<pieces.count).map { String(decoding: pieces.bytes[pieces.range($0)], as: UTF8.self) }
        #expect(tokens == ["Hell", "o", ",", " won", "derf", "ul", " wö", "rld", "!", " 123", "45"])
        #expect(Tokenizer.count("Hello, wonderful wörld! 12345") == tokens.count)
    }
}

/// Function tools: a call on a user message, then a text answer quoting the tool output.
@Suite struct FunctionCallTests {
    static let weather: JSONValue = [
        "type": "function", "name": "get_weather",
        "parameters": ["type": "object", "properties": ["city": ["type": "string"], "days": ["type": "integer"]],
                       "required": ["city", "days"]],
    ]
    static let clock: JSONValue = ["type": "function", "name": "get_time", "parameters": ["type": "object", "properties": [:]]]

    @Test func userMessageWithToolsYieldsAFunctionCallThenATextAnswer() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let events = try await ws.create(["input": "Weather in Paris?", "tools": [Self.weather], "store": false])
            let argumentDeltas = events.deltas("response.function_call_arguments.delta")
            #expect(events.types == ["response.created", "response.in_progress", "response.output_item.added"]
                    + Array(repeating: "response.function_call_arguments.delta", count: argumentDeltas.count)
                    + ["response.function_call_arguments.done", "response.output_item.done", "response.completed"])
            #expect(events.map { $0["sequence_number"]?.intValue } == Array(0..<events.count))
            let added = try #require(events[2]["item"])
            #expect(added["type"] == "function_call")
            #expect(added["status"] == "in_progress")
            let response = try #require(events.terminal["response"])
            let call = try #require(response["output"]?.arrayValue?.first)
            #expect(call["type"] == "function_call")
            #expect(call["name"] == "get_weather")
            #expect(call["status"] == "completed")
            let callID = try #require(call["call_id"]?.stringValue)
            #expect(callID.hasPrefix("call_"))
            #expect(call["id"]?.stringValue?.hasPrefix("fc_") == true)
            let arguments = try #require(call["arguments"]?.stringValue)
            #expect(argumentDeltas.joined() == arguments)
            #expect(argumentDeltas.count > 3)
            #expect(events[events.count - 3]["arguments"]?.stringValue == arguments)
            #expect(events[events.count - 3]["name"] == "get_weather")
            let parsed = try JSONValue.parse(arguments)
            #expect(parsed["city"]?.stringValue?.isEmpty == false)
            #expect(parsed["days"]?.intValue != nil)
            #expect(response["usage"]?["output_tokens"]?.intValue == argumentDeltas.count)

            let followUp = try await ws.create([
                "previous_response_id": response["id"] ?? nil, "tools": [Self.weather], "store": false,
                "input": [["type": "function_call_output", "call_id": .string(callID), "output": "{\"temp\":\"21C\"}"]],
            ])
            #expect(followUp.terminal["type"] == "response.completed")
            let text = followUp.deltas().joined()
            #expect(text.contains("{\"temp\":\"21C\"}"))
            #expect(text.contains("get_weather"))
            #expect(followUp.terminal["response"]?.outputText == text)
            await ws.close()
        }
    }

    @Test func toolChoiceNamesTheTool() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            for name in ["get_time", "get_weather"] {
                let events = try await ws.create([
                    "input": "Anything", "tools": [Self.weather, Self.clock],
                    "tool_choice": ["type": "function", "name": .string(name)],
                ])
                #expect(events.terminal["response"]?["output"]?[0]?["name"]?.stringValue == name)
            }
            // tool_choice "none": a text answer even with tools.
            let none = try await ws.create(["input": "Anything", "tools": [Self.weather], "tool_choice": "none"])
            #expect(none.terminal["response"]?["output"]?[0]?["type"] == "message")
            await ws.close()
        }
    }

    @Test func toolChoiceIsDeterministicPerInput() async throws {
        let request = try CreateRequest.parse(
            try #require(JSONValue.parse(#"{"model":"m","input":"pick one","tools":[{"type":"function","name":"a"},{"type":"function","name":"b"},{"type":"function","name":"c"}]}"#).objectValue),
            transport: .webSocket).get()
        let model = FakeModel(outputTokens: 24)
        func name() throws -> String? {
            if case .functionCall(let n, _, _) = try model.plan(for: request, parent: nil).output { return n }
            return nil
        }
        let first = try name()
        #expect(first != nil)
        for _ in 0..<5 { #expect(try name() == first) }
    }
}

extension JSONValue {
    subscript(index: Int) -> JSONValue? {
        guard case .array(let items) = self, items.indices.contains(index) else { return nil }
        return items[index]
    }
}
