#if canImport(Glibc)
import Glibc
#endif
import CResponsesWS
import ResponsesJSON
import ResponsesWSSim

/// The lane benchmarks: a fan-out of forks three ways, and many sessions on one client. Both
/// run the simulator in this process and subtract its threads' CPU from the process's, so
/// client_cpu_ms is the library's and this thread's.
extension BenchCommand {
    /// How the fan-out's sessions reach the server.
    enum FanoutWay: String, CaseIterable {
        /// rws_session_fork: the forks are lanes of the parent's connection (§5.3).
        case lanes
        /// RWS_LANES_PER_SESSION: each fork opens its own connection and resends the context.
        case connectionPerSession = "connection_per_session"
        /// RWS_TRANSPORT_HTTP: every turn posts its whole history.
        case http = "http_sse"
    }

    /// A 10-turn parent, then 8 forks of 5 turns each, the forks' turns running side by side.
    func measureFanout(_ lib: LoadedLibrary) async throws {
        guard let fork = lib.sessionFork, let clientStats = lib.clientStats else {
            printLine(#"{"bench":"fanout","skipped":"the library has no rws_session_fork (older than 0.5.0)"}"#)
            return
        }
        // The first way measured would also pay the library's warm-up: one unreported round first.
        for (round, way) in ([FanoutWay.lanes] + FanoutWay.allCases).enumerated() {
            var config = SimulatorConfig()
            config.tokensPerSecond = 0
            config.outputTokens = 40
            let sim = try await Simulator.start(config)
            var options = rws_client_options()
            lib.clientOptionsInit(&options)
            if way == .connectionPerSession { options.lanes = Int32(RWS_LANES_PER_SESSION) }
            if way == .http { options.transport = Int32(RWS_TRANSPORT_HTTP) }
            let cpuBefore = processCPUNanos() - sim.cpuNanos()
            let start = nowNanos()
            var stats = rws_stats()
            try withClient(lib, baseURL: sim.baseURL, options: &options) { client in
                let parent = try newSession(lib, client)
                defer { lib.sessionFree(parent) }
                for i in 0..<10 { try runTurns(lib, [parent], input: "parent step \(i)") }
                var forks: [OpaquePointer] = []
                defer { forks.forEach { lib.sessionFree($0) } }
                for _ in 0..<8 {
                    var child: OpaquePointer?
                    try lib.check(fork(parent, nil, &child), "rws_session_fork")
                    forks.append(child!)
                }
                for k in 0..<5 { try runTurns(lib, forks, input: "branch step \(k)") }
                _ = clientStats(client, &stats, MemoryLayout<rws_stats>.size)
            }
            let wall = Double(nowNanos() - start) / 1e6
            let cpu = Double(processCPUNanos() - sim.cpuNanos() - cpuBefore) / 1e6
            let server = sim.stats()
            await sim.shutdown()
            guard round > 0 else { continue }
            var o = JSONObject()
            o["bench"] = "fanout"
            o["way"] = .string(way.rawValue)
            o["turns_ok"] = .int(Int(stats.turns_ok))
            o["handshakes"] = .int(server.websocketUpgrades)
            o["http_posts"] = .int(server.httpPosts)
            o["bytes_sent"] = .int(Int(stats.bytes_sent))
            o["full_resends"] = .int(Int(stats.full_resends))
            o["wall_ms"] = .double(rounded(wall, 1))
            o["client_cpu_ms"] = .double(rounded(cpu, 1))
            printLine(JSONValue.object(o).serializedString)
        }
    }

    /// `count` sessions of one client, one turn each, all started before any is awaited.
    /// With `baseURL` (a simulator in another process) the resident memory is the client's alone.
    func measureManySessions(_ lib: LoadedLibrary, count: Int, baseURL: String?) async throws {
        guard let clientStats = lib.clientStats else { return }
        var config = SimulatorConfig()
        config.tokensPerSecond = 0
        config.outputTokens = 20
        let sim = try await Simulator.start(config)
        var options = rws_client_options()
        lib.clientOptionsInit(&options)
        var stats = rws_stats()
        var rssPerSession = 0.0
        let start = nowNanos()
        try withClient(lib, baseURL: baseURL ?? sim.baseURL, options: &options) { client in
            let rssBefore = residentKiB()
            let sessions = try (0..<count).map { _ in try newSession(lib, client) }
            defer { sessions.forEach { lib.sessionFree($0) } }
            try runTurns(lib, sessions, input: "hello from one of many")
            _ = clientStats(client, &stats, MemoryLayout<rws_stats>.size)   // while the sessions are warm
            rssPerSession = Double(residentKiB() - rssBefore) / Double(count)
        }
        var o = JSONObject()
        o["bench"] = "many_sessions"
        o["sessions"] = .int(count)
        o["turns_ok"] = .int(Int(stats.turns_ok))
        o["connections"] = .int(Int(stats.connections_open))
        o["connections_limit"] = .int((count + 15) / 16)
        o["rss_kib_per_warm_session"] = .double(rounded(rssPerSession, 2))
        o["wall_ms"] = .double(rounded(Double(nowNanos() - start) / 1e6, 1))
        o["note"] = baseURL == nil ? "resident memory includes the in-process simulator's state for these sessions"
            : "simulator in another process: resident memory is the client's"
        printLine(JSONValue.object(o).serializedString)
        await sim.shutdown()
    }

    private func withClient(_ lib: LoadedLibrary, baseURL: String, options: inout rws_client_options,
                            _ body: (OpaquePointer) throws -> Void) throws {
        var client: OpaquePointer?
        try baseURL.withCString { url in
            try "sk-bench".withCString { key in
                options.base_url = url
                options.api_key = key
                try lib.check(lib.clientNew(&options, &client), "rws_client_new")
            }
        }
        defer { lib.clientFree(client) }
        try body(client!)
    }

    private func newSession(_ lib: LoadedLibrary, _ client: OpaquePointer) throws -> OpaquePointer {
        var session: OpaquePointer?
        var sessionOptions = rws_session_options()
        lib.sessionOptionsInit(&sessionOptions)
        try #"{"model":"gpt-5.6","store":false}"#.withCString { defaults in
            sessionOptions.defaults_json = defaults
            try lib.check(lib.sessionNew(client, &sessionOptions, &session), "rws_session_new")
        }
        return session!
    }

