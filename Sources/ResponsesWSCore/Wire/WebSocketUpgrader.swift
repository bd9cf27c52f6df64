import NIOCore
import NIOHTTP1
import NIOWebSocket

/// The client side of the WebSocket upgrade. NIO's `NIOWebSocketClientUpgrader` does the
/// handshake (the `Sec-WebSocket-Key` it sends and the `Sec-WebSocket-Accept` it checks); this
/// wrapper keeps that and changes only what is installed after the 101: NIO's frame encoder for
/// what we send, and `install` (our `WebSocketFrameHandler`, which reads frames itself, see
/// `WebSocketFrameParser`) instead of NIO's decoder.
final class WebSocketUpgrader: NIOHTTPClientProtocolUpgrader, Sendable {
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []
    private let handshake = NIOWebSocketClientUpgrader(upgradePipelineHandler: { channel, _ in
        channel.eventLoop.makeSucceededVoidFuture()   // never called: `upgrade` below replaces it
    })
    private let install: @Sendable (Channel) throws -> Void

    /// `install` adds the handlers that read the connection; it runs on the event loop before
    /// any byte after the 101 is delivered.
    init(install: @escaping @Sendable (Channel) throws -> Void) {
        self.install = install
    }

    func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {
        handshake.addCustom(upgradeRequestHeaders: &upgradeRequestHeaders)
    }

    /// RFC 6455 §4.1: the 101 must also carry `Connection: Upgrade`, which NIO does not check.
    /// Without it the HTTP parser reads bytes that follow the head in the same read as another
    /// response and fails, but accepts the upgrade when they come in a later read (found by fuzzing).
    func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool {
        let connection = upgradeResponse.headers[canonicalForm: "connection"]
        return connection.contains { $0.lowercased() == "upgrade" }
            && handshake.shouldAllowUpgrade(upgradeResponse: upgradeResponse)
    }

    func upgrade(context: ChannelHandlerContext, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<Void> {
        context.eventLoop.makeCompletedFuture {
            try context.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
            try install(context.channel)
        }
    }
}
