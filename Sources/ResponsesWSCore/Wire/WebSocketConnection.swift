import NIOCore
import NIOHTTP1
import NIOWebSocket
import ResponsesDeflate
import ResponsesTLS
import Synchronization

/// Receives a connection's events on its event loop, in order.
public protocol WebSocketConnectionDelegate: AnyObject {
    /// One complete text message (fragments reassembled), without copying.
    func webSocket(_ connection: WebSocketConnection, didReceiveText message: ByteBuffer)
    /// Called exactly once, when the connection is gone (error nil for a clean close we initiated).
    func webSocket(_ connection: WebSocketConnection, didCloseWith error: TransportError?)
}

/// One client WebSocket to a Responses endpoint (§1–§2, §5.7–§5.8).
///
/// `@unchecked Sendable`: all mutable state (the delegate and the frame handler's state) lives on
/// `eventLoop`; the methods usable from other threads (`sendText`, `close`, `abort`) hop there.
public final class WebSocketConnection: @unchecked Sendable {
    /// Unique for the process's life (1, 2, ...): names the connection in stats and tells
    /// connections apart where an object's address could be reused.
    public let id = nextConnectionID.add(1, ordering: .relaxed).newValue
    public let eventLoop: EventLoop
    public let endpoint: Endpoint
    /// When the upgrade completed (for connection-age limits, §5.7).
    public let openedAt: NIODeadline
    /// The 101's `x-request-id`, if the server sent one (§1.3).
    public let requestID: String?
    /// The permessage-deflate agreement, nil when messages are not compressed.
    public let deflate: DeflateParameters?
    /// Set and read on `eventLoop` only.
    public weak var delegate: WebSocketConnectionDelegate? {
        didSet { delegateVersion &+= 1 }
    }
    /// Changes whenever `delegate` is set, so the frame handler knows its loaded copy is stale.
    private(set) var delegateVersion: UInt64 = 0
    private let channel: Channel
    private let handler: WebSocketFrameHandler

    init(channel: Channel, endpoint: Endpoint, handler: WebSocketFrameHandler, openedAt: NIODeadline, requestID: String? = nil,
         deflate: DeflateParameters? = nil) {
        self.channel = channel
        self.requestID = requestID
        self.deflate = deflate
        self.eventLoop = channel.eventLoop
        self.endpoint = endpoint
        self.handler = handler
        self.openedAt = openedAt
    }

    /// Whether messages can still be sent. Event loop only.
    public var isOpen: Bool {
        eventLoop.preconditionInEventLoop()
        return handler.isOpen
    }

    /// Text payload bytes handed to the connection. Event loop only.
    public var bytesSent: UInt64 {
        eventLoop.preconditionInEventLoop()
        return handler.bytesSent
    }

    /// When the socket read that carried the message being delivered happened. Event loop only.
    public var lastReadAt: NIODeadline { handler.lastReadAt }

    /// Text payload bytes delivered to the delegate. Event loop only.
    public var bytesReceived: UInt64 {
        eventLoop.preconditionInEventLoop()
        return handler.bytesReceived
    }

    /// Compressed messages received and sent (permessage-deflate). Event loop only.
    public var compressedMessages: (received: UInt64, sent: UInt64) {
        eventLoop.preconditionInEventLoop()
        return (handler.compressedMessagesReceived, handler.compressedMessagesSent)
    }

    /// Writes one masked text frame (compressed when permessage-deflate was agreed). The future succeeds once the bytes were written to the
    /// socket and fails (with a `TransportError`) if the connection is closing or gone; its
    /// `nothingSent` tells that no byte of the message left.
    /// Callable from any thread.
    public func sendText(_ payload: ByteBuffer) -> EventLoopFuture<Void> {
        if eventLoop.inEventLoop {
            return handler.sendText(payload, eventLoop: eventLoop)
        }
        return eventLoop.flatSubmit { self.handler.sendText(payload, eventLoop: self.eventLoop) }
    }

    /// Starts the close handshake (our close frame, the server's answer, then TCP close; TCP is
    /// closed anyway after `ConnectionConfig.closeTimeout`). Idempotent; the future succeeds when
    /// the connection is closed. Text arriving after this call is not delivered.
    public func close(code: WebSocketErrorCode = .normalClosure) -> EventLoopFuture<Void> {
        if eventLoop.inEventLoop {
            return handler.close(code: code, eventLoop: eventLoop)
        }
        return eventLoop.flatSubmit { self.handler.close(code: code, eventLoop: self.eventLoop) }
    }

    /// Stops (or resumes) reading the socket, for a caller that is behind (max_queued_bytes):
    /// the server is slowed down by TCP, nothing is dropped, and the keepalive does not count
    /// the silence against the peer. Event loop only.
    public func setReadingPaused(_ paused: Bool) {
        eventLoop.preconditionInEventLoop()
        handler.setReadingPaused(paused)
    }

    /// Closes TCP at once (for cancellation). The delegate then hears `.cancelled`, unless a
    /// close was already under way.
    public func abort() {
        if eventLoop.inEventLoop {
            handler.abort()
        } else {
            eventLoop.execute { self.handler.abort() }
        }
    }

    // MARK: - Connecting