    /// One turn on each session, all started first, then each awaited; fails on any failure.
    private func runTurns(_ lib: LoadedLibrary, _ sessions: [OpaquePointer], input: String) throws {
        let request = JSONValue.object(JSONObject([("input", .string(input))])).serializedString
        var turns: [OpaquePointer?] = []
        defer { turns.forEach { lib.turnFree($0) } }
        for session in sessions {
            var turn: OpaquePointer?
            try lib.check(lib.turnStart(session, request, 0, nil, &turn), "rws_turn_start")
            turns.append(turn)
        }
        for turn in turns { try lib.check(lib.turnWait(turn, -1), "turn") }
    }
}

/// The process's resident set, in KiB (/proc/self/statm).
func residentKiB() -> Int {
    guard let file = fopen("/proc/self/statm", "r") else { return 0 }
    defer { fclose(file) }
    var size = 0, resident = 0
    guard withUnsafeMutablePointer(to: &size, { s in withUnsafeMutablePointer(to: &resident) { r in
        fscanfStatm(file, s, r) } }) else { return 0 }
    return resident * Int(sysconf(Int32(_SC_PAGESIZE))) / 1024
}

private func fscanfStatm(_ file: UnsafeMutablePointer<FILE>, _ size: UnsafeMutablePointer<Int>, _ resident: UnsafeMutablePointer<Int>) -> Bool {
    var line = [CChar](repeating: 0, count: 256)
    guard fgets(&line, Int32(line.count), file) != nil else { return false }
    let fields = String(cString: line).split(separator: " ")
    guard fields.count >= 2, let s = Int(fields[0]), let r = Int(fields[1]) else { return false }
    size.pointee = s
    resident.pointee = r
    return true
}
