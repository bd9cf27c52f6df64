import ArgumentParser
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import ResponsesWSSim

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `rws bench-sim`: how many delta events per second the simulator pushes to one WebSocket client.
/// Starts the simulator in-process (tokens-per-second 0, long answers) unless `--url` is given,
/// sends `response.create` after `response.create` on one socket, and counts the
/// `response.output_text.delta` frames received. Prints one JSON line.
struct BenchSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench-sim",
        abstract: "Measure the simulator's event throughput to one WebSocket client."
    )

    @Option(help: "Connect to a running simulator (ws://HOST:PORT/v1 or .../v1/responses) instead of starting one; it should run with --tokens-per-second 0.")
    var url: String?

    @Option(help: "How long to measure, in seconds.")
    var seconds: Double = 3

    @Option(help: "Tokens per answer for the in-process simulator.")
    var outputTokens = 100_000

    @Option(help: "Bearer key to send.")
    var apiKey = "bench"

    func run() async throws {
        var simulator: Simulator?
        let host: String, port: Int, path: String
        if let url {
            guard let parsed = WebSocketURL(url) else { throw ValidationError("cannot parse --url \(url)") }
            (host, port, path) = (parsed.host, parsed.port, parsed.path)
        } else {
            var config = SimulatorConfig()
            config.tokensPerSecond = 0
            config.outputTokens = outputTokens
            config.threads = 1  // the client gets the other core
            let sim = try await Simulator.start(config)
            simulator = sim
            (host, port, path) = (sim.host, sim.port, "/v1/responses")
        }

        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let result: BenchResult
        do {
            result = try await BenchClient.run(group: group, host: host, port: port, path: path, apiKey: apiKey,
                                               duration: .nanoseconds(Int64(seconds * 1e9)))
        } catch {
            try? await group.shutdownGracefully()
            await simulator?.shutdown()
            throw error
        }
        try? await group.shutdownGracefully()
        await simulator?.shutdown()

        let secs = Double(result.elapsed.nanoseconds) / 1e9
        let rate = secs > 0 ? Double(result.deltas) / secs : 0
        print("{\"bench\":\"sim_throughput\",\"events\":\(result.deltas),\"seconds\":\(rounded(secs, 3)),\"events_per_sec\":\(Int(rate))"
              + ",\"bytes\":\(result.bytes),\"responses_completed\":\(result.completed),\"in_process\":\(url == nil)}")
        fflush(nil)  // all streams: `stdout` itself is not concurrency-safe to name
    }

    private func rounded(_ x: Double, _ digits: Int) -> Double {
        var scale = 1.0
        for _ in 0..<digits { scale *= 10 }
        return (x * scale).rounded() / scale
    }
}

struct WebSocketURL {
    var host: String
    var port: Int
    var path: String

    init?(_ text: String) {
        guard text.hasPrefix("ws://") else { return nil }
        let rest = text.dropFirst(5)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        var path = String(rest[slash...])
        if path.isEmpty || path == "/" || path == "/v1" || path == "/v1/" { path = "/v1/responses" }
        guard let colon = authority.lastIndex(of: ":"), let port = Int(authority[authority.index(after: colon)...]) else { return nil }
        self.host = String(authority[..<colon])
        self.port = port
        self.path = path
    }
}

struct BenchResult: Sendable {
    var deltas = 0
    var bytes = 0
    var completed = 0
    var elapsed = TimeAmount.zero
}

/// A minimal WebSocket client that only counts frames (no JSON parsing on the client side, so the
/// number measures the server).
enum BenchClient {
    static func run(group: EventLoopGroup, host: String, port: Int, path: String, apiKey: String,
                    duration: TimeAmount) async throws -> BenchResult {
        let loop = group.next()
        let upgraded = loop.makePromise(of: Void.self)
        let finished = loop.makePromise(of: BenchResult.self)
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let request = UpgradeRequestHandler(host: host, port: port, path: path, apiKey: apiKey, upgraded: upgraded)
                    let boundRequest = NIOLoopBound(request, eventLoop: channel.eventLoop)
                    let upgrader = NIOWebSocketClientUpgrader(
                        maxFrameSize: 1 << 26,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(
                                    CountingHandler(duration: duration, finished: finished))
                                upgraded.succeed(())
                            }
                        })
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(boundRequest.value, promise: nil)
                        }))
                    try channel.pipeline.syncOperations.addHandler(request)
                }
            }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        do {
            try await upgraded.futureResult.get()
        } catch {
            try? await channel.close()
            throw error
        }
        let result = try await finished.futureResult.get()
        try? await channel.close()
        return result
    }
}

private final class UpgradeRequestHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let host: String, port: Int, path: String, apiKey: String
    let upgraded: EventLoopPromise<Void>

    init(host: String, port: Int, path: String, apiKey: String, upgraded: EventLoopPromise<Void>) {
        (self.host, self.port, self.path, self.apiKey, self.upgraded) = (host, port, path, apiKey, upgraded)
    }

    func channelActive(context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: "\(host):\(port)")
        headers.add(name: "Authorization", value: "Bearer \(apiKey)")
        context.write(wrapOutboundOut(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head(let head) = unwrapInboundIn(data) {
            upgraded.fail(BenchError("upgrade rejected: HTTP \(head.status.code)"))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        upgraded.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        upgraded.fail(BenchError("connection closed before the upgrade"))
        context.fireChannelInactive()
    }
}

private final class CountingHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private static let deltaPrefix = Array(#"{"type":"response.output_text.delta""#.utf8)
    private static let completedPrefix = Array(#"{"type":"response.completed""#.utf8)
    private static let create = #"{"type":"response.create","model":"rws-bench","store":false,"input":"Stream as fast as you can."}"#

    let duration: TimeAmount
    let finished: EventLoopPromise<BenchResult>
    private var result = BenchResult()
    private var start: NIODeadline?
    private var done = false

    init(duration: TimeAmount, finished: EventLoopPromise<BenchResult>) {
        self.duration = duration
        self.finished = finished
    }

    func handlerAdded(context: ChannelHandlerContext) { sendCreate(context: context) }

    private func sendCreate(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: Self.create.utf8.count)
        buffer.writeString(Self.create)
        context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard !done, frame.opcode == .text else {
            if frame.opcode == .connectionClose { finish() }
            return
        }
        let payload = frame.data
        let isDelta = payload.readableBytesView.starts(with: Self.deltaPrefix)
        if isDelta {
            if start == nil { start = .now() }  // measure from the first delta: exclude connect and TTFT
            result.deltas += 1
            result.bytes += payload.readableBytes
        } else if payload.readableBytesView.starts(with: Self.completedPrefix) {
            result.completed += 1
            if let start, NIODeadline.now() - start >= duration {
                result.elapsed = .now() - start
                finish()
            } else {
                sendCreate(context: context)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done { finished.fail(BenchError("connection closed during the benchmark")) }
        done = true
        context.fireChannelInactive()
    }

    private func finish() {
        guard !done else { return }
        done = true
        if result.elapsed == .zero, let start { result.elapsed = .now() - start }
        finished.succeed(result)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