    /// Opens a WebSocket to a ws:// or wss:// endpoint: TCP (TCP_NODELAY), TLS, then the HTTP
    /// upgrade with the configured headers, all within `config.connectTimeout`.
    ///
    /// Pass `delegate` to have it in place before the first frame can arrive (otherwise set it
    /// in the future's callback, which runs on `eventLoop` before any frame is delivered).
    public static func connect(
        to endpoint: Endpoint,
        config: ConnectionConfig,
        on eventLoop: EventLoop,
        delegate: WebSocketConnectionDelegate? = nil
    ) -> EventLoopFuture<WebSocketConnection> {
        let handoff = LoopHandoff(value: delegate)
        if eventLoop.inEventLoop {
            return start(endpoint: endpoint, config: config, eventLoop: eventLoop, delegate: handoff.value)
        }
        return eventLoop.flatSubmit {
            start(endpoint: endpoint, config: config, eventLoop: eventLoop, delegate: handoff.value)
        }
    }

    private static func start(
        endpoint: Endpoint,
        config: ConnectionConfig,
        eventLoop: EventLoop,
        delegate: WebSocketConnectionDelegate?
    ) -> EventLoopFuture<WebSocketConnection> {
        guard endpoint.scheme.isWebSocket else {
            return eventLoop.makeFailedFuture(TransportError(.url,
                "\(endpoint.url) is not a WebSocket URL: use ws:// or wss:// (see Endpoint.webSocketURL(baseURL:))"))
        }
        let tls: TLSContext?
        let headers: HTTPHeaders
        do throws(TransportError) {
            tls = try ClientTLS.context(for: endpoint, config: config)
            headers = try RequestHeaders.make(for: endpoint, configured: config.headers)
        } catch {
            return eventLoop.makeFailedFuture(error)
        }
        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: headers)
        let redactor = CredentialRedactor(headers: config.headers)
        let attempt = ConnectAttempt<WebSocketConnection>(
            endpoint: endpoint, tls: tls, timeout: config.connectTimeout, finalPhase: .upgrade, eventLoop: eventLoop,
            lookups: config.lookups, proxies: config.proxies)
        let boundAttempt = NIOLoopBound(attempt, eventLoop: eventLoop)
        let boundDelegate = NIOLoopBound(delegate, eventLoop: eventLoop)
        attempt.connect { channel in
            try addUpgradeHandlers(to: channel, request: request, endpoint: endpoint, tls: tls, config: config,
                                   attempt: boundAttempt.value, delegate: boundDelegate.value, redactor: redactor)
        }
        return attempt.futureResult
    }

    /// The pipeline from the TCP (or TLS) stream to an open WebSocket: the upgrade GET, its
    /// answer, then the frame handler. Internal so that the fuzz harness drives the same one.
    static func addUpgradeHandlers(
        to channel: Channel,
        request: HTTPRequestHead,
        endpoint: Endpoint,
        tls: TLSContext?,
        config: ConnectionConfig,
        attempt: ConnectAttempt<WebSocketConnection>,
        delegate: WebSocketConnectionDelegate?,
        redactor: CredentialRedactor,
        requestKey: String = NIOWebSocketClientUpgrader.randomRequestKey()
    ) throws {
        let eventLoop = channel.eventLoop
        let boundAttempt = NIOLoopBound(attempt, eventLoop: eventLoop)
        let boundDelegate = NIOLoopBound(delegate, eventLoop: eventLoop)
        try channel.pipeline.syncOperations.addHandler(UpgradeEndHold(attempt: attempt))
        let handshake = WebSocketHandshakeHandler(request: request, attempt: attempt, redactor: redactor)
        let boundHandshake = NIOLoopBound(handshake, eventLoop: eventLoop)
        let upgrader = WebSocketUpgrader(requestKey: requestKey, offersDeflate: config.perMessageDeflate,
                                         offersNoContextTakeover: config.deflateOffersClientNoContextTakeover, verdict: { verdict in
            switch verdict {
            case .success: boundAttempt.value.upgradeAccepted()
            case .failure(let refusal): boundAttempt.value.record(refusal)
            }
        }) { channel, head in
            try installFrameHandler(
                channel: channel, head: head, endpoint: endpoint, tls: tls, config: config,
                attempt: boundAttempt.value, delegate: boundDelegate.value)
        }
        try channel.pipeline.syncOperations.addHTTPClientHandlers(
            // Frames sent right behind the 101 must reach the WebSocket decoder.
            leftOverBytesStrategy: .forwardBytes,
            withClientUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.syncOperations.removeHandler(boundHandshake.value, promise: nil)
            }))
        try channel.pipeline.syncOperations.addHandler(handshake)
    }

    private static func installFrameHandler(
        channel: Channel,
        head: HTTPResponseHead,
        endpoint: Endpoint,
        tls: TLSContext?,
        config: ConnectionConfig,
        attempt: ConnectAttempt<WebSocketConnection>,
        delegate: WebSocketConnectionDelegate?
    ) throws {
        guard !attempt.isComplete else { return }  // timed out meanwhile; the channel is closing
        let deflate = config.perMessageDeflate
            ? WebSocketUpgrader.deflateAgreement(head, offeredNoContextTakeover: config.deflateOffersClientNoContextTakeover) : nil
        let handler = try WebSocketFrameHandler(endpoint: endpoint, tls: tls, config: config, deflate: deflate)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.pipeline.syncOperations.addHandler(handler.readGate)
        let connection = WebSocketConnection(channel: channel, endpoint: endpoint, handler: handler, openedAt: config.now(),
                                             requestID: RequestID.from(head.headers), deflate: deflate)
        connection.delegate = delegate
        handler.connection = connection
        attempt.succeed(connection)
    }
}

private let nextConnectionID = Atomic<UInt64>(0)
