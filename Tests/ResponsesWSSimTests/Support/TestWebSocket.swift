import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import ResponsesJSON
import ResponsesWSSim

/// Event loops for the test clients (never the simulator's own group).
let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

struct TestTimeout: Error, CustomStringConvertible {
    var description: String
}

struct UpgradeRejected: Error, CustomStringConvertible {
    var status: Int
    var body: String
    var description: String { "upgrade rejected: HTTP \(status) \(body)" }
}

/// What the test client saw on the socket, in order.
enum Received: Sendable, CustomStringConvertible {
    case text(String)
    case binary([UInt8])
    case pong([UInt8])
    /// A close frame, with its status code (nil when it had none) and reason.
    case close(code: Int?, reason: String)
    /// The TCP connection ended. Preceded by `.close` unless the server dropped it abruptly.
    case closed

    var description: String {
        switch self {
        case .text(let t): return "text(\(t.prefix(200)))"
        case .binary(let b): return "binary(\(b.count))"
        case .pong(let b): return "pong(\(b.count))"
        case .close(let code, let reason): return "close(\(code.map(String.init) ?? "nil"), \(reason))"
        case .closed: return "closed"
        }
    }
}

/// An ordered mailbox with a timed receive, fed from the event loop.
final class Inbox: Sendable {
    private struct State {
        var items: [Received] = []
        var head = 0
        var waiter: CheckedContinuation<Received, Error>?
        var generation = 0
    }

    private let state = NIOLockedValueBox(State())

    func push(_ item: Received) {
        let waiter = state.withLockedValue { s -> CheckedContinuation<Received, Error>? in
            if let w = s.waiter { s.waiter = nil; return w }
            s.items.append(item)
            return nil
        }
        waiter?.resume(returning: item)
    }

    func next(timeout: TimeAmount, on loop: EventLoop) async throws -> Received {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Received, Error>) in
            let generation = state.withLockedValue { s -> Int? in
                if s.head < s.items.count {
                    let item = s.items[s.head]
                    s.head += 1
                    c.resume(returning: item)
                    return nil
                }
                s.generation += 1
                s.waiter = c
                return s.generation
            }
            guard let generation else { return }
            loop.scheduleTask(in: timeout) {
                let expired = self.state.withLockedValue { s -> CheckedContinuation<Received, Error>? in
                    guard s.generation == generation, let w = s.waiter else { return nil }
                    s.waiter = nil
                    return w
                }
                expired?.resume(throwing: TestTimeout(description: "nothing received within \(timeout)"))
            }
        }
    }
}

/// A plain WebSocket client for driving the simulator over loopback: sends frames, and reads
/// what comes back as `Received` values or parsed JSON events.
final class TestWebSocket: Sendable {
    let channel: Channel
    let inbox: Inbox
    /// Only a guard against hangs, generous for a parallel suite on two busy cores.
    static let defaultTimeout = TimeAmount.seconds(60)

    private init(channel: Channel, inbox: Inbox) {
        self.channel = channel
        self.inbox = inbox
    }

