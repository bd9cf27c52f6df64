import NIOCore
import NIOWebSocket
import ResponsesDeflate
import ResponsesTLS

/// The open WebSocket's protocol logic, after the upgrade: delivers text messages, answers pings
/// (§5.7), runs the keepalive, performs the close handshake (§5.8) and turns every way the
/// connection can end into exactly one `didCloseWith` call. Loop-confined; the public
/// `WebSocketConnection` calls into it on the event loop.
final class WebSocketFrameHandler: ChannelInboundHandler {
    /// The socket's bytes: framing is read here (WebSocketFrameParser says why); what we send
    /// goes out as frames through NIO's encoder.
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = WebSocketFrame

    enum State {
        case open
        /// We sent a close frame and wait for the server's.
        case closingByUs
        /// We are closing because the server closed or broke the protocol.
        case closingByPeer
        case closed
    }

    private(set) var state: State = .open
    /// How the connection ended, once known: `.some(nil)` for a clean close we initiated.
    private var outcome: TransportError??
    /// Strong until the close was reported, so the delegate hears it even if the owner let go.
    var connection: WebSocketConnection?
    private var context: ChannelHandlerContext?
    private let endpoint: Endpoint
    private let tls: TLSContext?
    private let config: ConnectionConfig
    private var keepalive: KeepalivePolicy?
    private var keepaliveCheck: Scheduled<Void>?
    private var closeTimeout: Scheduled<Void>?
    private(set) var bytesSent: UInt64 = 0
    private(set) var bytesReceived: UInt64 = 0
    /// When the bytes being delivered were read: one clock read per socket read, not per message.
    private(set) var lastReadAt = NIODeadline.uptimeNanoseconds(0)
    private var parser: WebSocketFrameParser
    /// Compresses what we send, when permessage-deflate was agreed.
    private let deflater: MessageDeflater?
    private(set) var compressedMessagesSent: UInt64 = 0
    var compressedMessagesReceived: UInt64 { parser.compressedMessages }
    /// Withholds socket reads while the reader is behind (`setReadingPaused`).
    let readGate = ReadGate()

    /// The connection's delegate as loaded for one read: a weak load per message, and the release
    /// of what it returned, cost about a tenth of the client's time per event. A local of
    /// `channelRead`, passed down inout, so that calling it costs no retain either.
    private struct ReadDelegate {
        var delegate: (any WebSocketConnectionDelegate)?
        var version: UInt64 = 0

        /// The current delegate, reloaded only when the connection's was replaced (mid-read too).
        @inline(__always) mutating func refresh(from connection: WebSocketConnection) {
            if delegate == nil || version != connection.delegateVersion {
                delegate = connection.delegate
                version = connection.delegateVersion
            }
        }
    }

    init(endpoint: Endpoint, tls: TLSContext?, config: ConnectionConfig, deflate: DeflateParameters? = nil) throws {
        self.endpoint = endpoint
        self.tls = tls
        self.config = config
        if let deflate {
            // Each side's window and context takeover, as the server answered (RFC 7692 §7.1).
            deflater = try MessageDeflater(windowBits: deflate.clientMaxWindowBits, noContextTakeover: deflate.clientNoContextTakeover)
            parser = WebSocketFrameParser(maxMessageBytes: config.maxMessageBytes,
                                          inflater: try MessageInflater(noContextTakeover: deflate.serverNoContextTakeover))
        } else {
            deflater = nil
            parser = WebSocketFrameParser(maxMessageBytes: config.maxMessageBytes)
        }
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if let interval = config.pingInterval {
            let policy = KeepalivePolicy(interval: interval, now: .now())
            keepalive = policy
            scheduleKeepaliveCheck(at: policy.firstCheck)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        // Removed by the closed channel's teardown without having seen the end: the connection
        // closed while NIO was still switching the pipeline to WebSocket (UpgradeEndHold).
        if !context.channel.isActive { connectionEnded() }
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        connectionEnded()
        context.fireChannelInactive()
    }

    /// Reports how the connection ended, once.
    private func connectionEnded() {
        guard state != .closed else { return }
        state = .closed
        keepaliveCheck?.cancel()
        closeTimeout?.cancel()
        let result: TransportError?
        switch outcome {
        case .some(let known):
            result = known
        case .none:
            result = TransportError(.closed,
                "connection to \(endpoint.hostAndPort) dropped without a WebSocket close (1006)", closeCode: 1006)
        }
        if let connection {
            self.connection = nil
            connection.delegate?.webSocket(connection, didCloseWith: result)
        }
    }

    // MARK: - Inbound messages

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard isReading else { return }
        let now = NIODeadline.now()
        lastReadAt = now
        keepalive?.frameReceived(at: now)   // any byte proves liveness
        var delegate = ReadDelegate()
        do throws(WebSocketFrameParser.Violation) {
            try parser.feed(unwrapInboundIn(data), allocator: context.channel.allocator) { message in
                handle(message, delegate: &delegate, context: context)
                return isReading
            }
        } catch {
            switch error {
            case .tooBig:
                closeOnError(TransportError(.messageTooBig,
                    "\(endpoint.hostAndPort) sent a WebSocket message larger than maxMessageBytes "
                    + "(\(TransportErrorMapping.describeBytes(config.maxMessageBytes)))", closeCode: 1009),
                    code: .messageTooLarge)
            case .framing(let what):
                closeOnError(TransportError(.protocolViolation,
                    "\(endpoint.hostAndPort) broke WebSocket framing: it sent \(what)", closeCode: 1002), code: .protocolError)
            case .invalidUTF8(let what):
                closeOnError(TransportError(.protocolViolation,
                    "\(endpoint.hostAndPort) broke the WebSocket protocol: it sent \(what)", closeCode: 1007),
                    code: .dataInconsistentWithMessage)
            }
        }
    }

