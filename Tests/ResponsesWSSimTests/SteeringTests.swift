import NIOCore
import ResponsesJSON
import Testing
@testable import ResponsesWSSim

/// §3.2, §4.6, §5.6: `response.steer`. The hold-after-… faults keep a response at a known point
/// until the steer has arrived, so no test depends on timing.
@Suite struct SteeringTests {
    static let weather: JSONValue = [
        "type": "function", "name": "get_weather",
        "parameters": ["type": "object", "properties": ["city": ["type": "string"]]],
    ]

    private func faults(_ rules: String..., steering: SteeringSupport = .auto) -> (inout SimulatorConfig) -> Void {
        { config in
            config.faults = rules.compactMap { try? FaultRule(parsing: $0) }
            config.steering = steering
        }
    }

    private func steerCounts(_ sim: Simulator) -> [Int] {
        let s = sim.stats().totals
        return [s.steersReceived, s.steersAccepted, s.steersFailed, s.steersPending, s.steersCommitted]
    }

    @Test func parsesTheSteeringFaults() throws {
        #expect(try FaultRule(parsing: "hold-after-created@2").kind == .holdAfterCreated(frames: 1))
        #expect(try FaultRule(parsing: "hold-after-first-delta@1").kind == .holdAfterFirstDelta(frames: 1))
        #expect(try FaultRule(parsing: "hold-after-first-delta:3@1").kind == .holdAfterFirstDelta(frames: 3))
        #expect(try FaultRule(parsing: "hold-after-output:2@4") == FaultRule(kind: .holdAfterOutput(frames: 2), requestNumber: 4))
        #expect(try FaultRule(parsing: "hold-after-first-delta:3@1").description == "hold-after-first-delta:3@1")
        #expect(try FaultRule(parsing: "steer-fail@2").kind == .steerFail)
        #expect(FaultKind.steerFail.countsSteers)
        for bad in ["hold-after-first-delta:0@1", "hold-after-created:x@1", "hold@1", "steer-fail"] {
            #expect(throws: SimulatorConfigError.self) { try FaultRule(parsing: bad) }
        }
        #expect(SteeringSupport.auto.supports(model: "gpt-6-astra"))
        #expect(!SteeringSupport.auto.supports(model: "gpt-5.6"))
        #expect(SteeringSupport.all.supports(model: "gpt-5.6"))
        #expect(!SteeringSupport.none.supports(model: "gpt-6"))
    }

    // MARK: automatic continuation (§5.6)

