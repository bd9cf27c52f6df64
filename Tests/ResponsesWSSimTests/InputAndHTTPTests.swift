import NIOCore
import ResponsesJSON
import Testing
@testable import ResponsesWSSim

/// Bad input never takes the server down; request-scoped errors keep the socket (§4.4, §5.8).
@Suite struct BadInputTests {
    @Test func badFramesGetErrorsAndTheSocketStaysUsable() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let cases: [(send: () -> Void, code: String, param: String?)] = [
                ({ ws.sendText("this is not json") }, "invalid_json", nil),
                ({ ws.sendText("[1,2,3]") }, "invalid_json", nil),
                ({ ws.sendText(#"{"model":"m"}"#) }, "missing_required_parameter", "type"),
                ({ ws.sendText(#"{"type":"response.cancel"}"#) }, "invalid_value", "type"),
                ({ ws.sendBinary([0x7B, 0x7D]) }, "unsupported_frame_type", nil),
                ({ ws.sendText(#"{"type":"response.create","input":"no model"}"#) }, "missing_required_parameter", "model"),
                ({ ws.send(createEvent(["input": "bg", "background": true])) }, "unsupported_parameter", "background"),
                ({ ws.send(createEvent(["input": 42])) }, "invalid_type", "input"),
                ({ ws.send(createEvent(["input": [7]])) }, "invalid_type", "input[0]"),
                ({ ws.send(createEvent(["input": "x", "store": "yes"])) }, "invalid_type", "store"),
            ]
            for (send, code, param) in cases {
                send()
                let error = try await ws.nextEvent()
                #expect(error["type"] == "error")
                #expect(error["status"] == 400)
                #expect(error["error"]?["code"]?.stringValue == code)
                #expect(error["error"]?["param"]?.stringValue == param)
                #expect(error["error"]?["message"]?.stringValue?.isEmpty == false)
            }
            // A named lane's validation error carries its stream_id (§4.5).
            ws.send(createEvent(["input": "bg", "background": true, "stream_id": "s1"]))
            #expect(try await ws.nextEvent()["stream_id"] == "s1")
            #expect(try await ws.create(["input": "still fine"]).terminal["type"] == "response.completed")
            let stats = try #require(sim.connectionStats().first)
            #expect(stats.errorsSent == cases.count + 1)
            await ws.close()
        }
    }

    @Test func unknownEventsCanBeIgnored() async throws {
        try await withSimulator({ $0.ignoreUnknownEvents = true }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.sendText(#"{"type":"response.processed","response_id":"resp_1"}"#)
            let events = try await ws.create(["input": "next"])
            #expect(events.first?["type"] == "response.created")
            #expect(events.terminal["type"] == "response.completed")
            await ws.close()
        }
    }

    @Test func fragmentedMessagesAreReassembled() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.sendFragmented(createEvent(["input": "in three pieces"]).serializedString, pieces: 3)
            let events = try await ws.eventsUntilTerminal()
            #expect(events.deltas().joined().contains("in three pieces"))
            await ws.close()
        }
    }

    @Test(arguments: [1, 4])
    func oversizedMessageGetsAnErrorThenClose1009(_ fragments: Int) async throws {
        try await withSimulator({ $0.maxMessageBytes = 4096 }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let big = createEvent(["input": .string(String(repeating: "a", count: 8000))]).serializedString
            if fragments == 1 { ws.sendText(big) } else { ws.sendFragmented(big, pieces: fragments) }
            let result = try await ws.closeCode()
            #expect(result.events.first?["error"]?["code"] == "message_too_large")
            #expect(result.events.first?["error"]?["message"]?.stringValue?.contains("4096") == true)
            #expect(result.code == 1009)
            // The server is fine: a new connection works.
            let again = try await TestWebSocket.connect(port: sim.port)
            #expect(try await again.create(["input": "small"]).terminal["type"] == "response.completed")
            await again.close()
        }
    }

    @Test func steerIsAnsweredWithSteerFailed() async throws {
        // The fake model `gpt-sim` does not steer (only gpt-6* does by default, §3.2). The hold
        // keeps the response running until the steer has arrived: no timing involved.
        try await withSimulator({ $0.faults = [FaultRule(kind: .holdAfterFirstDelta(frames: 1), requestNumber: 1)] }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.sendText(#"{"type":"response.steer","previous_response_id":"resp_nope","input":"faster"}"#)
            let unknown = try await ws.nextEvent()
            #expect(unknown["type"] == "response.steer.failed")
            #expect(unknown["error"]?["code"] == "response_not_found")
            #expect(unknown["steer"]?["input"] == "faster")
            // Counted once, before it was written (so already when the client has it).
            #expect(sim.stats().totals.eventsSent == 1)

            ws.send(createEvent(["input": "long", "stream_id": "s"]))
            let created = try await ws.nextEvent()
            let id = try #require(created["response"]?["id"]?.stringValue)
            ws.send(["type": "response.steer", "previous_response_id": .string(id), "input": "change course"])
            var steer: JSONValue?
            var events: [JSONValue] = [created]
            while steer == nil || events.terminal["type"] != "response.completed" {
                let event = try await ws.nextEvent()
                if event["type"] == "response.steer.failed" { steer = event }
                events.append(event)
            }
            #expect(steer?["error"]?["code"] == "steering_not_supported")
            #expect(steer?["stream_id"] == "s")
            // The steer event is numbered inside the target response's sequence (§4.6).
            #expect(events.map { $0["sequence_number"]?.intValue } == Array(0..<events.count))
            await ws.close()
        }
    }
}

/// `POST /v1/responses`: SSE with `stream: true`, a JSON Response without.
@Suite struct HTTPTests {
    @Test func ssePostStreamsTheSameEvents() async throws {
        try await withSimulator { sim in
            let result = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "Stream me", "stream": true])
            #expect(result.status == 200)
            #expect(result.headers["Content-Type"].first?.hasPrefix("text/event-stream") == true)
            #expect(!result.body.contains("[DONE]"))
            let events = result.sseEvents
            #expect(events.map(\.event) == events.map { $0.data["type"]?.stringValue ?? "" })
            let data = events.map(\.data)
            #expect(data.first?["type"] == "response.created")
            #expect(data.terminal["type"] == "response.completed")
            #expect(data.map { $0["sequence_number"]?.intValue } == Array(0..<data.count))
            #expect(data.allSatisfy { $0["stream_id"] == nil })
            let text = data.deltas().joined()
            #expect(text.contains("Stream me"))
            #expect(data.terminal["response"]?.outputText == text)
            #expect(data.terminal["response"]?["usage"]?["output_tokens"]?.intValue == data.deltas().count)
        }
    }

    @Test func jsonPostReturnsTheResponseObject() async throws {
        try await withSimulator { sim in
            let result = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "Plain please", "store": false])
            #expect(result.status == 200)
            #expect(result.headers["Content-Type"].first == "application/json")
            let response = try #require(result.json)
            #expect(response["object"] == "response")
            #expect(response["status"] == "completed")
            #expect(response["store"] == false)
            #expect(response.outputText.contains("Plain please"))
            #expect(response["usage"]?["output_tokens"]?.intValue ?? 0 > 0)
        }
    }

    @Test func httpContinuationUsesTheStore() async throws {
        try await withSimulator { sim in
            let stored = try #require(try await TestHTTP.post(port: sim.port, ["model": "m", "input": "keep"]).json)
            let next = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "more", "previous_response_id": stored["id"] ?? nil])
            #expect(next.status == 200)
            #expect(next.json?["previous_response_id"] == stored["id"])

            let unstored = try #require(try await TestHTTP.post(port: sim.port, ["model": "m", "input": "forget", "store": false]).json)
            let missing = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "x", "previous_response_id": unstored["id"] ?? nil])
            #expect(missing.status == 400)
            #expect(missing.json?["error"]?["code"] == "previous_response_not_found")
            #expect(missing.json?["error"]?["param"] == "previous_response_id")

            // A WebSocket session can continue from a response created over HTTP (store:true).
            let ws = try await TestWebSocket.connect(port: sim.port)
            #expect(try await ws.create(["input": "ws", "previous_response_id": stored["id"] ?? nil]).terminal["type"] == "response.completed")
            await ws.close()
        }
    }

    @Test func httpValidationErrorsAre400() async throws {
        try await withSimulator({ $0.maxMessageBytes = 2048 }) { sim in
            let notJSON = try await TestHTTP.request(port: sim.port, body: "{nope")
            #expect(notJSON.status == 400)
            #expect(notJSON.json?["error"]?["code"] == "invalid_json")
            #expect(notJSON.json?["error"]?["param"] == .null)
            let noModel = try await TestHTTP.post(port: sim.port, ["input": "x"])
            #expect(noModel.json?["error"]?["param"] == "model")
            #expect(noModel.status == 400)
            let wsOnly = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "x", "stream_id": "a"])
            #expect(wsOnly.status == 400)
            #expect(wsOnly.json?["error"]?["param"] == "stream_id")
            let generate = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "x", "generate": false])
            #expect(generate.json?["error"]?["param"] == "generate")
            let tooBig = try await TestHTTP.post(port: sim.port, ["model": "m", "input": .string(String(repeating: "z", count: 5000))])
            #expect(tooBig.status == 400)
            #expect(tooBig.json?["error"]?["code"] == "message_too_large")
            #expect(try await TestHTTP.post(port: sim.port, ["model": "m", "input": "ok"]).status == 200)
        }
    }
}