    private func handle(_ message: WebSocketFrameParser.Message, delegate: inout ReadDelegate, context: ChannelHandlerContext) {
        switch message {
        case .text(let text):
            guard state == .open else { return }  // the caller closed: it wants no more messages
            bytesReceived &+= UInt64(text.readableBytes)
            guard let connection else { return }
            delegate.refresh(from: connection)
            delegate.delegate?.webSocket(connection, didReceiveText: text)
        case .binary:
            closeOnError(TransportError(.protocolViolation,
                "\(endpoint.hostAndPort) sent a binary WebSocket frame; the Responses API sends only text frames (docs/PROTOCOL.md §2.2)",
                closeCode: 1003), code: .unacceptableData)
        case .ping(let payload):
            guard isReading else { return }
            let pong = WebSocketFrame(fin: true, opcode: .pong, maskKey: .random(), data: payload)
            context.writeAndFlush(wrapOutboundOut(pong), promise: nil)
        case .pong:
            break  // liveness was recorded when the bytes arrived
        case .close(let code, let reason):
            peerClosed(code: code, reason: reason, context: context)
        }
    }

    private func peerClosed(code: UInt16?, reason reasonBytes: ByteBuffer, context: ChannelHandlerContext) {
        switch state {
        case .open:
            let reason = String(buffer: reasonBytes)
            let described = code.map(TransportErrorMapping.describeCloseCode) ?? "no status code"
            let suffix = reason.isEmpty ? "" : ": \(reason)"
            outcome = .some(TransportError(.closed,
                "\(endpoint.hostAndPort) closed the WebSocket with \(described)\(suffix)", closeCode: code ?? 1005))
            state = .closingByPeer
            // Echo the close code (RFC 6455 §5.5.1; the parser refused codes no endpoint may
            // send), then close TCP once it is written.
            var echo = context.channel.allocator.buffer(capacity: 2)
            if let code { echo.writeInteger(code) }
            writeCloseFrame(echo, context: context, thenCloseTCP: true)
        case .closingByUs, .closingByPeer:
            context.close(promise: nil)  // the answer to our close frame
        case .closed:
            break
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        recordOutcome(TransportErrorMapping.connectionFailure(error, endpoint: endpoint, tls: tls))
        context.close(promise: nil)
    }

    // MARK: - Operations for WebSocketConnection (on the event loop)

    var isOpen: Bool { state == .open }

    /// Whether frames from the peer are still read: not once the peer closed or broke the
    /// protocol (TCP is being closed then), nor after the close.
    private var isReading: Bool { state == .open || state == .closingByUs }

    func sendText(_ payload: ByteBuffer, eventLoop: EventLoop) -> EventLoopFuture<Void> {
        // Not open, or TCP already gone (the server closed right behind its 101, and the frames
        // that came with it are still to be read): nothing is written.
        guard state == .open, let context, context.channel.isActive else {
            var error = notOpenError()
            error.nothingSent = true
            return eventLoop.makeFailedFuture(error)
        }
        let frame: WebSocketFrame
        if let deflater {
            compressedMessagesSent &+= 1
            let compressed = deflater.compress(payload, allocator: context.channel.allocator)
            frame = WebSocketFrame(fin: true, rsv1: true, opcode: .text, maskKey: .random(), data: compressed)
        } else {
            frame = WebSocketFrame(fin: true, opcode: .text, maskKey: .random(), data: payload)
        }
        let promise = eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(frame), promise: promise)
        bytesSent &+= UInt64(payload.readableBytes)
        return promise.futureResult.assumeIsolated().flatMapErrorThrowing { [self] failure in
            var error = notOpenError()
            error.nothingSent = failure as? ChannelError == .ioOnClosedChannel
            throw error
        }.nonisolated()
    }

