#if canImport(Glibc)
import Glibc
#endif
import ResponsesJSON
import ResponsesWSCore

/// The agent loop that `rws loop` and `rws demo` run: each model function call is executed by a
/// local tool and answered with a function_call_output item; each text answer is followed by a
/// new user message. Every turn passes only its new items; the session chains them.
struct AgentLoop {
    let client: ResponsesClient
    var model = "gpt-5.6"
    var turns = 20
    var pauseMs = 0
    var instructions = AgentLoop.defaultInstructions

    struct TurnReport {
        var number: Int
        var status: Status
        var message: String
        var milliseconds: Double
        var kind: String           // "tool_call" or "text"
        var bytesSent: UInt64
        var flags: TurnFlags
        /// The transport that carried the turn (HTTP after a fallback, even on a ws client).
        var transport: Transport

        var json: JSONValue {
            var o = JSONObject()
            o["type"] = "turn"
            o["turn"] = .int(number)
            o["status"] = .string(status == .ok ? "ok" : "\(status)")
            if status != .ok { o["message"] = .string(message) }
            o["kind"] = .string(kind)
            o["transport"] = .string(transport.name)
            o["ms"] = .double(rounded(milliseconds))
            o["bytes_sent"] = .int(Int(bytesSent))
            o["flags"] = .array(flags.names.map { .string($0) })
            return .object(o)
        }
    }

    struct Summary {
        var turns = 0
        var ok = 0
        var latenciesMs: [Double] = []
        var totalMs = 0.0
        var counters = Counters.Snapshot()
        var clientCPUMs = 0.0
        /// The transport the client was asked for, and how many turns each one carried.
        var transport = Transport.webSocket
        var turnsOverWebSocket = 0
        var turnsOverHTTP = 0

        /// "ws" or "http" when every turn used it, else "mixed".
        var transportUsed: String {
            if turnsOverHTTP == 0 { return turnsOverWebSocket == 0 ? transport.name : "ws" }
            return turnsOverWebSocket == 0 ? "http" : "mixed"
        }

        var json: JSONValue {
            var o = JSONObject()
            o["turns"] = .int(turns)
            o["ok"] = .int(ok)
            o["type"] = "summary"
            o["transport_requested"] = .string(transport.name)
            o["transport"] = .string(transportUsed)
            o["turns_over_ws"] = .int(turnsOverWebSocket)
            o["turns_over_http"] = .int(turnsOverHTTP)
            o["bytes_sent"] = .int(Int(counters.bytesSent))
            o["bytes_received"] = .int(Int(counters.bytesReceived))
            o["p50_turn_ms"] = .double(rounded(percentile(latenciesMs, 0.5)))
            o["p95_turn_ms"] = .double(rounded(percentile(latenciesMs, 0.95)))
            o["total_ms"] = .double(rounded(totalMs))
            o["client_cpu_ms"] = .double(rounded(clientCPUMs))
            o["connects"] = .int(Int(counters.connects))
            o["reconnects"] = .int(Int(counters.reconnects))
            o["incremental_sends"] = .int(Int(counters.incrementalSends))
            o["full_resends"] = .int(Int(counters.fullResends))
            o["fallbacks"] = .int(Int(counters.fallbacks))
            o["rotations"] = .int(Int(counters.rotations))
            o["unknown_outcomes"] = .int(Int(counters.unknownOutcomes))
            return .object(o)
        }
    }

    /// A coding-agent style system prompt: the kind of context every HTTP turn resends.
    static let defaultInstructions = """
        You are a careful coding agent working in a large repository. Read files before you change \
        them, run the tests after every change, keep diffs small, explain what you did in two \
        sentences. Use read_file to read a file and run_tests to run the test suite.
        """ + String(repeating: " Repository conventions: Swift 6, strict concurrency, no force unwraps, one job per file.", count: 40)

    static let tools: JSONValue = [
        ["type": "function", "name": "read_file", "description": "Read a file of the repository",
         "parameters": ["type": "object", "properties": ["path": ["type": "string"]], "required": ["path"]]],
        ["type": "function", "name": "run_tests", "description": "Run the test suite",
         "parameters": ["type": "object", "properties": [:] as JSONValue]],
    ]