    static func connect(
        port: Int, path: String = "/v1/responses",
        headers: [(String, String)] = [("Authorization", "Bearer test-key")]
    ) async throws -> TestWebSocket {
        let loop = clientGroup.next()
        let upgraded = loop.makePromise(of: Void.self)
        let inbox = Inbox()
        let bootstrap = ClientBootstrap(group: loop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let request = UpgradeRequester(port: port, path: path, headers: headers, upgraded: upgraded)
                    let bound = NIOLoopBound(request, eventLoop: channel.eventLoop)
                    let upgrader = NIOWebSocketClientUpgrader(
                        maxFrameSize: 1 << 26,
                        upgradePipelineHandler: { channel, _ in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(NIOWebSocketFrameAggregator(
                                    minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 16, maxAccumulatedFrameSize: 1 << 26))
                                try channel.pipeline.syncOperations.addHandler(FrameCollector(inbox: inbox))
                                upgraded.succeed(())
                            }
                        })
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                            context.pipeline.syncOperations.removeHandler(bound.value, promise: nil)
                        }))
                    try channel.pipeline.syncOperations.addHandler(request)
                }
            }
        let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        do {
            try await upgraded.futureResult.get()
        } catch {
            try? await channel.close()
            throw error
        }
        return TestWebSocket(channel: channel, inbox: inbox)
    }

    // MARK: sending

    func send(_ event: JSONValue) { sendText(event.serializedString) }

    func sendText(_ text: String) {
        var buffer = channel.allocator.buffer(capacity: text.utf8.count)
        buffer.writeString(text)
        write(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: buffer))
    }

    /// Sends `text` as a fragmented message: a text frame then continuation frames.
    func sendFragmented(_ text: String, pieces: Int) {
        let bytes = Array(text.utf8)
        let size = (bytes.count + pieces - 1) / pieces
        var offset = 0
        var first = true
        while offset < bytes.count {
            let end = min(offset + size, bytes.count)
            var buffer = channel.allocator.buffer(capacity: end - offset)
            buffer.writeBytes(bytes[offset..<end])
            write(WebSocketFrame(fin: end == bytes.count, opcode: first ? .text : .continuation, maskKey: .random(), data: buffer))
            first = false
            offset = end
        }
    }

    func sendBinary(_ bytes: [UInt8]) {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        write(WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: buffer))
    }

    func sendPing(_ bytes: [UInt8]) {
        var buffer = channel.allocator.buffer(capacity: bytes.count)
        buffer.writeBytes(bytes)
        write(WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: buffer))
    }

    func sendClose(code: WebSocketErrorCode = .normalClosure) {
        var buffer = channel.allocator.buffer(capacity: 2)
        buffer.write(webSocketErrorCode: code)
        write(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: buffer))
    }

    private func write(_ frame: WebSocketFrame) {
        channel.writeAndFlush(frame, promise: nil)
    }

    func close() async {
        try? await channel.close()
    }

    // MARK: receiving

    func next(timeout: TimeAmount = defaultTimeout) async throws -> Received {
        try await inbox.next(timeout: timeout, on: channel.eventLoop)
    }

    /// The next text frame as JSON; fails on anything else.
    func nextEvent(timeout: TimeAmount = defaultTimeout) async throws -> JSONValue {
        let item = try await next(timeout: timeout)
        guard case .text(let text) = item else { throw TestTimeout(description: "expected a text frame, got \(item)") }
        return try JSONValue.parse(text)
    }

    static let terminalTypes: Set<String> = ["response.completed", "response.failed", "response.incomplete", "error"]

    /// Events up to and including the next terminal event (§4.4).
    func eventsUntilTerminal(timeout: TimeAmount = defaultTimeout) async throws -> [JSONValue] {
        var events: [JSONValue] = []
        while true {
            let event = try await nextEvent(timeout: timeout)
            events.append(event)
            if let type = event["type"]?.stringValue, Self.terminalTypes.contains(type) { return events }
        }
    }

    /// Sends a create and returns its events up to the terminal one.
    func create(_ fields: JSONValue) async throws -> [JSONValue] {
        send(createEvent(fields))
        return try await eventsUntilTerminal()
    }

    /// Reads until the connection ends; returns the close frame's code if one came first
    /// (nil means the server dropped the TCP connection without a close frame).
    func closeCode(timeout: TimeAmount = defaultTimeout) async throws -> (code: Int?, reason: String, events: [JSONValue]) {
        var events: [JSONValue] = []
        var close: (Int?, String)?
        while true {
            switch try await next(timeout: timeout) {
            case .text(let text): events.append(try JSONValue.parse(text))
            case .close(let code, let reason): close = (code, reason)
            case .closed: return (close?.0, close?.1 ?? "", events)
            default: break
            }
        }
    }
}

/// `{"type":"response.create", ...fields}` with `model` defaulted.
func createEvent(_ fields: JSONValue) -> JSONValue {
    var object = JSONObject([("type", "response.create")])
    if case .object(let o) = fields { object.members += o.members }
    if object["model"] == nil { object["model"] = "gpt-sim" }
    return .object(object)
}

private final class UpgradeRequester: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    let port: Int, path: String, headers: [(String, String)]
    let upgraded: EventLoopPromise<Void>
    private var status = 0
    private var body = ""

    init(port: Int, path: String, headers: [(String, String)], upgraded: EventLoopPromise<Void>) {
        (self.port, self.path, self.headers, self.upgraded) = (port, path, headers, upgraded)
    }

    func channelActive(context: ChannelHandlerContext) {
        var h = HTTPHeaders()
        h.add(name: "Host", value: "127.0.0.1:\(port)")
        for (name, value) in headers { h.add(name: name, value: value) }
        context.write(wrapOutboundOut(.head(HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: h))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    // Only reached when the server did not upgrade.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head): status = Int(head.status.code)
        case .body(let buffer): body += String(buffer: buffer)
        case .end:
            upgraded.fail(UpgradeRejected(status: status, body: body))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        upgraded.fail(error)
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        upgraded.fail(UpgradeRejected(status: status, body: body))
        context.fireChannelInactive()
    }
}

private final class FrameCollector: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    let inbox: Inbox
    private var closeSent = false

    init(inbox: Inbox) { self.inbox = inbox }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        var payload = frame.unmaskedData
        switch frame.opcode {
        case .text: inbox.push(.text(String(buffer: payload)))
        case .binary: inbox.push(.binary(Array(payload.readableBytesView)))
        case .pong: inbox.push(.pong(Array(payload.readableBytesView)))
        case .connectionClose:
            let code = payload.readInteger(as: UInt16.self).map(Int.init)
            inbox.push(.close(code: code, reason: String(buffer: payload)))
            if !closeSent {
                closeSent = true
                var reply = context.channel.allocator.buffer(capacity: 2)
                reply.write(webSocketErrorCode: .normalClosure)
                let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: reply)))
                    .whenComplete { _ in bound.value.close(promise: nil) }
            }
        default: break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        inbox.push(.closed)
        context.fireChannelInactive()
    }
}
