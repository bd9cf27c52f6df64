import NIOCore
import ResponsesJSON
import ResponsesWSSim
import Testing
@testable import ResponsesWSCore

private let gpt6 = (["model": "gpt-6", "store": false] as JSONValue).objectValue!
private let weather: JSONValue = [
    "type": "function", "name": "get_weather",
    "parameters": ["type": "object", "properties": ["city": ["type": "string"]]],
]

private func faults(_ rules: String...) -> (inout SimulatorConfig) -> Void {
    { config in config.faults = rules.map { try! FaultRule(parsing: $0) } }
}

private func start(_ session: Session, _ body: String) throws -> Turn {
    let request = try Array(body.utf8).withUnsafeBytes { try session.prepare($0) }
    return try session.start(request, handler: nil)
}

private func steerInput(_ json: String) throws -> SteerInput {
    try Array(json.utf8).withUnsafeBytes { try SteerInput.parse($0) }
}

/// Pulls events up to and including the first of `type`.
private func pull(_ turn: Turn, through type: EventType) -> [PendingEvent] {
    var events: [PendingEvent] = []
    while case .event(let e) = turn.nextEvent(timeoutMs: hangGuardMs) {
        events.append(e)
        if e.header.type == type { break }
    }
    return events
}

private func finish(_ turn: Turn) -> (TurnResult, [PendingEvent]) {
    var events: [PendingEvent] = []
    while case .event(let e) = turn.nextEvent(timeoutMs: hangGuardMs) { events.append(e) }
    return (turn.wait(timeoutMs: hangGuardMs) ?? TurnResult(status: .again), events)
}

/// The response's output text, from its final JSON.
private func text(of result: TurnResult) -> String {
    guard let response = try? JSONValue.parse(result.responseJSON), let output = response["output"]?.arrayValue else { return "" }
    return output.flatMap { $0["content"]?.arrayValue ?? [] }.compactMap { $0["text"]?.stringValue }.joined()
}

private func responseID(_ e: PendingEvent) -> String { String(decoding: e.responseID, as: UTF8.self) }

