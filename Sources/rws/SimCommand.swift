import ArgumentParser
import Dispatch
import ResponsesWSSim
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `rws sim`: the local Responses API simulator as a process. Prints `listening ws://HOST:PORT/v1`
/// as its first stdout line, serves until SIGINT/SIGTERM, then exits 0.
struct SimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the local Responses API simulator (WebSocket mode and HTTP/SSE on one port).",
        discussion: "See docs/SIMULATOR.md for the fake model, the lanes and cache rules, and the fault syntax."
    )

    @Option(help: "Interface to listen on.")
    var host = "127.0.0.1"

    @Option(help: "TCP port (0 = pick a free one; the first stdout line says which).")
    var port = 0

    @Option(name: .customLong("api-key"), help: "Accept only this bearer key (default: any non-empty key).")
    var apiKey: String?

    @Option(name: .customLong("tls-cert"), help: "Serve wss:// and https:// with this PEM certificate (needs --tls-key).")
    var tlsCert: String?

    @Option(name: .customLong("tls-key"), help: "The PEM private key of --tls-cert.")
    var tlsKey: String?

    @Option(name: .customLong("tls-client-ca"), help: "With TLS: require a client certificate issued by a CA in this PEM file (mTLS).")
    var tlsClientCA: String?

    @Flag(name: .customLong("no-deflate"), help: "Decline permessage-deflate (by default a client's offer is accepted, RFC 7692).")
    var noDeflate = false

    @Option(help: "Fake model pace in tokens per second (0 = as fast as the client reads).")
    var tokensPerSecond = 1000

    @Option(help: "Length of a text answer in tokens (word pieces of at most 4 bytes).")
    var outputTokens = 24

    @Option(help: "WebSocket connection lifetime in seconds; then websocket_connection_limit_reached and a close.")
    var maxConnectionAge: Double = 3600

    @Flag(help: "Also push the connection-limit error on an idle socket when it reaches its age.")
    var pushLimitWhenIdle = false

    @Option(help: "Close code sent after websocket_connection_limit_reached.")
    var limitCloseCode: UInt16 = 1000

    @Option(name: .customLong("fault"), help: ArgumentHelp(
        "Inject a fault into the N-th request (create frames and POSTs, counted server-wide from 1). Repeatable.",
        discussion: "KIND is drop-before-events, drop-mid-stream, close-1011, evict, limit, slow:MS, deflate-bomb, hold-after-created[:K], hold-after-first-delta[:K], hold-after-output[:K] or steer-fail (its N counts response.steer frames instead).",
        valueName: "KIND@N"))
    var faults: [String] = []

    @Option(name: .customLong("reject-upgrade"), help: ArgumentHelp(
        "Answer every WebSocket upgrade with this HTTP status (e.g. 426, 404); POST keeps working.", valueName: "STATUS"))
    var rejectUpgrade: Int?

    @Option(name: .customLong("cost-us-per-input-kb"), help: ArgumentHelp(
        "SIMULATED server cost: microseconds per KiB of input context processed (full history on HTTP and cache misses, new items on a cache hit). 0 = off.",
        valueName: "N"))
    var costUsPerInputKB = 0

    @Option(help: "Largest accepted WebSocket message or POST body, in bytes.")
    var maxMessageBytes = 64 << 20

    @Option(help: "Event-loop threads (default: one per core).")
    var threads: Int?

    @Option(help: "In-flight responses per connection; more creates are queued.")
    var maxInFlight = 16

    @Option(help: "Distinct named stream_id lanes per connection.")
    var maxLanes = 32

    @Flag(help: "Reject a create whose lane is busy instead of queueing it.")
    var rejectOverlapping = false

    @Option(help: ArgumentHelp(
        "Which models accept response.steer: auto (names starting with gpt-6), all, or none.", valueName: "auto|all|none"))
    var steering = "auto"

    @Flag(help: "Ignore unknown client event types instead of answering with an error event.")
    var ignoreUnknownEvents = false

    @Flag(help: "Require 'OpenAI-Beta: responses_websockets=...' on the upgrade.")
    var requireBetaHeader = false

    @Option(help: "Responses kept by the process-wide store:true store.")
    var storeCapacity = 100_000

    @Option(name: .customLong("request-id"), help: ArgumentHelp(
        "Send this x-request-id on every answer (default: a new req_... each time).", valueName: "ID"))
    var requestID: String?

    @Flag(help: "Print a one-line JSON summary of the counters on exit.")
    var stats = false

    func validate() throws {
        try require((0...65535).contains(port), "--port must be 0 (any free port) to 65535 (got \(port))")
        try require(tokensPerSecond >= 0, "--tokens-per-second must be 0 (as fast as the client reads) or more (got \(tokensPerSecond))")
        try require(outputTokens >= 1, "--output-tokens must be at least 1 (got \(outputTokens))")
        try require(maxConnectionAge > 0, "--max-connection-age must be more than 0 seconds (got \(maxConnectionAge))")
        try require(costUsPerInputKB >= 0, "--cost-us-per-input-kb must be 0 or more (got \(costUsPerInputKB))")
        try require(maxMessageBytes >= 1, "--max-message-bytes must be at least 1 (got \(maxMessageBytes))")
        if let threads { try require((1...256).contains(threads), "--threads must be 1 to 256 (got \(threads))") }
        try require(maxInFlight >= 1, "--max-in-flight must be at least 1 (got \(maxInFlight))")
        try require(maxLanes >= 1, "--max-lanes must be at least 1 (got \(maxLanes))")
        try require(storeCapacity >= 0, "--store-capacity must be 0 or more (got \(storeCapacity))")
        if let status = rejectUpgrade { try require((100...599).contains(status), "--reject-upgrade must be an HTTP status, 100 to 599 (got \(status))") }
        try require((tlsCert == nil) == (tlsKey == nil), "--tls-cert and --tls-key go together")
        try require(tlsClientCA == nil || tlsCert != nil, "--tls-client-ca needs --tls-cert and --tls-key (a TLS server)")
        _ = try makeConfig()
    }

    func makeConfig() throws -> SimulatorConfig {
        var config = SimulatorConfig()
        config.host = host
        config.port = port
        config.apiKey = apiKey
        config.tokensPerSecond = tokensPerSecond
        config.outputTokens = outputTokens
        config.maxConnectionAge = maxConnectionAge
        config.pushLimitWhenIdle = pushLimitWhenIdle
        config.limitCloseCode = limitCloseCode
        config.faults = try faults.map { text in
            do throws(SimulatorConfigError) { return try FaultRule(parsing: text) } catch { throw ValidationError(error.description) }
        }
        config.rejectUpgradeStatus = rejectUpgrade
        config.costMicrosecondsPerInputKiB = costUsPerInputKB
        config.maxMessageBytes = maxMessageBytes
        if let threads { config.threads = threads }
        config.maxInFlightPerConnection = maxInFlight
        config.maxNamedLanesPerConnection = maxLanes
        config.rejectOverlappingCreates = rejectOverlapping
        guard let steeringSupport = SteeringSupport(rawValue: steering) else {
            throw ValidationError("--steering must be auto, all or none (got \(steering))")
        }
        config.steering = steeringSupport
        config.ignoreUnknownEvents = ignoreUnknownEvents
        config.requireBetaHeader = requireBetaHeader
        config.storeCapacity = storeCapacity
        config.requestID = requestID
        config.tlsCertificateFile = tlsCert
        config.tlsPrivateKeyFile = tlsKey
        config.tlsClientCAFile = tlsClientCA
        config.perMessageDeflate = !noDeflate
        do throws(SimulatorConfigError) { try config.validate() } catch { throw ValidationError(error.description) }
        return config
    }

    func run() async throws {
        let config = try makeConfig()
        let signals = SignalWaiter([SIGINT, SIGTERM])
        let simulator = try await Simulator.start(config)
        let shownHost = host.contains(":") ? "[\(host)]" : host   // an IPv6 address, as URLs write it
        print("listening \(simulator.isTLS ? "wss" : "ws")://\(shownHost):\(simulator.port)/v1")
        fflush(nil)  // all streams: `stdout` itself is not concurrency-safe to name
        if config.costMicrosecondsPerInputKiB > 0 {
            printError("rws sim: SIMULATED server cost is on (\(config.costMicrosecondsPerInputKiB) us per KiB of input context): a model, not a measurement")
        }
        for rule in config.faults { printError("rws sim: fault planned: \(rule)") }
        await signals.wait()
        await simulator.shutdown()
        if stats {
            print(simulator.stats().json)
            fflush(nil)  // all streams: `stdout` itself is not concurrency-safe to name
        }
    }
}

/// One line to stderr (unbuffered write: `stderr` is not concurrency-safe to name).
func printError(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}

/// Waits for the first of the given signals (their default action is disabled while waiting).
final class SignalWaiter {
    private let state = SignalState()
    private var sources: [DispatchSourceSignal] = []

    init(_ signals: [Int32]) {
        for sig in signals {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            let state = self.state
            source.setEventHandler { state.fire() }
            source.resume()
            sources.append(source)
        }
    }

    func wait() async { await state.wait() }

    deinit { for s in sources { s.cancel() } }
}

/// The fired flag and the waiting task, shared with the signal handlers' queue.
final class SignalState: Sendable {
    private let state = Mutex<(fired: Bool, waiter: CheckedContinuation<Void, Never>?)>((false, nil))

    func fire() {
        let waiter = state.withLock { s -> CheckedContinuation<Void, Never>? in
            s.fired = true
            defer { s.waiter = nil }
            return s.waiter
        }
        waiter?.resume()
    }

    func wait() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { s -> Bool in
                if s.fired { return true }
                s.waiter = c
                return false
            }
            if resumeNow { c.resume() }
        }
    }
}