    func close(code: WebSocketErrorCode, eventLoop: EventLoop) -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeSucceededVoidFuture() }
        let closed = context.channel.closeFuture
        guard state == .open else { return closed }
        state = .closingByUs
        recordOutcome(nil)
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.write(webSocketErrorCode: code)
        writeCloseFrame(payload, context: context, thenCloseTCP: false)
        closeTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: config.closeTimeout) { [self] in
            self.context?.close(promise: nil)  // the server never answered our close frame
        }
        return closed
    }

    func abort() {
        guard state != .closed, let context else { return }
        recordOutcome(TransportError(.cancelled, "connection to \(endpoint.hostAndPort) aborted by the client"))
        context.close(promise: nil)
    }

    // MARK: - Helpers

    /// Keeps the first outcome: later events (e.g. the TCP close after a close frame) don't override it.
    private func recordOutcome(_ error: TransportError?) {
        if outcome == nil { outcome = .some(error) }
    }

    private func notOpenError() -> TransportError {
        if case .some(.some(let error)) = outcome { return error }
        return TransportError(.closed, "the WebSocket connection to \(endpoint.hostAndPort) is closed")
    }

    /// Reports `error`, sends a close frame with `code` and closes TCP once it is written.
    private func closeOnError(_ error: TransportError, code: WebSocketErrorCode) {
        guard let context else { return }
        recordOutcome(error)
        guard state == .open else {
            context.close(promise: nil)
            return
        }
        state = .closingByPeer
        var payload = context.channel.allocator.buffer(capacity: 2)
        payload.write(webSocketErrorCode: code)
        writeCloseFrame(payload, context: context, thenCloseTCP: true)
    }

    private func writeCloseFrame(_ payload: ByteBuffer, context: ChannelHandlerContext, thenCloseTCP: Bool) {
        let frame = WebSocketFrame(fin: true, opcode: .connectionClose, maskKey: .random(), data: payload)
        guard thenCloseTCP else {
            context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
            return
        }
        context.writeAndFlush(wrapOutboundOut(frame)).assumeIsolated().whenComplete { [self] _ in
            self.context?.close(promise: nil)
        }
    }

    func setReadingPaused(_ paused: Bool) {
        if paused { readGate.pause() } else { readGate.resume() }
        // Unread frames may hold the pong: the silence while paused says nothing about the peer.
        keepalive?.restart(at: .now())
    }

    private func scheduleKeepaliveCheck(at deadline: NIODeadline) {
        guard let context else { return }
        keepaliveCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            runKeepaliveCheck()
        }
    }

    private func runKeepaliveCheck() {
        guard isReading, var policy = keepalive, let context else { return }
        if readGate.isPaused { policy.restart(at: .now()) }
        let action = policy.check(now: .now())
        keepalive = policy
        switch action {
        case .checkAgainAt(let deadline):
            scheduleKeepaliveCheck(at: deadline)
        case .sendPing(let deadline):
            let ping = WebSocketFrame(fin: true, opcode: .ping, maskKey: .random(), data: context.channel.allocator.buffer(capacity: 0))
            context.writeAndFlush(wrapOutboundOut(ping), promise: nil)
            scheduleKeepaliveCheck(at: deadline)
        case .peerIsDead:
            let interval = TransportErrorMapping.describe(policy.interval)
            recordOutcome(TransportError(.timeout,
                "no pong or other frame from \(endpoint.hostAndPort) within \(interval) of a keepalive ping: the connection is dead"))
            context.close(promise: nil)
        }
    }
}

@available(*, unavailable)
extension WebSocketFrameHandler: Sendable {}
