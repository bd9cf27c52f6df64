#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ResponsesWSCore
import ResponsesWSSim

/// The flags that choose where turns go; shared by demo, run and loop.
struct TargetOptions: ParsableArguments {
    @Option(help: "API base URL, e.g. https://api.openai.com/v1 (default: $OPENAI_BASE_URL). Needs an API key.")
    var baseURL: String?

    @Option(help: ArgumentHelp(
        "API key (default: $OPENAI_API_KEY). Without a key and a base URL the turns go to the embedded simulator.",
        valueName: "KEY"))
    var apiKey: String?

    @Option(help: ArgumentHelp(
        "Proxy for every connection: http://[user:password@]host:port (CONNECT), socks5:// or socks5h://; \"\" for none (default: $https_proxy, $http_proxy, $ALL_PROXY as curl reads them).",
        valueName: "URL"))
    var proxy: String?

    @Option(help: ArgumentHelp("Hosts reached without the proxy: names (and their subdomains), addresses, CIDR ranges, * (default: $NO_PROXY).",
                               valueName: "LIST"))
    var noProxy: String?
    @Flag(help: "Offer permessage-deflate (RFC 7692) on WebSocket upgrades; the embedded simulator accepts it.")
    var deflate = false

    @Flag(name: .shortAndLong, help: "Log what the library does to stderr: connects, retries, fallbacks, rotations (-vv: also debug records).")
    var verbose: Int

    /// The library's log records on stderr, at the level -v/-vv asked for.
    var logHook: LogHook? {
        guard verbose > 0 else { return nil }
        return LogHook(level: verbose > 1 ? .debug : .info) { record in
            let fields = record.fields.filter { !$0.value.isEmpty }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            StandardError.print("rws: [\(record.level.name)] \(record.message)\(fields.isEmpty ? "" : "  {\(fields)}")")
        }
    }

    func validate() throws {
        if let apiKey, apiKey.isEmpty { throw ValidationError("--api-key must not be empty") }
        if let baseURL, !(baseURL.hasPrefix("ws://") || baseURL.hasPrefix("wss://") || baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://")) {
            throw ValidationError("--base-url must start with https://, http://, wss:// or ws:// (got '\(baseURL)')")
        }
    }
}

/// Where the CLI sends its turns, chosen explicitly and said on stderr:
/// - an API key (--api-key or OPENAI_API_KEY): the API at the base URL (--base-url,
///   OPENAI_BASE_URL, or api.openai.com);
/// - a base URL but no key: a usage error (a real endpoint would refuse every turn);
/// - neither: a simulator started in this process, so that everything works offline.
struct Target {
    let baseURL: String?
    let apiKey: String?
    let simulator: Simulator?
    let logHook: LogHook?
    var proxy: String?
    var noProxy: String?
    var deflate = false
    var label: String {
        if simulator != nil { return "the embedded simulator at \(baseURL ?? "")" }
        return baseURL ?? "https://api.openai.com/v1"
    }

    static func resolve(_ options: TargetOptions, command: String, simulator config: SimulatorConfig = SimulatorConfig()) async throws -> Target {
        let key = options.apiKey ?? environment("OPENAI_API_KEY").flatMap { $0.isEmpty ? nil : $0 }
        let (url, urlSource) = options.baseURL.map { ($0, "--base-url") }
            ?? environment("OPENAI_BASE_URL").flatMap { $0.isEmpty ? nil : ($0, "OPENAI_BASE_URL") }
            ?? (nil, "")
        guard let key else {
            if let url {
                StandardError.print("rws \(command): \(urlSource) is \(url) but there is no API key: pass --api-key or set OPENAI_API_KEY (or unset \(urlSource) to use the embedded simulator)")
                throw ExitCode(ExitStatus.usage)
            }
            let sim = try await Simulator.start(config)
            // The simulator runs in this process: never through a proxy from the environment.
            let target = Target(baseURL: sim.baseURL, apiKey: "sk-embedded-simulator", simulator: sim, logHook: options.logHook,
                                proxy: options.proxy ?? "", noProxy: options.noProxy, deflate: options.deflate)
            StandardError.print("rws \(command): no API key, so the turns go to \(target.label) (nothing leaves this machine)")
            return target
        }
        let target = Target(baseURL: url, apiKey: key, simulator: nil, logHook: options.logHook, proxy: options.proxy, noProxy: options.noProxy, deflate: options.deflate)
        StandardError.print("rws \(command): sending turns to \(target.label)")
        return target
    }

    /// A client configuration aimed at this target.
    func clientConfig(transport: Transport = .webSocket) -> ClientConfig {
        var config = ClientConfig()
        config.baseURL = baseURL
        if let apiKey { config.apiKey = apiKey }
        config.transport = transport
        config.logHook = logHook
        config.proxy = proxy
        config.noProxy = noProxy
        config.perMessageDeflate = deflate
        return config
    }

    func stop() async {
        await simulator?.shutdown()
    }
}

func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}

/// Checks an option's value; the message says what is allowed (exit 2 through RWS.main).
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws {
    if !condition { throw ValidationError(message()) }
}
