import NIOCore
import ResponsesJSON
import Testing
@testable import ResponsesWSSim

/// `--fault KIND@N`: N counts create frames and POSTs server-wide, from 1.
@Suite struct FaultTests {
    @Test func parsesFaultRules() throws {
        #expect(try FaultRule(parsing: "drop-before-events@1") == FaultRule(kind: .dropBeforeEvents, requestNumber: 1))
        #expect(try FaultRule(parsing: "drop-mid-stream@3").kind == .dropMidStream)
        #expect(try FaultRule(parsing: "close-1011@2").kind == .close1011)
        #expect(try FaultRule(parsing: "evict@4").kind == .evict)
        #expect(try FaultRule(parsing: "limit@5").kind == .limit)
        #expect(try FaultRule(parsing: "slow:250@6") == FaultRule(kind: .slow(milliseconds: 250), requestNumber: 6))
        #expect(try FaultRule(parsing: "slow:250@6").description == "slow:250@6")
        for bad in ["drop@1", "evict", "evict@0", "evict@x", "slow:@1", "slow:-5@1", "@3"] {
            #expect(throws: SimulatorConfigError.self) { try FaultRule(parsing: bad) }
        }
    }

    private func config(_ faults: String...) -> (inout SimulatorConfig) -> Void {
        { config in config.faults = faults.compactMap { try? FaultRule(parsing: $0) } }
    }

    @Test func dropBeforeEventsClosesWithoutACloseFrame() async throws {
        try await withSimulator(config("drop-before-events@2")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            #expect(try await ws.create(["input": "first"]).terminal["type"] == "response.completed")
            ws.send(createEvent(["input": "second"]))
            let result = try await ws.closeCode()
            #expect(result.code == nil)       // no close frame: the client sees 1006
            #expect(result.events.isEmpty)    // and no events
            #expect(sim.stats().faultsInjected == 1)
        }
    }

    @Test func dropMidStreamClosesAfterTheFirstDelta() async throws {
        try await withSimulator(config("drop-mid-stream@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.send(createEvent(["input": "go"]))
            let result = try await ws.closeCode()
            #expect(result.code == nil)
            #expect(result.events.types == ["response.created", "response.in_progress", "response.output_item.added",
                                            "response.content_part.added", "response.output_text.delta"])
        }
    }

    @Test func close1011() async throws {
        try await withSimulator(config("close-1011@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.send(createEvent(["input": "go"]))
            let result = try await ws.closeCode()
            #expect(result.code == 1011)
            #expect(result.events.isEmpty)
        }
    }

    @Test func evictAnswersNotFoundAsIfTheCacheMissed() async throws {
        try await withSimulator(config("evict@2")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let first = try await ws.create(["input": "one", "store": false])
            let id = try #require(first.terminal["response"]?["id"])
            let second = try await ws.create(["input": "two", "store": false, "previous_response_id": id])
            #expect(second.terminal["error"]?["code"] == "previous_response_not_found")
            // The parent stays evicted, like a real miss.
            let third = try await ws.create(["input": "three", "store": false, "previous_response_id": id])
            #expect(third.terminal["error"]?["code"] == "previous_response_not_found")
            await ws.close()
        }
    }

    @Test func limitSendsTheLimitErrorThenCloses() async throws {
        try await withSimulator(config("limit@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.send(createEvent(["input": "go"]))
            let result = try await ws.closeCode()
            #expect(result.events.map { $0["error"]?["code"] } == ["websocket_connection_limit_reached"])
            #expect(result.code == 1000)
        }
    }

    @Test func slowDelaysTheFirstEvent() async throws {
        try await withSimulator(config("slow:150@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let start = NIODeadline.now()
            ws.send(createEvent(["input": "go"]))
            _ = try await ws.nextEvent()
            #expect(NIODeadline.now() - start >= .milliseconds(145))  // a lower bound, never a speed check
            #expect(try await ws.eventsUntilTerminal().terminal["type"] == "response.completed")
            await ws.close()
        }
    }

    @Test func requestsAreCountedAcrossTransports() async throws {
        try await withSimulator(config("close-1011@2")) { sim in
            let post = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "one"])  // request 1
            #expect(post.status == 200)
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.send(createEvent(["input": "two"]))  // request 2
            #expect(try await ws.closeCode().code == 1011)
        }
    }

    @Test func httpFaults() async throws {
        try await withSimulator(config("drop-before-events@1", "close-1011@2", "close-1011@3", "limit@4", "evict@5",
                                       "drop-mid-stream@6")) { sim in
            let dropped = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "1"])
            #expect(!dropped.complete)
            #expect(dropped.status == 0)

            let plain500 = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "2"])
            #expect(plain500.status == 500)
            #expect(plain500.json?["error"]?["type"] == "server_error")

            let failed = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "3", "stream": true])
            #expect(failed.status == 200)
            #expect(failed.sseEvents.map(\.event).last == "response.failed")
            #expect(failed.sseEvents.last?.data["response"]?["status"] == "failed")
            #expect(failed.sseEvents.last?.data["response"]?["error"]?["code"] == "server_error")

            let limited = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "4"])
            #expect(limited.status == 429)
            #expect(limited.headers["retry-after"].first == "1")

            let evicted = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "5"])
            #expect(evicted.status == 400)
            #expect(evicted.json?["error"]?["code"] == "previous_response_not_found")

            let midStream = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "6", "stream": true])
            #expect(!midStream.complete)
            #expect(midStream.sseEvents.map(\.event).last == "response.output_text.delta")
        }
    }
}
