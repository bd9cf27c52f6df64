import NIOCore
import NIOHTTP1
import NIOWebSocket
import ResponsesDeflate

/// The client side of the WebSocket upgrade. NIO's `NIOWebSocketClientUpgrader` does the
/// handshake (the `Sec-WebSocket-Key` it sends and the `Sec-WebSocket-Accept` it checks); this
/// wrapper keeps that and changes only what is installed after the 101: NIO's frame encoder for
/// what we send, and `install` (our `WebSocketFrameHandler`, which reads frames itself, see
/// `WebSocketFrameParser`) instead of NIO's decoder. It offers permessage-deflate when asked to
/// and refuses a 101 that names an extension it did not offer, an invalid permessage-deflate
/// agreement, or a subprotocol, since the client offers none (RFC 6455 §4.1, RFC 7692 §5).
final class WebSocketUpgrader: NIOHTTPClientProtocolUpgrader, Sendable {
    let supportedProtocol = "websocket"
    let requiredUpgradeHeaders: [String] = []
    private let handshake: NIOWebSocketClientUpgrader
    private let verdict: @Sendable (Result<Void, TransportError>) -> Void
    private let install: @Sendable (Channel, HTTPResponseHead) throws -> Void
    private let offersDeflate: Bool
    private let offersNoContextTakeover: Bool

    /// `verdict` hears, on the event loop, whether a 101 is taken (success) or refused (the
    /// reason). `install` adds the handlers that read the connection (given the 101's head, for
    /// its x-request-id); it runs on the event loop before any byte after the 101 is delivered.
    /// `requestKey` is random except in the fuzz harness, which needs runs to compare.
    init(requestKey: String = NIOWebSocketClientUpgrader.randomRequestKey(),
         offersDeflate: Bool = false,
         offersNoContextTakeover: Bool = false,
         verdict: @escaping @Sendable (Result<Void, TransportError>) -> Void,
         install: @escaping @Sendable (Channel, HTTPResponseHead) throws -> Void) {
        handshake = NIOWebSocketClientUpgrader(requestKey: requestKey, upgradePipelineHandler: { channel, _ in
            channel.eventLoop.makeSucceededVoidFuture()   // never called: `upgrade` below replaces it
        })
        self.verdict = verdict
        self.install = install
        self.offersDeflate = offersDeflate
        self.offersNoContextTakeover = offersNoContextTakeover
    }

    func addCustom(upgradeRequestHeaders: inout HTTPHeaders) {
        handshake.addCustom(upgradeRequestHeaders: &upgradeRequestHeaders)
        if offersDeflate {
            upgradeRequestHeaders.replaceOrAdd(name: "Sec-WebSocket-Extensions", value: offersNoContextTakeover
                ? DeflateNegotiation.clientOfferWithoutContextTakeover : DeflateNegotiation.clientOffer)
        }
    }

    /// The 101's non-empty `Sec-WebSocket-Extensions` values.
    static func extensionValues(_ head: HTTPResponseHead) -> [String] {
        head.headers["Sec-WebSocket-Extensions"].filter { !$0.allSatisfy(\.isWhitespace) }
    }

    /// What the 101 agreed on (nil: no compression). Only called for a 101 that
    /// `shouldAllowUpgrade` took, whose agreement was checked there.
    static func deflateAgreement(_ head: HTTPResponseHead, offeredNoContextTakeover: Bool) -> DeflateParameters? {
        guard var agreed = try? DeflateNegotiation.acceptAnswer(extensionValues(head)) else { return nil }
        if offeredNoContextTakeover { agreed.clientNoContextTakeover = true }   // our promise holds either way
        return agreed
    }

    /// RFC 6455 §4.1: the 101 must also carry `Connection: Upgrade`, which NIO does not check.
    /// Without it the HTTP parser reads bytes that follow the head in the same read as another
    /// response and fails, but accepts the upgrade when they come in a later read (found by fuzzing).
    func shouldAllowUpgrade(upgradeResponse: HTTPResponseHead) -> Bool {
        let connection = upgradeResponse.headers[canonicalForm: "connection"]
        guard connection.contains(where: { $0.lowercased() == "upgrade" }),
              handshake.shouldAllowUpgrade(upgradeResponse: upgradeResponse) else { return false }
        let extensions = Self.extensionValues(upgradeResponse)
        if offersDeflate && !extensions.isEmpty {
            do throws(DeflateNegotiationError) {
                _ = try DeflateNegotiation.acceptAnswer(extensions)
            } catch {
                verdict(.failure(TransportError(.protocolViolation,
                    "the server accepted the WebSocket upgrade with 'Sec-WebSocket-Extensions: \(extensions.joined(separator: ", "))', "
                    + "which is not a valid answer to the permessage-deflate offer: \(error) (RFC 7692 §7.1): nothing was sent")))
                return false
            }
        }
        for name in offersDeflate ? ["Sec-WebSocket-Protocol"] : ["Sec-WebSocket-Extensions", "Sec-WebSocket-Protocol"] {
            let values = upgradeResponse.headers[name].filter { !$0.allSatisfy(\.isWhitespace) }
            if !values.isEmpty {
                verdict(.failure(TransportError(.protocolViolation,
                    "the server accepted the WebSocket upgrade with '\(name): \(values.joined(separator: ", "))', "
                    + "which the client never offered (RFC 6455 §4.1): nothing was sent")))
                return false
            }
        }
        verdict(.success(()))
        return true
    }

    func upgrade(context: ChannelHandlerContext, upgradeResponse: HTTPResponseHead) -> EventLoopFuture<Void> {
        context.eventLoop.makeCompletedFuture {
            try context.pipeline.syncOperations.addHandler(WebSocketFrameEncoder())
            try install(context.channel, upgradeResponse)
        }
    }
}