/// Counters for tests and `--stats`, and the SIMULATED cost model.
@Suite struct StatsTests {
    @Test func perConnectionCounters() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let first = createEvent(["input": "one", "store": false]).serializedString
            ws.sendText(first)
            let events = try await ws.eventsUntilTerminal()
            let id = try #require(events.terminal["response"]?["id"])
            let second = createEvent(["input": "two", "store": false, "previous_response_id": id]).serializedString
            ws.sendText(second)
            _ = try await ws.eventsUntilTerminal()
            let third = createEvent(["input": "three", "store": false, "previous_response_id": "resp_missing"]).serializedString
            ws.sendText(third)
            _ = try await ws.eventsUntilTerminal()

            let stats = try #require(sim.connectionStats().first)
            #expect(stats.id == 1)
            #expect(stats.createsReceived == 3)
            #expect(stats.cacheHits == 1)
            #expect(stats.cacheMisses == 1)
            #expect(stats.bytesReceived == first.utf8.count + second.utf8.count + third.utf8.count)
            #expect(stats.errorsSent == 1)
            #expect(stats.isOpen)

            let second2 = try await TestWebSocket.connect(port: sim.port)
            #expect(sim.connectionStats().map(\.id) == [1, 2])
            await second2.close()
            let totals = sim.stats()
            #expect(totals.websocketUpgrades == 2)
            #expect(totals.totals.createsReceived == 3)
            #expect(totals.json.contains("\"cache_hits\":1"))
            #expect(!totals.json.contains("simulated_cost"))
            await ws.close()
        }
    }

    @Test func costModelChargesFullHistoryOnMissesAndNewItemsOnHits() async throws {
        try await withSimulator({ $0.costMicrosecondsPerInputKiB = 1000 }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let big = String(repeating: "context ", count: 1280)  // ~10 KiB of history
            let first = try await ws.create(["input": .string(big), "store": false])
            let id = try #require(first.terminal["response"]?["id"])
            let afterFirst = try #require(sim.connectionStats().first?.simulatedCostMicroseconds)
            #expect(afterFirst >= 10_000)

            _ = try await ws.create(["input": "small", "store": false, "previous_response_id": id])  // hit
            let hitCost = try #require(sim.connectionStats().first?.simulatedCostMicroseconds) - afterFirst
            #expect(hitCost < 200)

            // The same continuation over HTTP (no connection cache) pays for the full history.
            let stored = try #require(try await TestHTTP.post(port: sim.port, ["model": "m", "input": .string(big)]).json)
            let http = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "small", "previous_response_id": stored["id"] ?? nil])
            let charged = try #require(http.headers["x-rws-simulated-cost-us"].first.flatMap { Int($0) })
            #expect(charged >= 10_000)
            let json = sim.stats().json
            #expect(json.contains("SIMULATED"))
            #expect(json.contains("\"simulated_cost\""))
            await ws.close()
        }
    }
}
