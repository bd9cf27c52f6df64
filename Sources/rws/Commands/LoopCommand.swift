import ArgumentParser
import ResponsesJSON
import ResponsesWSCore
import ResponsesWSSim

/// `rws loop`: an agent loop with a local tool; a line per turn, then a JSON summary line.
struct LoopCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loop",
        abstract: "Run an agent loop with a local tool and print a JSON summary.",
        discussion: """
            Every model function call is executed locally and answered with function_call_output. \
            Without OPENAI_API_KEY and --base-url the loop runs against a simulator started in this \
            process; --sim-fault and the other --sim-* options configure it.
            """)

    @Option(help: "API base URL (default: $OPENAI_BASE_URL or the embedded simulator).")
    var baseURL: String?

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

    @Option(name: .customLong("sim-fault"), help: "Embedded simulator fault KIND@N (repeatable), e.g. evict@3.")
    var simFaults: [String] = []

    @Option(name: .customLong("sim-reject-upgrade"), help: "Embedded simulator: answer WebSocket upgrades with this HTTP status.")
    var simRejectUpgrade: Int?

    @Option(name: .customLong("sim-max-connection-age"), help: "Embedded simulator: connection lifetime in seconds.")
    var simMaxConnectionAge: Double?

    @Option(name: .customLong("sim-tokens-per-second"), help: "Embedded simulator: streaming speed (0: as fast as possible).")
    var simTokensPerSecond = 1000

    @Option(name: .customLong("sim-cost-us-per-input-kb"), help: "Embedded simulator: SIMULATED server cost per KiB of input processed.")
    var simCost = 0

    func run() async throws {
        var sim = SimulatorConfig()
        sim.tokensPerSecond = simTokensPerSecond
        sim.costMicrosecondsPerInputKiB = simCost
        sim.rejectUpgradeStatus = simRejectUpgrade
        if let age = simMaxConnectionAge { sim.maxConnectionAge = age }
        do {
            sim.faults = try simFaults.map { text throws(SimulatorConfigError) in try FaultRule(parsing: text) }
        } catch {
            throw ValidationError("--sim-fault: \(error)")
        }
        let target = try await Target.resolve(baseURL: baseURL, simulator: sim)
        var config = ClientConfig()
        config.baseURL = target.baseURL
        if let key = target.apiKey { config.apiKey = key }
        config.transport = transport.value
        config.maxConnectionAgeMs = UInt32(max(0, maxConnectionAge * 1000))
        config.rotationMarginMs = UInt32(max(0, rotationMargin * 1000))
        let summary = try runLoop(config: config, label: target.label)
        await target.stop()
        printLine(summary.json.serializedString)
        if summary.ok != summary.turns { throw ExitCode(1) }
    }

    private func runLoop(config: ClientConfig, label: String) throws -> AgentLoop.Summary {
        let client = try ResponsesClient(config)
        defer { try? client.shutdown() }
        StandardError.print("rws loop: \(turns) turns over \(transport.rawValue) against \(label)")
        return try AgentLoop(client: client, model: model, turns: turns, pauseMs: pauseMs).run { report in
            let status = report.status == .ok ? "ok" : "error \(report.status): \(report.message)"
            var how: [String] = []
            if report.flags.contains(.incremental) { how.append("incremental") }
            if report.flags.contains(.fullResend) { how.append("full resend") }
            if report.flags.contains(.reconnected) { how.append("reconnected") }
            if report.flags.contains(.rotated) { how.append("rotated") }
            if report.flags.contains(.fallback) { how.append("HTTP fallback") }
            let note = how.isEmpty ? "" : " (\(how.joined(separator: ", ")))"
            printLine("turn \(report.number): \(report.kind) \(rounded(report.milliseconds)) ms, sent \(report.bytesSent) B\(note) \(status)")
        }
    }
}

enum TransportChoice: String, ExpressibleByArgument, CaseIterable {
    case ws, http
    var value: Transport { self == .ws ? .webSocket : .http }
}
