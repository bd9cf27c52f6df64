import NIOCore
import ResponsesWSSim
import Testing
@testable import ResponsesWSCore

/// A host name with an IPv4 and an IPv6 address reaches a server that listens on only one of
/// them (NIO's Happy Eyeballs tries the other family when the first is refused), and an IPv6
/// literal URL works. All on loopback; the name is answered by the test, not by DNS.
@Suite struct DualStackTests {
    static let name = "dual-stack.test"

    private func run(serverHost: String, transport: Transport) async throws -> TurnResult {
        var simConfig = SimulatorConfig()
        simConfig.host = serverHost
        simConfig.tokensPerSecond = 0
        let sim = try await Simulator.start(simConfig)
        let port = sim.port
        var config = ClientConfig()
        config.baseURL = "http://\(Self.name):\(port)/v1"
        config.apiKey = "sk-test"
        config.transport = transport
        config.fallback = .never
        config.resolveHost = { host, port in
            guard host == Self.name else { return HostLookups.getaddrinfo(host: host, port: port) }
            return Result {
                ([try SocketAddress(ipAddress: "127.0.0.1", port: port)], [try SocketAddress(ipAddress: "::1", port: port)])
            }
        }
        let client = try ResponsesClient(config)
        defer { try? client.shutdown() }
        let session = try client.makeSession(defaults: defaults)
        let (result, _) = try session.run(#"{"input":"which family?"}"#)
        await sim.shutdown()
        return result
    }

    @Test(arguments: [Transport.webSocket, .http])
    func aServerOnlyOnIPv6(transport: Transport) async throws {
        let result = try await run(serverHost: "::1", transport: transport)
        #expect(result.status == .ok, "\(result.message)")
        #expect(result.transport == transport)
    }

    @Test(arguments: [Transport.webSocket, .http])
    func aServerOnlyOnIPv4(transport: Transport) async throws {
        let result = try await run(serverHost: "127.0.0.1", transport: transport)
        #expect(result.status == .ok, "\(result.message)")
    }

    @Test func anIPv6LiteralURL() async throws {
        try await withSimulator({ $0.host = "::1" }) { sim, client in
            #expect(sim.baseURL == "http://[::1]:\(sim.port)/v1")
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"literal"}"#)
            #expect(result.status == .ok, "\(result.message)")
        }
    }
}
