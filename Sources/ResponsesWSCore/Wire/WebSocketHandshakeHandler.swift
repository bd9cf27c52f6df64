import NIOCore
import NIOHTTP1
import ResponsesTLS

/// Sends the upgrade GET (§1.2) and, when the server answers anything but a valid 101, turns the
/// answer into a `TransportError` (§1.3): status plus up to 4 KiB of body. NIO's upgrade handler
/// in front of it adds the `Upgrade`/`Sec-WebSocket-*` headers and performs a successful upgrade,
/// after which this handler is removed.
final class WebSocketHandshakeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    private let attempt: ConnectAttempt<WebSocketConnection>
    private let redactor: CredentialRedactor
    private var requestSent = false
    /// A non-upgrade answer being read.
    private var refusal: (head: HTTPResponseHead, body: ByteBuffer)?

    init(request: HTTPRequestHead, attempt: ConnectAttempt<WebSocketConnection>, redactor: CredentialRedactor) {
        self.request = request
        self.attempt = attempt
        self.redactor = redactor
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendRequest(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendRequest(context: context)
        context.fireChannelActive()
    }

    /// Written at once; the TLS handler holds it until its handshake completes.
    private func sendRequest(context: ChannelHandlerContext) {
        guard !requestSent else { return }
        requestSent = true
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { attempt.tlsHandshakeCompleted() }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            refusal = (head, context.channel.allocator.buffer(capacity: 0))
        case .body(var chunk):
            guard var current = refusal else { return }
            refusal = nil  // keep the body uniquely referenced while appending
            let room = TransportError.maxBodyBytes - current.body.readableBytes
            if let slice = chunk.readSlice(length: min(room, chunk.readableBytes)) {
                current.body.writeImmutableBuffer(slice)
            }
            refusal = current
            if current.body.readableBytes >= TransportError.maxBodyBytes {
                reportRefusal()  // enough to explain; don't wait for a large body
            }
        case .end:
            reportRefusal()
        }
    }

    private func reportRefusal() {
        guard let refusal else { return }
        if refusal.head.status == .switchingProtocols {
            // NIO's upgrader rejected the 101 (bad Sec-WebSocket-Accept or Upgrade header) and
            // reported why through errorCaught.
            attempt.failWithRecordedError(fallback: TransportError(.protocolViolation,
                "\(attempt.endpoint.hostAndPort) answered 101 without a valid WebSocket upgrade"))
            return
        }
        attempt.fail(TransportErrorMapping.httpFailure(
            status: refusal.head.status, headers: refusal.head.headers, body: refusal.body,
            endpoint: attempt.endpoint, isUpgrade: true, redactor: redactor))
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        attempt.record(TransportErrorMapping.connectionFailure(error, endpoint: attempt.endpoint, tls: attempt.tls))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if refusal != nil {
            reportRefusal()  // a body delimited by the connection's end
        } else {
            attempt.failWithRecordedError(fallback: TransportError(.closed,
                "\(attempt.endpoint.hostAndPort) closed the connection without answering the WebSocket upgrade"))
        }
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension WebSocketHandshakeHandler: Sendable {}

/// Holds back the end of the connection while NIO switches the pipeline from HTTP to WebSocket.
///
/// A server may write its 101, a few frames and a close in one segment and drop TCP at once. NIO
/// can read the EOF before it has finished switching the pipeline (the HTTP decoder's removal
/// completes a loop turn later). If the end went through then, the HTTP decoder would drop the
/// bytes behind the 101 and the handshake handler would report an unanswered upgrade. Placed in
/// front of the HTTP handlers, this keeps the end from them while the upgrade is under way. The
/// switch completes in the task NIO queued before the close (event-loop tasks run in order), so
/// the frame handler reads the buffered frames, and then reports the end when the closed
/// channel's teardown removes it.
final class UpgradeEndHold: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let attempt: ConnectAttempt<WebSocketConnection>
    private var held = false

    init(attempt: ConnectAttempt<WebSocketConnection>) {
        self.attempt = attempt
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Once connected, and unless it holds the end, it leaves the pipeline: reads then go
        // straight to the frame handler.
        let bound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        attempt.futureResult.whenSuccess { _ in
            let (hold, context) = bound.value
            if !hold.held { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if attempt.isUpgrading && !attempt.isComplete {
            held = true
        } else {
            context.fireChannelInactive()
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Torn down with the upgrade still unfinished (its handlers could not be installed).
        if held && !attempt.isComplete {
            attempt.failWithRecordedError(fallback: TransportError(.closed,
                "\(attempt.endpoint.hostAndPort) closed the connection during the WebSocket upgrade"))
        }
    }
}
