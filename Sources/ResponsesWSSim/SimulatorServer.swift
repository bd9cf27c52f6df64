#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import ResponsesTLS
import NIOPosix
import Synchronization

/// A running simulator: one TCP port serving `GET /v1/responses` (WebSocket upgrade) and
/// `POST /v1/responses` (SSE or JSON). Start it with `Simulator.start(_:)`, stop it with
/// `shutdown()`. Tests run it in-process on port 0.
public final class Simulator: Sendable {
    public let host: String
    /// The bound port (the real one when the config asked for 0).
    public let port: Int
    public let config: SimulatorConfig

    private let group: MultiThreadedEventLoopGroup
    private let serverChannel: Channel
    private let shared: SimulatorShared
    private let stopped = Atomic<Bool>(false)

    private init(config: SimulatorConfig, group: MultiThreadedEventLoopGroup, serverChannel: Channel, shared: SimulatorShared) {
        self.config = config
        self.host = config.host
        self.port = serverChannel.localAddress?.port ?? config.port
        self.group = group
        self.serverChannel = serverChannel
        self.shared = shared
    }

    /// Binds and starts serving. Throws `SimulatorConfigError` for a bad config, or the bind error.
    public static func start(_ config: SimulatorConfig = SimulatorConfig()) async throws -> Simulator {
        try config.validate()
        let tls: TLSContext?
        if let certificate = config.tlsCertificateFile, let key = config.tlsPrivateKeyFile {
            do {
                tls = try TLSContext.server(certificateFile: certificate, privateKeyFile: key, clientCAFile: config.tlsClientCAFile)
            } catch {
                throw SimulatorConfigError("cannot serve TLS: \(error)")
            }
        } else {
            tls = nil
        }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: config.threads)
        let shared = SimulatorShared(config: config)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            // Large enough that a fast client never stalls a batch, small enough to push back on
            // a slow one (ResponseRun parks until the channel is writable again).
            .childChannelOption(.writeBufferWaterMark, value: .init(low: 256 << 10, high: 1 << 20))
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    var tlsHandler: ChannelHandler?
                    if let tls {
                        let handler = try tls.makeServerHandler()
                        try channel.pipeline.syncOperations.addHandler(handler)
                        tlsHandler = handler
                    }
                    try HTTPRouter.configure(channel, shared: shared, tls: tlsHandler)
                }
            }
        do {
            let channel = try await bootstrap.bind(host: config.host, port: config.port).get()
            return Simulator(config: config, group: group, serverChannel: channel, shared: shared)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// `ws://HOST:PORT/v1/responses` (`wss://` when serving TLS)
    public var webSocketURL: String { "\(isTLS ? "wss" : "ws")://\(hostForURL):\(port)/v1/responses" }
    /// `http://HOST:PORT/v1` (`https://` when serving TLS): the `base_url` for OpenAI SDKs.
    public var baseURL: String { "\(isTLS ? "https" : "http")://\(hostForURL):\(port)/v1" }
    /// Whether the simulator serves TLS.
    public var isTLS: Bool { config.tlsCertificateFile != nil }

    private var hostForURL: String { host.contains(":") ? "[\(host)]" : host }

    /// Counters of the whole server and of each WebSocket connection.
    /// CPU time the simulator's threads have used, in nanoseconds: benchmarks that run it in
    /// their own process subtract it to get the client's share.
    public func cpuNanos() -> UInt64 {
        group.makeIterator().reduce(0) { total, loop in
            total + ((try? loop.submit { () -> UInt64 in
                var ts = timespec()
                clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
                return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
            }.wait()) ?? 0)
        }
    }

    public func stats() -> SimulatorStats {
        shared.stats.snapshot(faultsInjected: shared.faults.faultsInjected, storedResponses: shared.store.count,
                              costModelEnabled: config.costMicrosecondsPerInputKiB > 0)
    }

    /// Per-connection counters of WebSocket connections, oldest first.
    public func connectionStats() -> [ConnectionStats] { stats().websocketConnections }

    /// Waits until `predicate` holds for the stats and returns them. The predicate is checked
    /// now and again whenever a WebSocket connection opens or closes (other counters change
    /// without notice, so wait on an open or a close). `timeout` only guards against hangs.
    @discardableResult
    public func waitForStats(timeout: TimeAmount = .seconds(60),
                             until predicate: (SimulatorStats) -> Bool) async throws -> SimulatorStats {
        let registry = shared.stats
        let guardTimer = group.next().scheduleTask(in: timeout) { registry.changed() }
        defer { guardTimer.cancel() }
        let deadline = NIODeadline.now() + timeout
        while true {
            let generation = registry.generation
            let stats = stats()
            if predicate(stats) { return stats }
            if NIODeadline.now() >= deadline { throw SimulatorWaitTimeout(stats: stats) }
            await registry.waitForChange(after: generation)
        }
    }

    /// Re-checks every connection's age against `config.now` (for tests that advance an
    /// injected clock: the `pushLimitWhenIdle` timers run on real time and would fire late).
    public func checkConnectionAges() {
        for channel in shared.openChannels() {
            channel.pipeline.fireUserInboundEventTriggered(SimulatorAgeCheckEvent())
        }
    }

    /// Stops accepting, closes WebSocket sessions with 1001 (going away), closes HTTP connections,
    /// then stops the event loops. Idempotent.
    public func shutdown() async {
        guard !stopped.exchange(true, ordering: .acquiringAndReleasing) else { return }
        try? await serverChannel.close()
        let open = shared.openChannels()
        for channel in open {
            channel.pipeline.fireUserInboundEventTriggered(SimulatorShutdownEvent())
            // A peer that never answers our close frame is cut off after a grace period.
            channel.eventLoop.scheduleTask(in: .seconds(1)) { channel.close(promise: nil) }
        }
        for channel in open { try? await channel.closeFuture.get() }
        try? await group.shutdownGracefully()
    }
}

