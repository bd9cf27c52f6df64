import ArgumentParser
import ResponsesJSON
import ResponsesWSCore
import ResponsesWSSim

/// `rws loop`: an agent loop with a local tool. Stdout: a line per turn and a summary line, or
/// with --json only JSON lines (one per turn, then the summary). Notes go to stderr.
struct LoopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loop",
        abstract: "Run an agent loop with a local tool: a line per turn and a summary (--json: JSON lines).",
        discussion: """
            Every model function call is executed locally and answered with function_call_output. \
            Without OPENAI_API_KEY and --base-url the loop runs against a simulator started in this \
            process; --sim-fault and the other --sim-* options configure it.
            """)

    @OptionGroup var target: TargetOptions

    @Option(help: "Number of turns.")
    var turns = 20

    @Option(help: "Transport: ws or http.")
    var transport: TransportChoice = .ws

    @Option(help: "The model.")
    var model = "gpt-5.6"

    @Option(help: "Retire connections at a turn boundary once this many seconds old (client side).")
    var maxConnectionAge: Double = 3300

    @Option(help: "Seconds before max-connection-age from which no turn starts on a connection.")
    var rotationMargin: Double = 60

    @Option(help: "Milliseconds to pause between turns (a slow agent).")
    var pauseMs = 0

    @Flag(help: "Stdout gets JSON lines only: {\"type\":\"turn\",...} per turn, then {\"type\":\"summary\",...}.")
    var json = false

    @Option(name: .customLong("sim-fault"), help: "Embedded simulator fault KIND@N (repeatable), e.g. evict@3.")
    var simFaults: [String] = []

    @Option(name: .customLong("sim-reject-upgrade"), help: "Embedded simulator: answer WebSocket upgrades with this HTTP status.")
    var simRejectUpgrade: Int?

    @Option(name: .customLong("sim-max-connection-age"), help: "Embedded simulator: connection lifetime in seconds.")
    var simMaxConnectionAge: Double?

    @Option(name: .customLong("sim-tokens-per-second"), help: "Embedded simulator: streaming speed (0: as fast as possible).")
    var simTokensPerSecond = 1000

    @Option(name: .customLong("sim-output-tokens"), help: "Embedded simulator: length of a text answer in tokens (one delta each).")
    var simOutputTokens: Int?

    @Option(name: .customLong("sim-cost-us-per-input-kb"), help: "Embedded simulator: SIMULATED server cost per KiB of input processed.")
    var simCost = 0

    func validate() throws {
        try require(turns >= 1, "--turns must be at least 1 (got \(turns))")
        try require(maxConnectionAge > 0, "--max-connection-age must be more than 0 seconds (got \(maxConnectionAge))")
        try require(maxConnectionAge <= 4_000_000, "--max-connection-age must be at most 4000000 seconds (got \(maxConnectionAge))")
        try require(rotationMargin >= 0 && rotationMargin < maxConnectionAge,
                    "--rotation-margin must be at least 0 and less than --max-connection-age (got \(rotationMargin))")
        try require(pauseMs >= 0 && pauseMs <= 3_600_000, "--pause-ms must be between 0 and 3600000 (got \(pauseMs))")
        try require(simTokensPerSecond >= 0, "--sim-tokens-per-second must be 0 (as fast as possible) or more (got \(simTokensPerSecond))")
        try require(simCost >= 0, "--sim-cost-us-per-input-kb must be 0 or more (got \(simCost))")
        if let status = simRejectUpgrade { try require((100...599).contains(status), "--sim-reject-upgrade must be an HTTP status, 100 to 599 (got \(status))") }
        if let age = simMaxConnectionAge { try require(age > 0, "--sim-max-connection-age must be more than 0 seconds (got \(age))") }
        _ = try simulatorConfig()
    }

    private func simulatorConfig() throws -> SimulatorConfig {
        var sim = SimulatorConfig()
        sim.tokensPerSecond = simTokensPerSecond
        sim.costMicrosecondsPerInputKiB = simCost
        if let simOutputTokens { sim.outputTokens = simOutputTokens }
        sim.rejectUpgradeStatus = simRejectUpgrade
        if let age = simMaxConnectionAge { sim.maxConnectionAge = age }
        do {
            sim.faults = try simFaults.map { text throws(SimulatorConfigError) in try FaultRule(parsing: text) }
        } catch {
            throw ValidationError("--sim-fault: \(error)")
        }
        return sim
    }

    func run() async throws {
        let target = try await Target.resolve(self.target, command: "loop", simulator: try simulatorConfig())
        var config = target.clientConfig(transport: transport.value)
        config.maxConnectionAgeMs = UInt32(maxConnectionAge * 1000)
        config.rotationMarginMs = UInt32(rotationMargin * 1000)
        let summary = try runLoop(config: config, label: target.label)
        // Bytes as they crossed the socket (frames, compressed or not), counted by the embedded simulator.
        let wire = target.simulator?.stats().totals
        await target.stop()
        if json {
            var object = summary.json
            if let wire, case .object(var fields) = object {
                fields["wire_bytes_to_server"] = .int(wire.wireBytesReceived)
                fields["wire_bytes_to_client"] = .int(wire.bytesSent)
                fields["compressed_messages"] = .int(wire.compressedMessagesReceived + wire.compressedMessagesSent)
                object = .object(fields)
            }
            printLine(object.serializedString)
        } else {
            printLine("\(summary.ok)/\(summary.turns) turns ok over \(summary.transportUsed): p50 \(rounded(percentile(summary.latenciesMs, 0.5))) ms, "
                + "p95 \(rounded(percentile(summary.latenciesMs, 0.95))) ms, sent \(summary.counters.bytesSent) B, "
                + "\(summary.counters.connects) connection(s), client CPU \(rounded(summary.clientCPUMs)) ms"
                + (wire.map { "; on the wire: \($0.wireBytesReceived) B to the server, \($0.bytesSent) B to the client"
                    + " (\($0.compressedMessagesReceived + $0.compressedMessagesSent) compressed messages)" } ?? ""))
        }
        if summary.ok != summary.turns { throw ExitCode(ExitStatus.turnFailed) }
    }

    private func runLoop(config: ClientConfig, label: String) throws -> AgentLoop.Summary {
        let client = try ResponsesClient(config)
        defer { try? client.shutdown() }
        StandardError.print("rws loop: \(turns) turns over \(transport.rawValue)")
        let progress = Progress(alsoWhenStdoutIsTerminal: false)
        defer { progress.finish() }
        return try AgentLoop(client: client, model: model, turns: turns, pauseMs: pauseMs).run { report in
            if json {
                progress.show("rws loop: turn \(report.number)/\(turns)")
                printLine(report.json.serializedString)
                return
            }
            let status = report.status == .ok ? "ok" : "error \(report.status): \(report.message)"
            let note = report.flags.isEmpty ? "" : " (\(report.flags.names.joined(separator: ", ")))"
            printLine("turn \(report.number): \(report.kind) \(rounded(report.milliseconds)) ms over \(report.transport.name), sent \(report.bytesSent) B\(note) \(status)")
        }
    }
}

enum TransportChoice: String, ExpressibleByArgument, CaseIterable {
    case ws, http
    var value: Transport { self == .ws ? .webSocket : .http }
}
