import ArgumentParser
import NIOCore
import NIOPosix
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

    func validate() throws {
        try require(seconds > 0 && seconds <= 86_400, "--seconds must be more than 0 and at most 86400 (got \(seconds))")
        try require(outputTokens >= 1, "--output-tokens must be at least 1 (got \(outputTokens))")
        try require(!apiKey.isEmpty, "--api-key must not be empty")
    }

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

/// A minimal WebSocket client that only walks frame headers and checks each payload's first
/// bytes: it does the upgrade by hand and never builds a frame object or parses JSON, so the
/// number measures the server, not a client-side decoder.
enum BenchClient {
    static func run(group: EventLoopGroup, host: String, port: Int, path: String, apiKey: String,
                    duration: TimeAmount) async throws -> BenchResult {
        let loop = group.next()
        let finished = loop.makePromise(of: BenchResult.self)
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.recvAllocator, value: AdaptiveRecvByteBufferAllocator(minimum: 4096, initial: 65536, maximum: 1 << 20))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RawCountingClient(host: host, port: port, path: path, apiKey: apiKey, duration: duration, finished: finished))
                }
            }
        let channel = try await bootstrap.connect(host: host, port: port).get()
        let result = try await finished.futureResult.get()
        try? await channel.close()
        return result
    }
}

private final class RawCountingClient: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private static let deltaPrefix = Array(#"{"type":"response.output_text.delta""#.utf8)
    private static let completedPrefix = Array(#"{"type":"response.completed""#.utf8)
    private static let create = Array(#"{"type":"response.create","model":"rws-bench","store":false,"input":"Stream as fast as you can."}"#.utf8)

    let host: String, port: Int, path: String, apiKey: String
    let duration: TimeAmount
    let finished: EventLoopPromise<BenchResult>
    private var upgraded = false
    private var pending = ByteBuffer()
    private var result = BenchResult()
    private var start: NIODeadline?
    private var done = false

    init(host: String, port: Int, path: String, apiKey: String, duration: TimeAmount, finished: EventLoopPromise<BenchResult>) {
        (self.host, self.port, self.path, self.apiKey, self.duration, self.finished) = (host, port, path, apiKey, duration, finished)
    }

    func channelActive(context: ChannelHandlerContext) {
        let request = "GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
            + "Authorization: Bearer \(apiKey)\r\n\r\n"
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: request)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var incoming = unwrapInboundIn(data)
        pending.writeBuffer(&incoming)
        if !upgraded {
            guard let end = pending.readableBytesView.firstRange(of: Array("\r\n\r\n".utf8)) else { return }
            let headLength = end.upperBound - pending.readerIndex
            let head = pending.readString(length: headLength) ?? ""
            guard head.hasPrefix("HTTP/1.1 101") else {
                fail(context: context, "upgrade rejected: \(head.prefix(while: { $0 != "\r" }))")
                return
            }
            upgraded = true
            sendCreate(context: context)
        }
        while !done, let (opcode, payload) = nextFrame() {
            handleFrame(opcode: opcode, payload: payload, context: context)
        }
        pending.discardReadBytes()
    }

    /// The next complete frame in `pending` (server frames are unmasked), or nil.
    private func nextFrame() -> (UInt8, ByteBuffer)? {
        let start = pending.readerIndex
        guard pending.readableBytes >= 2, let first = pending.getInteger(at: start, as: UInt8.self),
              let second = pending.getInteger(at: start + 1, as: UInt8.self) else { return nil }
        var headerLength = 2
        var length = Int(second & 0x7F)
        if length == 126 {
            guard let l = pending.getInteger(at: start + 2, as: UInt16.self) else { return nil }
            length = Int(l); headerLength = 4
        } else if length == 127 {
            guard let l = pending.getInteger(at: start + 2, as: UInt64.self) else { return nil }
            length = Int(l); headerLength = 10
        }
        guard pending.readableBytes >= headerLength + length else { return nil }
        pending.moveReaderIndex(forwardBy: headerLength)
        guard let payload = pending.readSlice(length: length) else { return nil }
        return (first & 0x0F, payload)
    }

    private func handleFrame(opcode: UInt8, payload: ByteBuffer, context: ChannelHandlerContext) {
        switch opcode {
        case 0x1:
            if payload.readableBytesView.starts(with: Self.deltaPrefix) {
                if start == nil { start = .now() }  // from the first delta: excludes connect and TTFT
                result.deltas += 1
                result.bytes += payload.readableBytes
            } else if payload.readableBytesView.starts(with: Self.completedPrefix) {
                result.completed += 1
                if let start, NIODeadline.now() - start >= duration {
                    finish()
                } else {
                    sendCreate(context: context)
                }
            }
        case 0x8:
            fail(context: context, "the server closed the connection")
        default:
            break
        }
    }

    /// A masked text frame (clients must mask, RFC 6455 §5.3).
    private func sendCreate(context: ChannelHandlerContext) {
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        var frame = context.channel.allocator.buffer(capacity: Self.create.count + 8)
        frame.writeInteger(UInt8(0x81))
        if Self.create.count <= 125 {
            frame.writeInteger(UInt8(0x80 | Self.create.count))
        } else {
            frame.writeInteger(UInt8(0x80 | 126))
            frame.writeInteger(UInt16(Self.create.count))
        }
        frame.writeBytes(mask)
        for (i, byte) in Self.create.enumerated() { frame.writeInteger(byte ^ mask[i & 3]) }
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func finish() {
        guard !done else { return }
        done = true
        if let start { result.elapsed = .now() - start }
        finished.succeed(result)
    }

    private func fail(context: ChannelHandlerContext, _ message: String) {
        guard !done else { return }
        done = true
        finished.fail(BenchError(message))
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        fail(context: context, "\(error)")
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done { done = true; finished.fail(BenchError("connection closed during the benchmark")) }
        context.fireChannelInactive()
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
