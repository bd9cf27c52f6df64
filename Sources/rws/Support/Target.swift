#if canImport(Glibc)
import Glibc
#endif
import ResponsesWSSim

/// Where the CLI sends its turns: the real API when OPENAI_API_KEY is set (or --base-url is
/// given), else a simulator started in this process, so that everything works offline.
struct Target {
    let baseURL: String?
    let apiKey: String?
    let simulator: Simulator?
    var label: String { simulator != nil ? "embedded simulator at \(baseURL ?? "")" : (baseURL ?? "api.openai.com") }

    static func resolve(baseURL: String?, simulator config: SimulatorConfig = SimulatorConfig()) async throws -> Target {
        if let baseURL { return Target(baseURL: baseURL, apiKey: nil, simulator: nil) }
        if let key = getenv("OPENAI_API_KEY"), key.pointee != 0 { return Target(baseURL: nil, apiKey: nil, simulator: nil) }
        let sim = try await Simulator.start(config)
        return Target(baseURL: sim.baseURL, apiKey: "sk-embedded-simulator", simulator: sim)
    }

    func stop() async {
        await simulator?.shutdown()
    }
}

func environment(_ name: String) -> String? {
    getenv(name).map { String(cString: $0) }
}
