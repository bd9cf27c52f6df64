import NIOCore
import NIOPosix
import ResponsesTLS

/// One connection set-up in flight — TCP connect, TLS handshake, then the WebSocket upgrade or
/// sending the HTTP request — under a single deadline. Completes exactly once; failing closes
/// the channel. Loop-confined (shared with `@Sendable` NIO callbacks through `NIOLoopBound`).
final class ConnectAttempt<Value: Sendable> {
    enum Phase {
        case tcp, tls, upgrade, request
    }

    let endpoint: Endpoint
    let eventLoop: EventLoop
    let tls: TLSContext?
    private let timeout: TimeAmount
    private let finalPhase: Phase
    private let lookups: HostLookups?
    private let promise: EventLoopPromise<Value>
    private var deadline: Scheduled<Void>?
    private(set) var phase: Phase = .tcp
    private(set) var isComplete = false
    /// A 101 was taken and the WebSocket handlers are being installed: what arrived behind it,
    /// and the end of the connection, now belong to the frame handler.
    private(set) var isUpgrading = false
    /// Set by the channel initializer, so a timeout or failure can close it.
    var channel: Channel?
    /// The first error a handler saw; reported if the channel closes before the attempt completes.
    private var recordedError: TransportError?

    init(endpoint: Endpoint, tls: TLSContext?, timeout: TimeAmount, finalPhase: Phase, eventLoop: EventLoop,
         lookups: HostLookups? = nil) {
        self.lookups = lookups
        self.endpoint = endpoint
        self.tls = tls
        self.timeout = timeout
        self.finalPhase = finalPhase
        self.eventLoop = eventLoop
        self.promise = eventLoop.makePromise(of: Value.self)
        eventLoop.preconditionInEventLoop()
        deadline = eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            fail(timeoutError())
        }
    }

    var futureResult: EventLoopFuture<Value> { promise.futureResult }

    func tcpConnected() {
        if phase == .tcp { phase = tls == nil ? finalPhase : .tls }
    }

    func tlsHandshakeCompleted() {
        if phase == .tcp || phase == .tls { phase = finalPhase }
    }

    func upgradeAccepted() {
        isUpgrading = true
    }

    func record(_ error: TransportError) {
        if recordedError == nil { recordedError = error }
    }

    func succeed(_ value: Value) {
        guard !isComplete else { return }
        isComplete = true
        deadline?.cancel()
        promise.succeed(value)
    }

    func fail(_ error: TransportError) {
        guard !isComplete else { return }
        isComplete = true
        deadline?.cancel()
        // Report first: closing runs channelInactive handlers synchronously.
        promise.fail(error)
        channel?.close(promise: nil)
    }

    /// The channel closed early: report what a handler saw, or `fallback`.
    func failWithRecordedError(fallback: @autoclosure () -> TransportError) {
        fail(recordedError ?? fallback())
    }

    private func timeoutError() -> TransportError {
        let after = TransportErrorMapping.describe(timeout)
        switch phase {
        case .tcp:
            return TransportError(.timeout, "TCP connect to \(endpoint.hostAndPort) timed out after \(after)")
        case .tls:
            return TransportError(.timeout, "TLS handshake with \(endpoint.hostAndPort) timed out after \(after)")
        case .upgrade:
            return TransportError(.timeout, "no answer to the WebSocket upgrade from \(endpoint.hostAndPort) within \(after)")
        case .request:
            return TransportError(.timeout, "could not send the request to \(endpoint.hostAndPort) within \(after)")
        }
    }

    /// Connects TCP (TCP_NODELAY) to the endpoint, adds the TLS handler if needed, then
    /// `initialize`s the rest of the pipeline. DNS, connect and TLS set-up failures fail the attempt.
    func connect(initialize: @escaping @Sendable (Channel) throws -> Void) {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let endpoint = self.endpoint
        let tls = self.tls
        var bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    bound.value.channel = channel
                    if let tls {
                        let handler = try tls.makeClientHandler(serverHostname: endpoint.host)
                        try channel.pipeline.syncOperations.addHandler(handler)
                    }
                    try initialize(channel)
                }
            }
        if let lookups { bootstrap = bootstrap.resolver(lookups.resolver(on: eventLoop)) }
        // An IP literal is connected to directly: NIO's connect(host:port:) would first hop to
        // a Dispatch queue for getaddrinfo (and run Happy Eyeballs), which a busy process can
        // hold up while the deadline, armed above, keeps running.
        let connected: EventLoopFuture<Channel>
        if let address = try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port) {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: endpoint.host, port: endpoint.port)
        }
        connected.whenComplete { result in
            let attempt = bound.value
            switch result {
            case .success:
                attempt.tcpConnected()
            case .failure(let error):
                attempt.fail(TransportErrorMapping.connectFailure(error, endpoint: endpoint, tls: tls))
            }
        }
    }
}

/// The TLS context for an endpoint: nil for ws/http, the configured one, or a shared default.
enum ClientTLS {
    /// Loading the system trust store takes milliseconds, so the default context is made once
    /// (and reads `SSL_CERT_FILE` then).
    private static let shared: Result<TLSContext, TLSError> = Result { () throws(TLSError) in
        try TLSContext.client(caFile: nil, verifyPeer: true)
    }

    static func context(for endpoint: Endpoint, config: ConnectionConfig) throws(TransportError) -> TLSContext? {
        guard endpoint.isTLS else { return nil }
        if let configured = config.tls {
            guard configured.role == .client else {
                throw TransportError(.configuration, "ConnectionConfig.tls must be a client TLSContext")
            }
            return configured
        }
        switch shared {
        case .success(let context): return context
        case .failure(let error): throw TransportErrorMapping.tlsFailure(error, endpoint: endpoint, tls: nil)
        }
    }
}

/// Carries a loop-confined value (a delegate) to its event loop.
/// `@unchecked Sendable`: the value is handed over once and used only on that loop afterwards.
struct LoopHandoff<Value>: @unchecked Sendable {
    let value: Value
}
