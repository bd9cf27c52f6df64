import NIOCore
import NIOPosix
import ResponsesTLS

/// One connection set-up in flight — TCP connect, the proxy tunnel if one is configured, TLS
/// handshake, then the WebSocket upgrade or sending the HTTP request — under a single deadline. Completes exactly once; failing closes
/// the channel. Loop-confined (shared with `@Sendable` NIO callbacks through `NIOLoopBound`).
final class ConnectAttempt<Value: Sendable> {
    enum Phase {
        case tcp, proxy, tls, upgrade, request
    }

    let endpoint: Endpoint
    let eventLoop: EventLoop
    let tls: TLSContext?
    private let timeout: TimeAmount
    private let finalPhase: Phase
    private let lookups: HostLookups?
    /// The proxy this connection goes through (nil: direct), and where it was configured.
    let proxy: Proxy?
    private let proxySource: String
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
         lookups: HostLookups? = nil, proxies: ProxySettings = .none) {
        self.lookups = lookups
        self.proxy = proxies.route(for: endpoint)
        self.proxySource = proxies.source(for: endpoint) ?? "proxy"
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
        if phase == .tcp { phase = proxy != nil ? .proxy : tls == nil ? finalPhase : .tls }
    }

    func tunnelEstablished() {
        if phase == .tcp || phase == .proxy { phase = tls == nil ? finalPhase : .tls }
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
            if let proxy {
                return TransportError(.proxy, "TCP connect to the proxy \(proxy) (from \(proxySource)) timed out after \(after); the connection is not made directly instead")
            }
            return TransportError(.timeout, "TCP connect to \(endpoint.hostAndPort) timed out after \(after)")
        case .proxy:
            return TransportError(.proxy, "the proxy \(proxy.map(String.init(describing:)) ?? "?") (from \(proxySource)) did not open a tunnel to \(endpoint.hostAndPort) within \(after)")
        case .tls:
            return TransportError(.timeout, "TLS handshake with \(endpoint.hostAndPort) timed out after \(after)")
        case .upgrade:
            return TransportError(.timeout, "no answer to the WebSocket upgrade from \(endpoint.hostAndPort) within \(after)")
        case .request:
            return TransportError(.timeout, "could not send the request to \(endpoint.hostAndPort) within \(after)")
        }
    }

    /// Connects TCP (TCP_NODELAY) to the endpoint or its proxy, opens the proxy's tunnel, adds
    /// the TLS handler if needed, then `initialize`s the rest of the pipeline. DNS, connect,
    /// tunnel and TLS set-up failures fail the attempt.
    func connect(initialize: @escaping @Sendable (Channel) throws -> Void) {
        guard let proxy, proxy.kind == .socks5, (try? SocketAddress(ipAddress: endpoint.host, port: endpoint.port)) == nil else {
            return connect(resolved: nil, initialize: initialize)
        }
        // socks5:// (not socks5h://): the destination's name is resolved here, as curl does.
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let endpoint = self.endpoint
        let resolver = (lookups ?? HostLookups()).resolver(on: eventLoop)
        let v6 = resolver.initiateAAAAQuery(host: endpoint.host, port: endpoint.port)
        let v4 = resolver.initiateAQuery(host: endpoint.host, port: endpoint.port)
        v4.and(v6).whenComplete { result in
            let attempt = bound.value
            guard !attempt.isComplete else { return }
            switch result {
            case .success(let (v4, v6)) where !(v4.isEmpty && v6.isEmpty):
                attempt.connect(resolved: v4.first ?? v6.first, initialize: initialize)
            case .success:
                attempt.fail(TransportError(.dns, "cannot resolve host '\(endpoint.host)' (to send its address to the SOCKS5 proxy \(proxy)): check the host name, or use socks5h:// to let the proxy resolve it"))
            case .failure(let error):
                attempt.fail(error as? TransportError ?? TransportError(.dns, "cannot resolve host '\(endpoint.host)' (to send its address to the SOCKS5 proxy \(proxy)): check the host name, or use socks5h:// to let the proxy resolve it"))
            }
        }
    }

    private func connect(resolved: SocketAddress?, initialize: @escaping @Sendable (Channel) throws -> Void) {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        let endpoint = self.endpoint
        let tls = self.tls
        let proxy = self.proxy
        let proxySource = self.proxySource
        var bootstrap = ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(timeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    bound.value.channel = channel
                    guard let proxy else {
                        return try Self.install(on: channel, endpoint: endpoint, tls: tls, initialize: initialize)
                    }
                    try ProxyTunnel.add(to: channel, proxy: proxy, source: proxySource, destination: endpoint, resolved: resolved,
                        established: { channel in
                            let attempt = bound.value
                            guard !attempt.isComplete else { return }
                            attempt.tunnelEstablished()
                            do {
                                if ProcessEnvironment.quickAckThroughProxies {
                                    try channel.pipeline.syncOperations.addHandler(QuickAckHandler(), position: .first)
                                }
                                try Self.install(on: channel, endpoint: endpoint, tls: tls, initialize: initialize)
                            } catch {
                                attempt.fail(TransportErrorMapping.connectFailure(error, endpoint: endpoint, tls: tls))
                            }
                        },
                        failed: { error in bound.value.fail(error) })
                }
            }
        if let lookups { bootstrap = bootstrap.resolver(lookups.resolver(on: eventLoop)) }
        let host = proxy?.host ?? endpoint.host
        let port = proxy?.port ?? endpoint.port
        // An IP literal is connected to directly: NIO's connect(host:port:) would first hop to
        // a Dispatch queue for getaddrinfo (and run Happy Eyeballs), which a busy process can
        // hold up while the deadline, armed above, keeps running.
        let connected: EventLoopFuture<Channel>
        if let address = try? SocketAddress(ipAddress: host, port: port) {
            connected = bootstrap.connect(to: address)
        } else {
            connected = bootstrap.connect(host: host, port: port)
        }
        connected.whenComplete { result in
            let attempt = bound.value
            switch result {
            case .success:
                attempt.tcpConnected()
            case .failure(let error):
                guard let proxy else {
                    return attempt.fail(TransportErrorMapping.connectFailure(error, endpoint: endpoint, tls: tls))
                }
                let proxyEndpoint = Endpoint(scheme: .http, host: proxy.host, port: proxy.port)
                let cause = TransportErrorMapping.connectFailure(error, endpoint: proxyEndpoint, tls: nil)
                attempt.fail(ProxyTunnel.unreachable(proxy, source: proxySource, cause: cause))
            }
        }
    }

    /// TLS to the destination (its name for SNI and verification, also through a tunnel), then
    /// the caller's handlers.
    private static func install(on channel: Channel, endpoint: Endpoint, tls: TLSContext?,
                                initialize: (Channel) throws -> Void) throws {
        if let tls {
            let handler = try tls.makeClientHandler(serverHostname: endpoint.host)
            try channel.pipeline.syncOperations.addHandler(handler)
        }
        try initialize(channel)
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