/// rws_turn_steer against the simulator's steering (PROTOCOL.md §3.2, §4.6, §5.6). The
/// hold-after-… faults keep the response running until the steer frame arrives.
@Suite(.serialized) struct SteerTurnTests {
    @Test func anAcceptedSteerEndsTheResponseAndTheTurnFollowsItsSuccessor() async throws {
        try await withSimulator(faults("hold-after-first-delta@1")) { sim, client in
            let session = try client.makeSession(defaults: gpt6)
            let turn = try start(session, #"{"input":"Write a long plan"}"#)
            let first = pull(turn, through: .outputTextDelta)
            let original = responseID(first.last!)
            let index = try session.steer(turn, steerInput(#""Keep it to two weeks""#))
            let (result, rest) = finish(turn)
            #expect(result.status == .ok, "\(result.message)")
            let types = rest.map(\.header.type)
            #expect(types.contains(.steerAccepted))
            #expect(types.contains(.responseIncomplete), "the original ends steered")
            let successor = result.response.id
            #expect(successor != original && !successor.isEmpty)
            #expect(try JSONValue.parse(result.responseJSON)["previous_response_id"] == .string(original))
            #expect(text(of: result).hasPrefix("Steered:"), "\(text(of: result))")
            #expect(rest.last.map(responseID) == successor)
            let status = try #require(turn.steerStatus(index))
            #expect(status.state == .committed && status.id?.hasPrefix("steer_") == true && status.target == original)
            #expect(session.lastResponse == successor, "the session's head is the successor")
            // The chain goes on from the successor, incrementally, with a transcript that holds
            // the steer input: input, output, steer message, successor output.
            let (next, _) = finish(try start(session, #"{"input":"thanks"}"#))
            let nextParent = try JSONValue.parse(next.responseJSON)["previous_response_id"]
            #expect(next.incremental && nextParent == .string(successor))
            let items = try client.runOnLoop { session.transcriptItems.count }
            #expect(items == 6)
            #expect(sim.stats().totals.steersCommitted == 1)
        }
    }

    @Test func aSteerStartedBeforeTheResponseExistsIsSentOnceItIsCreated() async throws {
        try await withSimulator(faults("hold-after-first-delta@1")) { sim, client in
            let session = try client.makeSession(defaults: gpt6)
            let turn = try start(session, #"{"input":"Plan the launch"}"#)
            let index = try session.steer(turn, steerInput(#"[{"role":"user","content":[{"type":"input_text","text":"in May"}]}]"#))
            let (result, _) = finish(turn)
            #expect(result.status == .ok, "\(result.message)")
            #expect(turn.steerStatus(index)?.state == .committed)
            #expect(text(of: result).contains("in May"))
            #expect(sim.stats().totals.steersReceived == 1)
        }
    }

    @Test func aSteerOnAFunctionCallIsPendingUntilTheNextTurnCarriesTheToolOutput() async throws {
        try await withSimulator(faults("hold-after-first-delta@1")) { sim, client in
            let session = try client.makeSession(defaults: gpt6)
            let body = JSONValue.object(JSONObject([("input", "Weather in Paris?"), ("tools", [weather])])).serializedString
            let turn = try start(session, body)
            _ = pull(turn, through: .functionCallArgumentsDelta)
            let index = try session.steer(turn, steerInput(#""Also give tomorrow""#))
            let (result, events) = finish(turn)
            #expect(result.status == .ok && result.response.status == "completed", "\(result.message)")
            #expect(events.last?.header.type == .steerPending, "the turn waits for the steer's answer")
            let status = try #require(turn.steerStatus(index))
            #expect(status.state == .pending)
            let stubs = try JSONValue.parse(status.requiredInput)
            let callID = try #require(stubs.arrayValue?.first?["call_id"]?.stringValue)
            #expect(stubs.arrayValue?.first?["name"] == "get_weather")
            let output = #"{"input":[{"type":"function_call_output","call_id":"\#(callID)","output":"sunny"}]}"#
            let (next, _) = finish(try start(session, output))
            #expect(next.status == .ok && text(of: next).hasPrefix("Steered:"), "\(text(of: next))")
            #expect(sim.stats().totals.steersCommitted == 1)
        }
    }

    @Test func aRefusedSteerHandsItsInputBackAndTheTurnGoesOn() async throws {
        // gpt-5.6 cannot steer: steering_not_supported.
        try await withSimulator(faults("hold-after-first-delta@1")) { _, client in
            let session = try client.makeSession(defaults: defaults)
            let turn = try start(session, #"{"input":"hello"}"#)
            _ = pull(turn, through: .outputTextDelta)
            let index = try session.steer(turn, steerInput(#""shorter""#))
            let (result, events) = finish(turn)
            #expect(result.status == .ok && result.response.status == "completed")
            #expect(events.contains { $0.header.type == .steerFailed })
            let status = try #require(turn.steerStatus(index))
            #expect(status.state == .failed && status.errorCode == "steering_not_supported")
            #expect(try JSONValue.parse(status.returnedInput) == .string("shorter"))
        }
    }

    @Test func badSteerInputIsRefusedBeforeAnythingIsSent() throws {
        for bad in [#"[]"#, #""""#, #"[{"role":"assistant","content":"x"}]"#, #"[{"type":"function_call_output","call_id":"c","output":"x"}]"#,
                    #"[{"role":"user","content":"x","id":"msg_1"}]"#, #"[{"role":"user","content":[{"type":"output_text","text":"x"}]}]"#,
                    #"{"input":"x"}"#, #"not json"#] {
            #expect(throws: RWSError.self, "\(bad)") { try steerInput(bad) }
        }
        let invalid = (try? steerInput(#"[{"role":"system","content":"x"}]"#)).map { _ in Status.ok }
        #expect(invalid == nil)
        #expect(throws: Never.self) { try steerInput(#"[{"type":"message","role":"user","content":"ok"}]"#) }
    }

    @Test func aSteerOfAnEndedTurnIsAnInvalidState() async throws {
        try await withSimulator { _, client in
            let session = try client.makeSession(defaults: gpt6)
            let turn = try start(session, #"{"input":"hi"}"#)
            _ = finish(turn)
            #expect(throws: RWSError.self) { try session.steer(turn, steerInput(#""late""#)) }
        }
    }
}

/// The steer ledger alone: acknowledgements, successors and ends, without a socket.
@Suite struct SteerLedgerTests {
    private func input(_ text: String) -> SteerInput {
        try! Array("\"\(text)\"".utf8).withUnsafeBytes { try SteerInput.parse($0) }
    }

    @Test func acknowledgementsMatchSteersInSendingOrder() {
        var ledger = SteerLedger()
        let a = ledger.add(input("a"))!, b = ledger.add(input("b"))!
        #expect(ledger.release(target: "resp_1").map(\.index) == [a, b])
        #expect(ledger.awaitingOutcome)
        ledger.failed(id: nil, code: "too_many_pending_steers", message: "full", input: [])   // no id: the oldest
        ledger.accepted(id: "steer_b")
        #expect(ledger.statuses[a].state == .failed && ledger.statuses[b].state == .accepted && ledger.statuses[b].id == "steer_b")
        let items = ledger.successorCreated()
        #expect(items.count == 1 && ledger.statuses[b].state == .committed)
        #expect(!ledger.awaitingOutcome)
    }

    @Test func pendingAndFailedWithAnIdFindTheirSteer() {
        var ledger = SteerLedger()
        _ = ledger.add(input("a")); _ = ledger.add(input("b"))
        _ = ledger.release(target: "resp_1")
        ledger.accepted(id: "steer_a"); ledger.accepted(id: "steer_b")
        ledger.pending(id: "steer_b", requiredInput: Array("[]".utf8))
        ledger.failed(id: "steer_a", code: "successor_creation_failed", message: "no", input: Array("\"a\"".utf8))
        #expect(ledger.statuses.map(\.state) == [.failed, .pending])
        #expect(!ledger.awaitingOutcome)
    }

    @Test func theEndOfTheTurnSettlesEverySteer() {
        var ledger = SteerLedger()
        _ = ledger.add(input("sent"))
        _ = ledger.release(target: "resp_1")
        _ = ledger.add(input("held"))
        ledger.turnEnded("a timeout")
        #expect(ledger.statuses.map(\.state) == [.lost, .failed])
        #expect(ledger.statuses[1].returnedInput == Array("\"held\"".utf8))
        #expect(ledger.add(input("late")) == nil)
        #expect(ledger.statuses.allSatisfy { $0.version > 0 })
    }
}
