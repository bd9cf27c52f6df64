import ArgumentParser
import ResponsesJSON
import ResponsesWSCore
import ResponsesWSSim

/// `rws demo`: the same 20-turn tool loop over WebSocket (this library) and over HTTP/SSE (the
/// full history every turn, as HTTP clients send it), side by side.
struct DemoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Compare a 20-turn tool loop over WebSocket mode and over HTTP/SSE.",
        discussion: """
            Stdout gets the comparison table (--json: one JSON document instead); notes go to stderr. \
            Exit status 1 when a turn failed. Without an API key and a base URL both loops run against a simulator started in this \
            process. Its server-side cost is SIMULATED: --cost-us-per-input-kb microseconds per KiB of \
            input the server must process (the whole history over HTTP and on cache misses, only the \
            new items on a WebSocket cache hit). It is a model that shows what the server cache saves, \
            not a measurement of OpenAI's servers.
            """)

    @OptionGroup var target: TargetOptions

    @Option(help: "Turns per loop.")
    var turns = 20

    @Option(help: "The model.")
    var model = "gpt-5.6"

    @Option(help: "Embedded simulator: SIMULATED server cost in microseconds per KiB of input processed.")
    var costUsPerInputKb = 1000

    @Option(help: "Embedded simulator: tokens per second of the fake model.")
    var tokensPerSecond = 1000

    @Flag(help: "Print one JSON document with both summaries instead of the table.")
    var json = false

    func validate() throws {
        try require(turns >= 1, "--turns must be at least 1 (got \(turns))")
        try require(costUsPerInputKb >= 0, "--cost-us-per-input-kb must be 0 or more (got \(costUsPerInputKb))")
        try require(tokensPerSecond >= 0, "--tokens-per-second must be 0 (as fast as possible) or more (got \(tokensPerSecond))")
    }

    func run() async throws {
        var sim = SimulatorConfig()
        sim.costMicrosecondsPerInputKiB = costUsPerInputKb
        sim.tokensPerSecond = tokensPerSecond
        let target = try await Target.resolve(self.target, command: "demo", simulator: sim)
        StandardError.print("rws demo: the same \(turns)-turn tool loop over WebSocket mode, then over HTTP/SSE")
        if target.simulator != nil {
            StandardError.print("rws demo: server cost is SIMULATED at \(costUsPerInputKb) us per KiB of input processed (a model, not a measurement)")
        }
        let progress = Progress()
        let ws: AgentLoop.Summary, http: AgentLoop.Summary
        do {
            ws = try loop(target: target, transport: .webSocket, progress: progress)
            http = try loop(target: target, transport: .http, progress: progress)
        } catch {
            progress.finish()
            await target.stop()
            throw error
        }
        progress.finish()
        await target.stop()
        if json {
            printLine((["websocket": ws.json, "http": http.json, "simulated_cost_us_per_input_kb": target.simulator != nil ? .int(costUsPerInputKb) : .null] as JSONValue).serializedString)
        } else {
            printTable(ws: ws, http: http)
        }
        if ws.ok != ws.turns || http.ok != http.turns { throw ExitCode(ExitStatus.turnFailed) }
    }

    private func loop(target: Target, transport: Transport, progress: Progress) throws -> AgentLoop.Summary {
        let client = try ResponsesClient(target.clientConfig(transport: transport))
        defer { try? client.shutdown() }
        let name = transport == .http ? "HTTP/SSE" : "WebSocket"
        return try AgentLoop(client: client, model: model, turns: turns).run { report in
            progress.show("rws demo: \(name) turn \(report.number)/\(turns)")
            if report.status != .ok { progress.finish(); StandardError.print("rws demo: \(name) turn \(report.number) failed: \(report.message)") }
        }
    }

    private func printTable(ws: AgentLoop.Summary, http: AgentLoop.Summary) {
        func row(_ name: String, _ a: String, _ b: String, _ note: String = "") {
            printLine(name.padding(18) + a.padding(16, left: true) + b.padding(16, left: true) + "  " + note)
        }
        func ms(_ x: Double) -> String { "\(rounded(x, 1)) ms" }
        func kb(_ x: UInt64) -> String { "\(rounded(Double(x) / 1024, 1)) KiB" }
        func ratio(_ a: Double, _ b: Double) -> String {
            guard b > 0 else { return "" }
            let percent = Int(((1 - a / b) * 100).rounded())
            return percent >= 0 ? "WebSocket \(percent)% lower" : "WebSocket \(-percent)% higher"
        }
        printLine("")
        row("", "WebSocket", "HTTP/SSE")
        row("turns ok", "\(ws.ok)/\(ws.turns)", "\(http.ok)/\(http.turns)")
        let (wsP50, httpP50) = (percentile(ws.latenciesMs, 0.5), percentile(http.latenciesMs, 0.5))
        let (wsP95, httpP95) = (percentile(ws.latenciesMs, 0.95), percentile(http.latenciesMs, 0.95))
        row("turn p50", ms(wsP50), ms(httpP50), ratio(wsP50, httpP50))
        row("turn p95", ms(wsP95), ms(httpP95), ratio(wsP95, httpP95))
        row("total time", ms(ws.totalMs), ms(http.totalMs), ratio(ws.totalMs, http.totalMs))
        row("bytes sent", kb(ws.counters.bytesSent), kb(http.counters.bytesSent), ratio(Double(ws.counters.bytesSent), Double(http.counters.bytesSent)))
        row("client CPU", ms(ws.clientCPUMs), ms(http.clientCPUMs), ratio(ws.clientCPUMs, http.clientCPUMs))
        row("connections", "\(ws.counters.connects)", "\(http.turns) requests")
        row("transport used", "\(ws.transportUsed)", "\(http.transportUsed)",
            ws.turnsOverHTTP > 0 ? "\(ws.turnsOverHTTP) WebSocket-mode turns fell back to HTTP" : "")
        printLine("")
    }
}

extension String {
    func padding(_ width: Int, left: Bool = false) -> String {
        let pad = String(repeating: " ", count: max(0, width - count))
        return left ? pad + self : self + pad
    }
}