    @Test func acceptedSteerEndsTheOriginalSteeredAndTheSuccessorSeesTheInput() async throws {
        try await withSimulator(faults("hold-after-first-delta@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.send(createEvent(["model": "gpt-6", "input": "Plan the project", "store": false,
                                 "instructions": "Be brief.", "metadata": ["k": "v"]]))
            let head = try await ws.events(through: "response.output_text.delta")
            #expect(head.types == ["response.created", "response.in_progress", "response.output_item.added",
                                   "response.content_part.added", "response.output_text.delta"])
            let original = try #require(head[0]["response"]?["id"]?.stringValue)

            ws.send(steerEvent(original, "Use bullet points"))
            let accepted = try await ws.nextEvent()
            #expect(accepted["type"] == "response.steer.accepted")
            #expect(accepted["sequence_number"] == 5)  // inside the target's numbering (§4.6)
            let steerID = try #require(accepted["steer"]?["id"]?.stringValue)
            #expect(isSteerID(steerID))
            #expect(accepted["steer"]?["previous_response_id"]?.stringValue == original)
            #expect(accepted["stream_id"] == nil)

            // The current item is closed with the text streamed so far, then `incomplete`/steered.
            let rest = try await ws.eventsUntilTerminal()
            #expect(rest.types == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                                   "response.incomplete"])
            #expect(rest.map { $0["sequence_number"]?.intValue } == [6, 7, 8, 9])
            let streamed = head.deltas().joined()
            #expect(rest[0]["text"]?.stringValue == streamed)
            let ended = try #require(rest.terminal["response"])
            #expect(ended["status"] == "incomplete")
            #expect(ended["incomplete_details"]?["reason"] == "steered")
            #expect(ended.outputText == streamed)
            #expect(ended["usage"]?["output_tokens"] == 1)

            // The successor follows on its own, numbered from 0, with the original's settings.
            let successor = try await ws.eventsUntilTerminal()
            #expect(successor.first?["type"] == "response.created")
            #expect(successor.map { $0["sequence_number"]?.intValue } == Array(0..<successor.count))
            let created = try #require(successor.first?["response"])
            #expect(created["previous_response_id"]?.stringValue == original)
            #expect(created["id"]?.stringValue != original)
            #expect(created["model"] == "gpt-6")
            #expect(created["instructions"] == "Be brief.")
            #expect(created["metadata"] == ["k": "v"])
            #expect(successor.terminal["type"] == "response.completed")
            #expect(successor.deltas().joined().hasPrefix("Steered: \"Use bullet points\"."))
            #expect(steerCounts(sim) == [1, 1, 0, 0, 1])

            // §5.2: the successor is now the lane's latest response; the store:false original is gone.
            let next = try await ws.create(["model": "gpt-6", "input": "and then?", "store": false,
                                            "previous_response_id": created["id"] ?? nil])
            #expect(next.terminal["type"] == "response.completed")
            #expect(sim.connectionStats().first?.cacheHits == 1)
            let stale = try await ws.create(["model": "gpt-6", "input": "back", "store": false,
                                             "previous_response_id": .string(original)])
            #expect(stale.terminal["error"]?["code"] == "previous_response_not_found")
            await ws.close()
        }
    }

    @Test func severalSteersGoIntoOneSuccessorInOrder() async throws {
        try await withSimulator(faults("hold-after-first-delta:3@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let (_, original) = try await ws.startResponse(
                ["model": "gpt-6", "input": "Write a plan", "store": false, "stream_id": "main"],
                through: "response.output_text.delta")
            for text in ["one", "two", "three"] { ws.send(steerEvent(original, .string(text))) }
            var ids: Set<String> = []
            for expected in 5...7 {
                let accepted = try await ws.nextEvent()
                #expect(accepted["type"] == "response.steer.accepted")
                #expect(accepted["sequence_number"]?.intValue == expected)
                #expect(accepted["stream_id"] == "main")
                ids.insert(accepted["steer"]?["id"]?.stringValue ?? "")
            }
            #expect(ids.count == 3)
            let ended = try await ws.eventsUntilTerminal()
            #expect(ended.terminal["response"]?["incomplete_details"]?["reason"] == "steered")
            #expect(ended.allSatisfy { $0["stream_id"] == "main" })
            let successor = try await ws.eventsUntilTerminal()
            #expect(successor.allSatisfy { $0["stream_id"] == "main" })
            #expect(successor.terminal["response"]?.outputText.hasPrefix("Steered: \"one\" \"two\" \"three\".") == true)
            // Only one successor: the next event on the lane belongs to the next create.
            let next = try await ws.create(["model": "gpt-6", "input": "fresh", "store": false, "stream_id": "main"])
            #expect(next.first?["response"]?["previous_response_id"] == .null)
            #expect(steerCounts(sim) == [3, 3, 0, 0, 3])
            await ws.close()
        }
    }

    @Test func aSteerAfterTheOutputFinishedKeepsTheOriginalCompleted() async throws {
        try await withSimulator(faults("hold-after-output@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let (head, original) = try await ws.startResponse(
                ["model": "gpt-6", "input": "Short answer", "store": false],
                through: "response.output_item.done")
            ws.send(steerEvent(original, "Add a summary"))
            #expect(try await ws.nextEvent()["type"] == "response.steer.accepted")
            let terminal = try await ws.nextEvent()
            #expect(terminal["type"] == "response.completed")
            #expect(terminal["response"]?["incomplete_details"] == .null)
            #expect(terminal["response"]?.outputText == head.deltas().joined())
            let successor = try await ws.eventsUntilTerminal()
            #expect(successor.first?["response"]?["previous_response_id"]?.stringValue == original)
            #expect(successor.deltas().joined().hasPrefix("Steered: \"Add a summary\"."))
            #expect(steerCounts(sim) == [1, 1, 0, 0, 1])
            await ws.close()
        }
    }

    // MARK: required input (§5.6)

    @Test func aSteerOnAFunctionCallWaitsForTheToolResultThenIsPrepended() async throws {
        try await withSimulator(faults("hold-after-first-delta@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let (_, target) = try await ws.startResponse(
                ["model": "gpt-6", "input": "Weather in Paris?", "tools": [Self.weather], "store": false, "stream_id": "agent"],
                through: "response.function_call_arguments.delta")
            ws.send(steerEvent(target, "Also give tomorrow"))
            let accepted = try await ws.nextEvent()
            #expect(accepted["type"] == "response.steer.accepted")
            #expect(accepted["stream_id"] == "agent")

            // Not applied automatically: the call completes as planned.
            let rest = try await ws.eventsUntilTerminal()
            #expect(rest.terminal["type"] == "response.completed")
            let call = try #require(rest.terminal["response"]?["output"]?.arrayValue?.first)
            #expect(call["type"] == "function_call")
            let callID = try #require(call["call_id"]?.stringValue)
            let terminalSequence = try #require(rest.terminal["sequence_number"]?.intValue)

            let pending = try await ws.nextEvent()
            #expect(pending["type"] == "response.steer.pending")
            #expect(pending["sequence_number"]?.intValue == terminalSequence + 1)
            #expect(pending["steer"]?["id"] == accepted["steer"]?["id"])
            #expect(pending["steer"]?["previous_response_id"]?.stringValue == target)
            #expect(pending["reason"] == "waiting_for_required_input")
            #expect(pending["required_input"] == [["type": "function_call_output", "call_id": .string(callID), "name": "get_weather"]])
            #expect(pending["stream_id"] == "agent")

            // A steer after the target completed is still taken while it waits: accepted, then pending.
            ws.send(steerEvent(target, [["role": "user", "content": [["type": "input_text", "text": "In Celsius"]]]]))
            let second = try await ws.nextEvent()
            #expect(second["type"] == "response.steer.accepted")
            #expect(second["sequence_number"]?.intValue == terminalSequence + 2)
            let secondPending = try await ws.nextEvent()
            #expect(secondPending["type"] == "response.steer.pending")
            #expect(secondPending["steer"]?["id"] == second["steer"]?["id"])
            #expect(secondPending["sequence_number"]?.intValue == terminalSequence + 3)

            // The client's one continuation gets the queued input in front of its own.
            let followUp = try await ws.create([
                "model": "gpt-6", "stream_id": "agent", "previous_response_id": .string(target), "tools": [Self.weather],
                "store": false, "input": [["type": "function_call_output", "call_id": .string(callID), "output": "sunny"]],
            ])
            #expect(followUp.first?["response"]?["previous_response_id"]?.stringValue == target)
            #expect(followUp.terminal["type"] == "response.completed")
            #expect(followUp.deltas().joined().hasPrefix("Steered: \"Also give tomorrow\" \"In Celsius\". The get_weather tool returned: sunny."))
            #expect(steerCounts(sim) == [2, 2, 0, 2, 2])

            // Continued: now it is too late to steer it.
            ws.send(steerEvent(target, "late"))
            let late = try await ws.nextEvent()
            #expect(late["type"] == "response.steer.failed")
            #expect(late["error"]?["code"] == "response_already_completed")
            #expect(late["steer"]?["id"] == nil)
            #expect(late["steer"]?["input"] == "late")
            #expect(late["stream_id"] == "agent")
            await ws.close()
        }
    }

    @Test func aFifthQueuedSteerIsTooMany() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let call = try await ws.create(["model": "gpt-6", "input": "Weather?", "tools": [Self.weather], "store": false,
                                            "stream_id": "agent"])
            let target = try #require(call.terminal["response"]?["id"]?.stringValue)
            for i in 1...5 { ws.send(steerEvent(target, .string("s\(i)"))) }
            for _ in 1...SteerBook.maxQueuedPerResponse {
                #expect(try await ws.nextEvent()["type"] == "response.steer.accepted")
                #expect(try await ws.nextEvent()["type"] == "response.steer.pending")
            }
            let refused = try await ws.nextEvent()
            #expect(refused["type"] == "response.steer.failed")
            #expect(refused["error"]?["type"] == "invalid_request_error")
            #expect(refused["error"]?["code"] == "too_many_pending_steers")
            #expect(refused["steer"]?["id"] == nil)
            #expect(refused["steer"]?["previous_response_id"]?.stringValue == target)
            #expect(refused["steer"]?["input"] == "s5")
            #expect(refused["stream_id"] == "agent")
            // An invalid steer naming a known target also carries that target's lane.
            ws.send(["type": "response.steer", "previous_response_id": .string(target), "input": "x", "stream_id": "agent"])
            let invalid = try await ws.nextEvent()
            #expect(invalid["error"]?["code"] == "invalid_input")
            #expect(invalid["stream_id"] == "agent")
            #expect(steerCounts(sim) == [6, 4, 2, 4, 0])
            await ws.close()
        }
    }

    @Test func aRunningResponseAlsoTakesAtMostFourQueuedSteers() async throws {
        try await withSimulator(faults("hold-after-first-delta:5@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let (_, original) = try await ws.startResponse(
                ["model": "gpt-6", "input": "Go on", "store": false],
                through: "response.output_text.delta")
            for i in 1...5 { ws.send(steerEvent(original, .string("s\(i)"))) }
            for _ in 1...4 { #expect(try await ws.nextEvent()["type"] == "response.steer.accepted") }
            let refused = try await ws.nextEvent()
            #expect(refused["error"]?["code"] == "too_many_pending_steers")
            #expect(refused["steer"]?["input"] == "s5")
            #expect(try await ws.eventsUntilTerminal().terminal["type"] == "response.incomplete")
            let successor = try await ws.eventsUntilTerminal()
            #expect(successor.deltas().joined().hasPrefix("Steered: \"s1\" \"s2\" \"s3\" \"s4\"."))
            #expect(steerCounts(sim) == [5, 4, 1, 0, 4])
            await ws.close()
        }
    }

    // MARK: failures (§4.6)

    static let invalidSteers: [JSONValue] = [
        ["type": "response.steer", "previous_response_id": "resp_x", "input": "hi", "stream_id": "main"],
        ["type": "response.steer", "previous_response_id": "resp_x", "input": "hi", "metadata": [:]],
        ["type": "response.steer", "previous_response_id": "resp_x"],
        ["type": "response.steer", "input": "hi"],
        ["type": "response.steer", "previous_response_id": "resp_x", "input": []],
        ["type": "response.steer", "previous_response_id": "resp_x", "input": 42],
        ["type": "response.steer", "previous_response_id": "resp_x", "input": [["role": "assistant", "content": "x"]]],
        ["type": "response.steer", "previous_response_id": "resp_x", "input": [["role": "developer", "content": "x"]]],
        ["type": "response.steer", "previous_response_id": "resp_x",
         "input": [["type": "function_call_output", "call_id": "call_1", "output": "x"]]],
        ["type": "response.steer", "previous_response_id": "resp_x", "input": [["id": "msg_1", "role": "user", "content": "x"]]],
        ["type": "response.steer", "previous_response_id": "resp_x", "input": [["role": "user", "content": "x", "status": "completed"]]],
        ["type": "response.steer", "previous_response_id": "resp_x", "input": [["role": "user", "content": [["type": "output_text", "text": "x"]]]]],
        ["type": "response.steer", "previous_response_id": "resp_x", "input": [["role": "user", "content": 7]]],
    ]

    @Test func invalidSteersAreRefusedWithoutAnID() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            for steer in Self.invalidSteers {
                ws.send(steer)
                let failed = try await ws.nextEvent()
                #expect(failed["type"] == "response.steer.failed", "\(steer)")
                #expect(failed["error"]?["code"] == "invalid_input", "\(steer)")
                #expect(failed["error"]?["type"] == "invalid_request_error")
                #expect(failed["steer"]?["id"] == nil)
                #expect(failed["steer"]?["input"] == (steer["input"] ?? .null), "\(steer)")
            }
            // A well-formed steer passes validation (and then finds no such response).
            let valid: JSONValue = [["type": "message", "role": "user", "content": [
                ["type": "input_text", "text": "ok"], ["type": "input_image", "image_url": "data:image/png;base64,AA=="]]]]
            ws.send(steerEvent("resp_x", valid))
            let notFound = try await ws.nextEvent()
            #expect(notFound["error"]?["code"] == "response_not_found")
            #expect(notFound["sequence_number"] == 0)
            #expect(notFound["stream_id"] == nil)
            #expect(notFound["steer"]?["input"] == valid)
            let count = Self.invalidSteers.count + 1
            #expect(steerCounts(sim) == [count, 0, count, 0, 0])
            // The socket stays usable.
            #expect(try await ws.create(["input": "still here"]).terminal["type"] == "response.completed")
            await ws.close()
        }
    }

    @Test(arguments: [
        (SteeringSupport.auto, "gpt-6", true), (.auto, "gpt-6-astra", true), (.auto, "gpt-5.6", false),
        (.auto, "gpt-sim", false), (.all, "gpt-5.6", true), (.none, "gpt-6", false),
    ])
    func whichModelsSteer(_ steering: SteeringSupport, _ model: String, _ steers: Bool) async throws {
        try await withSimulator(faults("hold-after-first-delta@1", steering: steering)) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let (_, target) = try await ws.startResponse(
                ["model": .string(model), "input": "Go", "store": false, "stream_id": "lane-1"],
                through: "response.output_text.delta")
            ws.send(steerEvent(target, "Turn left"))
            let reply = try await ws.nextEvent()
            #expect(reply["stream_id"] == "lane-1")
            #expect(reply["sequence_number"] == 5)
            if steers {
                #expect(reply["type"] == "response.steer.accepted")
                #expect(try await ws.eventsUntilTerminal().terminal["type"] == "response.incomplete")
                #expect(try await ws.eventsUntilTerminal().terminal["type"] == "response.completed")  // the successor
            } else {
                #expect(reply["type"] == "response.steer.failed")
                #expect(reply["error"]?["code"] == "steering_not_supported")
                #expect(reply["steer"]?["input"] == "Turn left")
                let rest = try await ws.eventsUntilTerminal()
                #expect(rest.terminal["type"] == "response.completed")
                #expect(rest.first?["sequence_number"] == 6)
            }
            await ws.close()
        }
    }

    @Test func aResponseThatHasNotStartedIsNotActive() async throws {
        try await withSimulator(faults("hold-after-created@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.send(createEvent(["model": "gpt-6", "input": "Go", "store": false]))
            let created = try await ws.nextEvent()
            #expect(created["type"] == "response.created")
            let target = try #require(created["response"]?["id"]?.stringValue)
            ws.send(steerEvent(target, "Wait"))
            let refused = try await ws.nextEvent()
            #expect(refused["type"] == "response.steer.failed")
            #expect(refused["error"]?["code"] == "response_not_active")
            #expect(refused["sequence_number"] == 1)
            // That frame released the hold: the response runs to its end, unsteered.
            let rest = try await ws.eventsUntilTerminal()
            #expect(rest.first?["type"] == "response.in_progress")
            #expect(rest.first?["sequence_number"] == 2)
            #expect(rest.terminal["type"] == "response.completed")
            #expect(steerCounts(sim) == [1, 0, 1, 0, 0])
            await ws.close()
        }
    }

    @Test func aFinishedTextResponseIsAlreadyCompleted() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let events = try await ws.create(["model": "gpt-6", "input": "Done", "store": false, "stream_id": "s"])
            let target = try #require(events.terminal["response"]?["id"]?.stringValue)
            ws.send(steerEvent(target, "Too late"))
            let refused = try await ws.nextEvent()
            #expect(refused["error"]?["code"] == "response_already_completed")
            #expect(refused["sequence_number"]?.intValue == events.count)  // after the terminal event
            #expect(refused["stream_id"] == "s")
            #expect(refused["steer"]?["previous_response_id"]?.stringValue == target)
            await ws.close()
        }
    }

    @Test func anInjectedSuccessorFailureFailsTheAcceptedSteer() async throws {
        try await withSimulator(faults("hold-after-first-delta@1", "steer-fail@1")) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let (_, target) = try await ws.startResponse(
                ["model": "gpt-6", "input": "Go", "store": false, "stream_id": "s"],
                through: "response.output_text.delta")
            ws.send(steerEvent(target, "Change course"))
            let accepted = try await ws.nextEvent()
            #expect(accepted["type"] == "response.steer.accepted")
            let ended = try await ws.eventsUntilTerminal()
            #expect(ended.terminal["response"]?["incomplete_details"]?["reason"] == "steered")
            let failed = try await ws.nextEvent()
            #expect(failed["type"] == "response.steer.failed")
            #expect(failed["error"]?["code"] == "successor_creation_failed")
            #expect(failed["steer"]?["id"] == accepted["steer"]?["id"])  // the same steer, after acceptance
            #expect(failed["steer"]?["input"] == "Change course")
            #expect(failed["stream_id"] == "s")
            #expect(failed["sequence_number"]?.intValue == (ended.terminal["sequence_number"]?.intValue ?? -1) + 1)
            // No successor: the lane is free for the client's own create.
            let next = try await ws.create(["model": "gpt-6", "input": "Change course", "store": false, "stream_id": "s"])
            #expect(next.first?["response"]?["previous_response_id"] == .null)
            #expect(steerCounts(sim) == [1, 1, 1, 0, 0])
            #expect(sim.stats().faultsInjected == 2)
            await ws.close()
        }
    }

    // MARK: lifetime and stats

    @Test func closingTheConnectionDropsQueuedSteers() async throws {
        try await withSimulator { sim in
            let a = try await TestWebSocket.connect(port: sim.port)
            let call = try await a.create(["model": "gpt-6", "input": "Weather?", "tools": [Self.weather]])  // store:true
            let response = try #require(call.terminal["response"])
            let target = try #require(response["id"]?.stringValue)
            let callID = try #require(response["output"]?.arrayValue?.first?["call_id"])
            a.send(steerEvent(target, "Queued then lost"))
            #expect(try await a.nextEvent()["type"] == "response.steer.accepted")
            #expect(try await a.nextEvent()["type"] == "response.steer.pending")
            await a.close()

            let b = try await TestWebSocket.connect(port: sim.port)
            b.send(steerEvent(target, "Here?"))
            #expect(try await b.nextEvent()["error"]?["code"] == "response_not_found")
            let followUp = try await b.create([
                "model": "gpt-6", "previous_response_id": .string(target), "tools": [Self.weather],
                "input": [["type": "function_call_output", "call_id": callID, "output": "rain"]],
            ])
            #expect(followUp.terminal["type"] == "response.completed")
            #expect(!followUp.deltas().joined().contains("Steered"))
            #expect(steerCounts(sim) == [2, 1, 1, 1, 0])
            await b.close()
        }
    }

    @Test func steerCountersAreInTheStatsLine() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.send(steerEvent("resp_nope", "x"))
            _ = try await ws.nextEvent()
            let json = sim.stats().json
            for key in ["steers_received", "steers_accepted", "steers_failed", "steers_pending", "steers_committed"] {
                #expect(json.contains("\"\(key)\":"))
            }
            #expect(json.contains("\"steers_received\":1"))
            await ws.close()
        }
    }
}

/// `{"type":"response.steer","previous_response_id":…,"input":…}`
func steerEvent(_ target: String, _ input: JSONValue) -> JSONValue {
    ["type": "response.steer", "previous_response_id": .string(target), "input": input]
}

/// §4.6: "steer_" + 32 lowercase hex digits.
func isSteerID(_ id: String) -> Bool {
    guard id.hasPrefix("steer_") else { return false }
    let hex = id.dropFirst(6)
    return hex.count == 32 && hex.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
}

extension TestWebSocket {
    /// Sends a create and reads its events up to the first one of `type` (where a hold fault
    /// keeps the response running): those events and the response's id, the steer target.
    func startResponse(_ body: JSONValue, through type: String) async throws -> (events: [JSONValue], id: String) {
        send(createEvent(body))
        let events = try await events(through: type)
        return (events, try #require(events.first?["response"]?["id"]?.stringValue))
    }

    /// Events up to and including the first one of `type`.
    func events(through type: String) async throws -> [JSONValue] {
        var events: [JSONValue] = []
        while true {
            let event = try await nextEvent()
            events.append(event)
            if event["type"]?.stringValue == type { return events }
        }
    }
}
