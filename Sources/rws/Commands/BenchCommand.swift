#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import CResponsesWS
import NIOCore
import NIOPosix
import ResponsesJSON
import ResponsesWSCore
import ResponsesWSSim
import Synchronization

/// `rws bench`: throughput and latency of the library, through its C API, against the embedded
/// simulator. Prints one JSON line per measurement; it asserts nothing.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure events/s into a C callback and the per-turn overhead over loopback.",
        discussion: """
            events_to_c_callback / events_pull: one response of --events deltas streamed as fast as the \
            simulator can (tokens-per-second 0), counted in a C callback on the library's I/O thread, \
            or pulled with rws_turn_next_event from this thread.
            turn_round_trip: a minimal turn (generate:false: response.created, in_progress, completed) \
            through the library, the same request through a bare NIO WebSocket client, and a \
            WebSocket ping/pong; library overhead = library - bare client.
            """)

    @Option(help: "Deltas streamed in the throughput measurements.")
    var events = 500_000

    @Option(help: "Round trips per latency measurement.")
    var roundTrips = 2000

    enum Measurements: String, ExpressibleByArgument, CaseIterable {
        case all, throughput, callback, pull, latency, decode, fanout, sessions
    }

    @Option(help: "Which measurements: all, throughput (callback and pull), callback, pull, latency, decode (the event-header decoder alone), fanout (a parent and 8 forks: lanes, a connection each, HTTP/SSE), sessions (--sessions sessions of one client).")
    var only = Measurements.all

    @Option(help: "Sessions in the sessions measurement.")
    var sessions = 1000

    @Option(help: "The libresponsesws.so to measure (default: the one built beside this rws).")
    var library: String?

    @Option(help: "Throughput against this simulator (e.g. a separate `rws sim --tokens-per-second 0 --output-tokens 500000` process) instead of one in this process; process_cpu_ms is then the client's alone.")
    var baseURL: String?

    func validate() throws {
        try require(events >= 1, "--events must be at least 1 (got \(events))")
        try require(roundTrips >= 1, "--round-trips must be at least 1 (got \(roundTrips))")
        try require(sessions >= 1, "--sessions must be at least 1 (got \(sessions))")
    }

    func run() async throws {
        let lib = try LoadedLibrary.load(library)
        printLine("{\"bench\":\"library\",\"path\":\"\(lib.path)\",\"version\":\"\(String(cString: lib.version()!))\"}")
        var config = SimulatorConfig()
        config.tokensPerSecond = 0
        config.outputTokens = events
        let sim = try await Simulator.start(config)
        defer { Task { await sim.shutdown() } }
        // Each measurement prints its JSON line when done; a terminal also sees which one runs.
        let progress = Progress()
        defer { progress.finish() }
        if [.all, .throughput, .callback].contains(only) {
            progress.show("rws bench: \(events) events into a C callback")
            try measureCallbackThroughput(lib, baseURL: baseURL ?? sim.baseURL)
        }
        if [.all, .throughput, .pull].contains(only) {
            progress.show("rws bench: \(events) events pulled")
            try measurePullThroughput(lib, baseURL: baseURL ?? sim.baseURL)
        }
        if [.all, .latency].contains(only) {
            progress.show("rws bench: \(roundTrips) round trips per latency measurement")
            try measureRoundTrips(lib, sim: sim)
        }
        if [.all, .fanout].contains(only) {
            progress.show("rws bench: fan-out of 8 forks, three ways")
            try await measureFanout(lib)
        }
        if [.all, .sessions].contains(only) {
            progress.show("rws bench: \(sessions) sessions on one client")
            try await measureManySessions(lib, count: sessions, baseURL: baseURL)
        }
        if [.all, .decode].contains(only) {
            progress.show("rws bench: event-header decoder")
            try measureHeaderDecode()
        }
        await sim.shutdown()
    }

    // MARK: throughput

    private final class Tally {
        var deltas = 0
        var events = 0
    }

    private func withSession(_ lib: LoadedLibrary, baseURL: String, _ body: (OpaquePointer) throws -> Void) throws {
        var options = rws_client_options()
        lib.clientOptionsInit(&options)
        var client: OpaquePointer?
        try baseURL.withCString { url in
            try "sk-bench".withCString { key in
                options.base_url = url
                options.api_key = key
                try lib.check(lib.clientNew(&options, &client), "rws_client_new")
            }
        }
        defer { lib.clientFree(client) }
        var session: OpaquePointer?
        var sessionOptions = rws_session_options()
        lib.sessionOptionsInit(&sessionOptions)
        try #"{"model":"gpt-5.6","store":false}"#.withCString { defaults in
            sessionOptions.defaults_json = defaults
            try lib.check(lib.sessionNew(client, &sessionOptions, &session), "rws_session_new")
        }
        defer { lib.sessionFree(session) }
        try body(session!)
    }

    private func measureCallbackThroughput(_ lib: LoadedLibrary, baseURL: String) throws {
        try withSession(lib, baseURL: baseURL) { session in
            let tally = Tally()
            var options = rws_turn_options()
            lib.turnOptionsInit(&options)
            options.on_event = { userData, event in
                let tally = Unmanaged<Tally>.fromOpaque(userData!).takeUnretainedValue()
                tally.events += 1
                if event!.pointee.type == Int32(RWS_EVENT_OUTPUT_TEXT_DELTA) { tally.deltas += 1 }
                return Int32(RWS_CONTINUE)
            }
            options.user_data = Unmanaged.passUnretained(tally).toOpaque()
            var turn: OpaquePointer?
            let cpuBefore = processCPUNanos()
            let start = nowNanos()
            try lib.check(lib.turnStart(session, #"{"input":"stream please"}"#, 0, &options, &turn), "rws_turn_start")
            let status = lib.turnWait(turn, -1)
            let seconds = Double(nowNanos() - start) / 1e9
            let cpu = Double(processCPUNanos() - cpuBefore) / 1e6
            lib.turnFree(turn)
            try lib.check(status, "turn")
            report("events_to_c_callback", events: tally.events, deltas: tally.deltas, seconds: seconds, processCPUMs: cpu)
        }
    }

    private func measurePullThroughput(_ lib: LoadedLibrary, baseURL: String) throws {
        try withSession(lib, baseURL: baseURL) { session in
            var turn: OpaquePointer?
            var events = 0, deltas = 0
            let cpuBefore = processCPUNanos()
            let start = nowNanos()
            try lib.check(lib.turnStart(session, #"{"input":"stream please"}"#, 0, nil, &turn), "rws_turn_start")
            var event: UnsafePointer<rws_event>?
            while lib.turnNextEvent(turn, -1, &event) == Int32(RWS_OK) {
                events += 1
                if event!.pointee.type == Int32(RWS_EVENT_OUTPUT_TEXT_DELTA) { deltas += 1 }
            }
            let seconds = Double(nowNanos() - start) / 1e9
            let cpu = Double(processCPUNanos() - cpuBefore) / 1e6
            let status = lib.turnWait(turn, -1)
            lib.turnFree(turn)
            try lib.check(status, "turn")
            report("events_pull", events: events, deltas: deltas, seconds: seconds, processCPUMs: cpu)
        }
    }

    private func report(_ name: String, events: Int, deltas: Int, seconds: Double, processCPUMs: Double) {
        var o = JSONObject()
        o["bench"] = .string(name)
        o["events"] = .int(events)
        o["deltas"] = .int(deltas)
        o["seconds"] = .double(rounded(seconds, 4))
        o["events_per_sec"] = .int(Int(Double(events) / seconds))
        o["process_cpu_ms"] = .double(rounded(processCPUMs, 1))
        o["note"] = baseURL == nil ? "simulator in this process: process_cpu_ms includes it" : "simulator in another process: process_cpu_ms is the client's"
        printLine(JSONValue.object(o).serializedString)
    }

    // MARK: decode

    /// The header decoder alone (the largest per-event cost), on the simulator's two most
    /// frequent shapes: a text delta, and one whose delta needs unescaping.
    private func measureHeaderDecode() throws {
        let frames = [
            ("text_delta", #"{"type":"response.output_text.delta","sequence_number":1234,"item_id":"msg_da210ffd5561f6ba1f6090591936d35e10ad7b4023c29242","output_index":0,"content_index":0,"delta":" sai","logprobs":[]}"#),
            ("escaped_delta", #"{"type":"response.output_text.delta","sequence_number":1235,"item_id":"msg_da210ffd5561f6ba1f6090591936d35e10ad7b4023c29242","output_index":0,"content_index":0,"delta":"\n\"x\"","logprobs":[]}"#),
        ]
        let rounds = 2_000_000
        for (name, json) in frames {
            let bytes = Array(json.utf8)
            var checksum = 0
            let start = nowNanos()
            try bytes.withUnsafeBytes { frame in
                for _ in 0..<rounds {
                    let header = try EventHeader.decode(frame)
                    checksum &+= header.delta.end &+ Int(header.sequenceNumber)
                }
            }
            let nanos = Double(nowNanos() - start)
            var o = JSONObject()
            o["bench"] = "header_decode"
            o["frame"] = .string(name)
            o["bytes"] = .int(bytes.count)
            o["decodes"] = .int(rounds)
            o["ns_per_decode"] = .double(rounded(nanos / Double(rounds), 1))
            o["checksum"] = .int(checksum)   // keeps the optimiser from dropping the work
            printLine(JSONValue.object(o).serializedString)
        }
    }

    // MARK: latency

    private func measureRoundTrips(_ lib: LoadedLibrary, sim: Simulator) throws {
        let minimal = #"{"model":"gpt-5.6","store":false,"generate":false,"input":[],"previous_response_id":null}"#
        var viaLibrary: [Double] = []
        try withSession(lib, baseURL: sim.baseURL) { session in
            for i in 0..<(roundTrips + roundTrips / 10) {
                var turn: OpaquePointer?
                let start = nowNanos()
                try lib.check(lib.turnStart(session, minimal, 0, nil, &turn), "rws_turn_start")
                let status = lib.turnWait(turn, -1)
                let micros = Double(nowNanos() - start) / 1e3
                lib.turnFree(turn)
                try lib.check(status, "turn")
                if i >= roundTrips / 10 { viaLibrary.append(micros) }   // the first 10% warm up
            }
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        let raw = try RawWebSocket.connect(host: "127.0.0.1", port: sim.port, path: "/v1/responses", group: group)
        defer { raw.close() }
        let frame = #"{"type":"response.create","model":"gpt-5.6","store":false,"generate":false,"input":[]}"#
        let marker = Array(#""type":"response.completed""#.utf8)
        var bare: [Double] = []
        var pings: [Double] = []
        for i in 0..<(roundTrips + roundTrips / 10) {
            let start = nowNanos()
            try raw.roundTrip(text: ByteBuffer(string: frame), until: marker)
            if i >= roundTrips / 10 { bare.append(Double(nowNanos() - start) / 1e3) }
        }
        for i in 0..<(roundTrips + roundTrips / 10) {
            let start = nowNanos()
            try raw.ping()
            if i >= roundTrips / 10 { pings.append(Double(nowNanos() - start) / 1e3) }
        }
        func mean(_ xs: [Double]) -> Double { xs.reduce(0, +) / Double(max(xs.count, 1)) }
        var o = JSONObject()
        o["bench"] = "turn_round_trip"
        o["round_trips"] = .int(roundTrips)
        o["library_p50_us"] = .double(rounded(percentile(viaLibrary, 0.5), 1))
        o["library_mean_us"] = .double(rounded(mean(viaLibrary), 1))
        o["bare_ws_p50_us"] = .double(rounded(percentile(bare, 0.5), 1))
        o["bare_ws_mean_us"] = .double(rounded(mean(bare), 1))
        o["ping_pong_p50_us"] = .double(rounded(percentile(pings, 0.5), 1))
        o["library_overhead_p50_us"] = .double(rounded(percentile(viaLibrary, 0.5) - percentile(bare, 0.5), 1))
        o["library_overhead_mean_us"] = .double(rounded(mean(viaLibrary) - mean(bare), 1))
        printLine(JSONValue.object(o).serializedString)
    }
}

/// CPU time of the whole process (all threads), in nanoseconds.
func processCPUNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