/// Sent through every open connection's pipeline by `Simulator.shutdown()`.
struct SimulatorShutdownEvent: Sendable {}

/// Sent through every open connection's pipeline by `Simulator.checkConnectionAges()`.
struct SimulatorAgeCheckEvent: Sendable {}

/// `waitForStats` gave up; `stats` is the last snapshot it saw.
public struct SimulatorWaitTimeout: Error, CustomStringConvertible {
    public var stats: SimulatorStats
    public var description: String { "the simulator's stats never matched: \(stats.json)" }
}

/// State shared by all connections of one simulator.
final class SimulatorShared: Sendable {
    let config: SimulatorConfig
    let faults: FaultInjector
    let store: ResponseStore
    let stats = StatsRegistry()
    let model: FakeModel
    private let channels = NIOLockedValueBox<[ObjectIdentifier: Channel]>([:])

    init(config: SimulatorConfig) {
        self.config = config
        self.faults = FaultInjector(rules: config.faults)
        self.store = ResponseStore(capacity: config.storeCapacity)
        self.model = FakeModel(outputTokens: config.outputTokens)
    }

    func track(_ channel: Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { [weak self] _ in self?.channels.withLockedValue { $0[id] = nil } }
    }

    func openChannels() -> [Channel] { channels.withLockedValue { Array($0.values) } }

    /// The SIMULATED cost of processing `bytes` of input context (`--cost-us-per-input-kb`).
    func simulatedCostMicroseconds(inputBytes bytes: Int) -> Int {
        let perKiB = config.costMicrosecondsPerInputKiB
        guard perKiB > 0 else { return 0 }
        return Int((Double(bytes) / 1024 * Double(perKiB)).rounded())
    }

    /// Input tokens and cached tokens of a request on top of `parent` (§5.12 usage).
    func usage(for request: CreateRequest, parent: ConversationNode?, cacheHit: Bool, outputTokens: Int) -> Usage {
        let history = parent?.contextTokens ?? 0
        return Usage(inputTokens: request.instructionTokens + history + request.inputTokens,
                     cachedTokens: cacheHit ? history : 0, outputTokens: outputTokens)
    }
}
