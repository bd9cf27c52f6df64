import NIOCore
import ResponsesJSON
import Testing
@testable import ResponsesWSSim

/// §5.2–§5.4: the connection-local cache, the process-wide store, eviction, warm-up.
@Suite struct CacheTests {
    @Test func continuationHitsTheConnectionCache() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let first = try await ws.create(["input": "Turn one", "store": false])
            let firstResponse = try #require(first.terminal["response"])
            let second = try await ws.create(["input": "Turn two", "store": false, "previous_response_id": firstResponse["id"] ?? nil])
            #expect(second.terminal["type"] == "response.completed")
            let response = try #require(second.terminal["response"])
            #expect(response["previous_response_id"] == firstResponse["id"])
            // The cached history (turn one's input and output) is reported as cached tokens.
            let cached = try #require(response["usage"]?["input_tokens_details"]?["cached_tokens"]?.intValue)
            let firstTotal = try #require(firstResponse["usage"]?["total_tokens"]?.intValue)
            #expect(cached >= firstTotal)
            #expect(try #require(response["usage"]?["input_tokens"]?.intValue) > cached)
            let stats = try #require(sim.connectionStats().first)
            #expect(stats.cacheHits == 1)
            #expect(stats.cacheMisses == 0)
            await ws.close()
        }
    }

    @Test func storeFalseMissOnANewConnectionIsNotFound() async throws {
        try await withSimulator { sim in
            let a = try await TestWebSocket.connect(port: sim.port)
            let first = try await a.create(["input": "private", "store": false])
            let id = try #require(first.terminal["response"]?["id"])
            await a.close()

            let b = try await TestWebSocket.connect(port: sim.port)
            let events = try await b.create(["input": "again", "store": false, "previous_response_id": id])
            #expect(events.count == 1)
            let error = events.terminal
            #expect(error["type"] == "error")
            #expect(error["status"] == 400)
            #expect(error["error"]?["code"] == "previous_response_not_found")
            #expect(error["error"]?["type"] == "invalid_request_error")
            #expect(error["error"]?["param"] == "previous_response_id")
            #expect(error["error"]?["message"]?.stringValue?.contains(id.stringValue ?? "?") == true)
            #expect(error["stream_id"] == nil)
            // The socket stays usable after a request-scoped error (§4.4).
            #expect(try await b.create(["input": "fresh"]).terminal["type"] == "response.completed")
            #expect(sim.connectionStats().last?.cacheMisses == 1)
            await b.close()
        }
    }

    @Test func storeTrueContinuationLoadsFromTheStoreOnANewConnection() async throws {
        try await withSimulator { sim in
            let a = try await TestWebSocket.connect(port: sim.port)
            let first = try await a.create(["input": "remember me"])  // store defaults to true
            let id = try #require(first.terminal["response"]?["id"])
            await a.close()

            let b = try await TestWebSocket.connect(port: sim.port)
            let events = try await b.create(["input": "what did I say?", "previous_response_id": id])
            #expect(events.terminal["type"] == "response.completed")
            #expect(events.terminal["response"]?["usage"]?["input_tokens_details"]?["cached_tokens"] == 0)
            let stats = try #require(sim.connectionStats().last)
            #expect(stats.cacheMisses == 1)
            #expect(stats.storeLoads == 1)
            #expect(stats.cacheHits == 0)
            await b.close()
        }
    }

    @Test func failedSameLaneContinuationEvictsItsParent() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let first = try await ws.create(["input": "start", "store": false])
            let id = try #require(first.terminal["response"]?["id"])
            // A function_call_output matching no call fails the continuation (OpenResponses check).
            let bad = try await ws.create([
                "previous_response_id": id, "store": false,
                "input": [["type": "function_call_output", "call_id": "call_nope", "output": "x"]],
            ])
            #expect(bad.terminal["type"] == "error")
            #expect(bad.terminal["status"] == 400)
            #expect(bad.terminal["error"]?["message"]?.stringValue?.contains("call_nope") == true)
            // §5.2: the parent is gone; a retry of the same parent misses.
            let retry = try await ws.create(["previous_response_id": id, "store": false, "input": "retry"])
            #expect(retry.terminal["error"]?["code"] == "previous_response_not_found")
            await ws.close()
        }
    }

    @Test func failedCrossLaneForkKeepsTheParent() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let first = try await ws.create(["input": "main line", "store": false, "stream_id": "main"])
            let id = try #require(first.terminal["response"]?["id"])
            let fork = try await ws.create([
                "previous_response_id": id, "store": false, "stream_id": "critic",
                "input": [["type": "function_call_output", "call_id": "call_nope", "output": "x"]],
            ])
            #expect(fork.terminal["type"] == "error")
            #expect(fork.terminal["stream_id"] == "critic")
            let next = try await ws.create(["previous_response_id": id, "store": false, "stream_id": "main", "input": "go on"])
            #expect(next.terminal["type"] == "response.completed")
            await ws.close()
        }
    }

    @Test func successfulForkContinuesFromAnotherLane() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let first = try await ws.create(["input": "shared", "store": false, "stream_id": "main"])
            let id = try #require(first.terminal["response"]?["id"])
            let fork = try await ws.create(["previous_response_id": id, "store": false, "stream_id": "critic", "input": "review"])
            #expect(fork.terminal["type"] == "response.completed")
            #expect(sim.connectionStats().first?.cacheHits == 1)
            await ws.close()
        }
    }

    @Test func onlyTheLatestResponseOfALaneIsCached() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let first = try await ws.create(["input": "one", "store": false])
            let id = try #require(first.terminal["response"]?["id"])
            _ = try await ws.create(["input": "two", "store": false])  // replaces the lane's entry
            let stale = try await ws.create(["previous_response_id": id, "store": false, "input": "three"])
            #expect(stale.terminal["error"]?["code"] == "previous_response_not_found")
            await ws.close()
        }
    }

    @Test func warmUpThenEmptyInputContinuation() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let warm = try await ws.create([
                "generate": false, "store": false, "instructions": "You are a coding agent.",
                "input": [["type": "message", "role": "user", "content": "Repository: acme/api. Say hi."]],
            ])
            // §5.4: created → in_progress → completed, no output, 0 output tokens.
            #expect(warm.types == ["response.created", "response.in_progress", "response.completed"])
            let response = try #require(warm.terminal["response"])
            #expect(response["output"] == [])
            #expect(response["usage"]?["output_tokens"] == 0)
            #expect(try #require(response["usage"]?["input_tokens"]?.intValue) > 0)
            let real = try await ws.create(["previous_response_id": response["id"] ?? nil, "store": false, "input": []])
            #expect(real.terminal["type"] == "response.completed")
            #expect(real.deltas().joined().contains("Repository: acme/api."))
            #expect(sim.connectionStats().first?.cacheHits == 1)
            await ws.close()
        }
    }
}