    func run(onTurn: (TurnReport) -> Void) throws -> Summary {
        let defaults: JSONValue = [
            "model": .string(model), "store": false, "instructions": .string(instructions), "tools": AgentLoop.tools,
        ]
        let session = try client.makeSession(defaults: defaults.objectValue!)
        defer { try? session.close() }
        var summary = Summary()
        summary.transport = client.transport
        var next: JSONValue = ["input": "Read Sources/main.swift and tell me what it does."]
        let cpuBefore = threadCPUNanos() + threadCPUNanos(of: client.loop)
        let start = nowNanos()
        for number in 1..<(max(turns, 0) + 1) {   // turns >= 1 is checked by the commands
            let turnStart = nowNanos()
            let body = next.serialized
            let request = try body.withUnsafeBytes { try session.prepare($0) }
            let turn = try session.start(request, handler: { _ in true })
            let result = turn.wait(timeoutMs: -1) ?? TurnResult(status: .internal)
            let ms = Double(nowNanos() - turnStart) / 1e6
            summary.turns += 1
            summary.latenciesMs.append(ms)
            if result.transport == .http { summary.turnsOverHTTP += 1 } else { summary.turnsOverWebSocket += 1 }
            var report = TurnReport(number: number, status: result.status, message: result.message, milliseconds: ms,
                                    kind: "text", bytesSent: result.bytesSent, flags: result.flags, transport: result.transport)
            if result.status == .ok {
                summary.ok += 1
                if let call = AgentLoop.functionCall(in: result.response.outputItems) {
                    report.kind = "tool_call"
                    let output = LocalTools.run(name: call.name, arguments: call.arguments)
                    next = ["input": [["type": "function_call_output", "call_id": .string(call.callID), "output": .string(output)]]]
                } else {
                    next = ["input": .string("Good. Next step \(number): check the tests again.")]
                }
            } else {
                // Start over on a fresh chain, as an agent would after a failed turn.
                next = ["input": "Let's start again: read Sources/main.swift.", "previous_response_id": .null]
            }
            onTurn(report)
            if pauseMs > 0 { usleep(UInt32(pauseMs) * 1000) }
        }
        summary.totalMs = Double(nowNanos() - start) / 1e6
        summary.clientCPUMs = Double(threadCPUNanos() + threadCPUNanos(of: client.loop) - cpuBefore) / 1e6
        summary.counters = session.counters.snapshot
        return summary
    }

    struct FunctionCall { var callID: String; var name: String; var arguments: String }

    static func functionCall(in items: [[UInt8]]) -> FunctionCall? {
        for raw in items {
            guard let item = try? JSONValue.parse(raw), item["type"] == "function_call",
                  let callID = item["call_id"]?.stringValue, let name = item["name"]?.stringValue else { continue }
            return FunctionCall(callID: callID, name: name, arguments: item["arguments"]?.stringValue ?? "{}")
        }
        return nil
    }
}

extension Transport {
    /// The name the CLI prints: "ws" or "http".
    var name: String { self == .http ? "http" : "ws" }
}

extension TurnFlags {
    /// The flags as words, in bit order.
    var names: [String] {
        var names: [String] = []
        if contains(.incremental) { names.append("incremental") }
        if contains(.fullResend) { names.append("full_resend") }
        if contains(.reconnected) { names.append("reconnected") }
        if contains(.fallback) { names.append("fallback") }
        if contains(.rotated) { names.append("rotated") }
        return names
    }
}

/// The loop's local tools: deterministic, so runs are comparable.
enum LocalTools {
    static func run(name: String, arguments: String) -> String {
        switch name {
        case "read_file":
            let path = (try? JSONValue.parse(arguments))?["path"]?.stringValue ?? "unknown"
            var text = "// \(path)\n"
            for i in 1...40 { text += "func step\(i)() -> Int { return \(i) * 2 }  // helper number \(i)\n" }
            return text
        case "run_tests":
            return "Executed 128 tests, with 0 failures (0 unexpected) in 2.412 seconds"
        default:
            return "error: no tool named \(name)"
        }
    }
}
