import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A bare NIO WebSocket client for `rws bench`: the baseline the library's overhead is measured
/// against. It sends a frame and completes a promise when a reply matching a predicate (or a
/// pong) arrives — no parsing, no library code on the path.
final class RawWebSocket: @unchecked Sendable {   // `waiter` is only touched on the channel's loop
    let channel: Channel
    private let handler: ReplyHandler

    private init(channel: Channel, handler: ReplyHandler) {
        self.channel = channel
        self.handler = handler
    }

    static func connect(host: String, port: Int, path: String, group: EventLoopGroup) throws -> RawWebSocket {
        let upgraded = group.next().makePromise(of: Void.self)
        let handler = ReplyHandler()
        let bootstrap = ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let upgrader = NIOWebSocketClientUpgrader(maxFrameSize: 1 << 26) { channel, _ in
                        channel.eventLoop.makeCompletedFuture {
                            try channel.pipeline.syncOperations.addHandler(handler)
                            upgraded.succeed(())
                        }
                    }
                    var headers = HTTPHeaders()
                    headers.add(name: "Host", value: "\(host):\(port)")
                    headers.add(name: "Authorization", value: "Bearer sk-bench")
                    let request = UpgradeRequestWriter(path: path, headers: headers)
                    try channel.pipeline.syncOperations.addHTTPClientHandlers(
                        withClientUpgrade: (upgraders: [upgrader], completionHandler: { _ in }))
                    try channel.pipeline.syncOperations.addHandler(request)
                }
            }
        let channel = try bootstrap.connect(host: host, port: port).wait()
        try upgraded.futureResult.wait()
        return RawWebSocket(channel: channel, handler: handler)
    }

    /// Sends `text` and waits until a text frame containing `marker` arrives: one hop to the
    /// loop and one wait, the least a client with its own I/O thread can do.
    func roundTrip(text: ByteBuffer, until marker: [UInt8]) throws {
        try exchange(WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: text), expecting: .text(marker))
    }

    /// Sends a ping and waits for its pong.
    func ping() throws {
        try exchange(WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: ByteBuffer(string: "bench")), expecting: .pong)
    }

    private func exchange(_ frame: WebSocketFrame, expecting expectation: ReplyHandler.Expectation) throws {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        let handler = self.handler
        let channel = self.channel
        channel.eventLoop.execute {
            handler.expect(expectation, promise)
            channel.writeAndFlush(frame, promise: nil)
        }
        try promise.futureResult.wait()
    }

    func close() {
        try? channel.close().wait()
    }
}

private final class UpgradeRequestWriter: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart
    let path: String
    let headers: HTTPHeaders
    init(path: String, headers: HTTPHeaders) { self.path = path; self.headers = headers }
    func channelActive(context: ChannelHandlerContext) {
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: path, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }
}

private final class ReplyHandler: ChannelInboundHandler, @unchecked Sendable {   // loop-confined
    typealias InboundIn = WebSocketFrame
    enum Expectation { case text([UInt8]), pong }
    private var waiting: (Expectation, EventLoopPromise<Void>)?

    func expect(_ e: Expectation, _ promise: EventLoopPromise<Void>) { waiting = (e, promise) }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard let (expectation, promise) = waiting else { return }
        switch (expectation, frame.opcode) {
        case (.pong, .pong):
            waiting = nil
            promise.succeed(())
        case (.text(let marker), .text):
            let found = frame.unmaskedData.withUnsafeReadableBytes { raw in
                contains(raw, marker)
            }
            if found {
                waiting = nil
                promise.succeed(())
            }
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        waiting?.1.fail(ChannelError.eof)
        waiting = nil
    }

    private func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        guard needle.count <= haystack.count else { return false }
        outer: for i in 0...(haystack.count - needle.count) {
            for j in 0..<needle.count where haystack[i + j] != needle[j] { continue outer }
            return true
        }
        return false
    }
}