/// §5.1: lanes, FIFO, stream_id rules and the per-connection limits.
@Suite struct LaneTests {
    @Test func namedLaneEventsCarryStreamID() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let events = try await ws.create(["input": "lane", "stream_id": "lane.A-1_x"])
            #expect(events.terminal["type"] == "response.completed")
            #expect(events.allSatisfy { $0["stream_id"] == "lane.A-1_x" })
            let plain = try await ws.create(["input": "default"])
            #expect(plain.allSatisfy { $0["stream_id"] == nil })
            await ws.close()
        }
    }

    @Test func lanesRunFIFOAndInterleaveAcrossLanes() async throws {
        // 100 ms per response: lane b's first response surely starts before lane a's ends, even
        // on a loaded machine (10 ms was sometimes not enough).
        try await withSimulator({ $0.tokensPerSecond = 200; $0.outputTokens = 20 }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            for (i, lane) in ["a", "a", "a", "b", "b"].enumerated() {
                ws.send(createEvent(["input": .string("request \(i)"), "stream_id": .string(lane), "store": false]))
            }
            var order: [String: [String]] = [:]   // lane -> event types in arrival order
            var texts: [String: [String]] = [:]
            var current: [String: String] = [:]
            var terminals = 0
            var interleaved = false
            var lastLane: String?
            var lanesSeenBeforeFirstTerminal = Set<String>()
            while terminals < 5 {
                let event = try await ws.nextEvent()
                let lane = try #require(event["stream_id"]?.stringValue)
                let type = try #require(event["type"]?.stringValue)
                order[lane, default: []].append(type)
                if terminals == 0 { lanesSeenBeforeFirstTerminal.insert(lane) }
                if let lastLane, lastLane != lane { interleaved = true }
                lastLane = lane
                if let delta = event["delta"]?.stringValue { current[lane, default: ""] += delta }
                if type == "response.completed" {
                    terminals += 1
                    texts[lane, default: []].append(current[lane] ?? "")
                    current[lane] = ""
                }
            }
            // Per lane: never two responses open at once (created … completed, created …).
            for (_, types) in order {
                var open = false
                for type in types {
                    if type == "response.created" { #expect(!open); open = true }
                    if type == "response.completed" { #expect(open); open = false }
                }
            }
            // FIFO: lane a answered requests 0, 1, 2 in order; lane b 3, 4.
            #expect(texts["a"]?.map { $0.contains("request 0") } == [true, false, false])
            #expect(texts["a"]?[1].contains("request 1") == true)
            #expect(texts["a"]?[2].contains("request 2") == true)
            #expect(texts["b"]?[0].contains("request 3") == true)
            #expect(texts["b"]?[1].contains("request 4") == true)
            // Different lanes run concurrently.
            #expect(lanesSeenBeforeFirstTerminal == ["a", "b"])
            #expect(interleaved)
            await ws.close()
        }
    }

    @Test(arguments: [JSONValue.string(""), "has space", "bad/char", .string(String(repeating: "x", count: 257)), 7])
    func invalidStreamIDIsRejected(_ streamID: JSONValue) async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let events = try await ws.create(["input": "x", "stream_id": streamID])
            let error = events.terminal
            #expect(error["type"] == "error")
            #expect(error["status"] == 400)
            #expect(error["error"]?["code"] == "invalid_stream_id")
            #expect(error["error"]?["param"] == "stream_id")
            #expect(error["stream_id"] == nil)  // §4.5: the guide's example has none
            #expect(try await ws.create(["input": "ok", "stream_id": .string(String(repeating: "y", count: 256))]).terminal["type"] == "response.completed")
            await ws.close()
        }
    }

    @Test func thirtyThirdNamedLaneIsRejected() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            for i in 0..<32 {
                #expect(try await ws.create(["input": "x", "stream_id": .string("lane\(i)")]).terminal["type"] == "response.completed")
            }
            let events = try await ws.create(["input": "x", "stream_id": "lane32"])
            #expect(events.terminal["error"]?["code"] == "websocket_stream_limit_reached")
            #expect(events.terminal["stream_id"] == "lane32")
            #expect(events.terminal["status"] == 400)
            // Existing names and the default lane keep working.
            #expect(try await ws.create(["input": "x", "stream_id": "lane7"]).terminal["type"] == "response.completed")
            #expect(try await ws.create(["input": "x"]).terminal["type"] == "response.completed")
            await ws.close()
        }
    }

    @Test func seventeenthInFlightResponseIsQueuedNotRejected() async throws {
        // 17 lanes at once; each response takes >= 1 s, so all 16 slots fill before any frees
        // (with 200 ms a loaded machine sometimes freed one first).
        try await withSimulator({ $0.tokensPerSecond = 20; $0.outputTokens = 20 }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            for i in 0..<17 { ws.send(createEvent(["input": "go", "stream_id": .string("l\(i)")])) }
            var createdBeforeFirstTerminal = 0
            var terminals = 0
            var created = 0
            var sawSeventeenthCreated = false
            while terminals < 17 {
                let event = try await ws.nextEvent(timeout: .seconds(20))
                let type = try #require(event["type"]?.stringValue)
                #expect(type != "error")
                if type == "response.created" {
                    created += 1
                    if terminals == 0 { createdBeforeFirstTerminal += 1 }
                    if event["stream_id"] == "l16" { sawSeventeenthCreated = true; #expect(terminals >= 1) }
                }
                if type == "response.completed" { terminals += 1 }
            }
            #expect(createdBeforeFirstTerminal == 16)
            #expect(created == 17)
            #expect(sawSeventeenthCreated)
            await ws.close()
        }
    }

    @Test func rejectOverlappingFlagRejectsABusyLane() async throws {
        try await withSimulator({ $0.rejectOverlappingCreates = true; $0.tokensPerSecond = 100; $0.outputTokens = 10 }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.send(createEvent(["input": "first"]))
            ws.send(createEvent(["input": "second"]))
            var types: [String] = []
            while types.filter({ $0 == "response.completed" || $0 == "error" }).count < 2 {
                types.append(try #require(try await ws.nextEvent()["type"]?.stringValue))
            }
            #expect(types.contains("error"))
            #expect(types.filter { $0 == "response.created" }.count == 1)
            await ws.close()
        }
    }
}
