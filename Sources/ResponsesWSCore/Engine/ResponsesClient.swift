import NIOCore
import NIOPosix
import ResponsesJSON
import Synchronization

/// The connection cache (rws_client): one I/O thread, the resolved configuration, and a pool of
/// warm WebSocket connections that later sessions reuse. Thread-safe: public methods may be
/// called from any thread; pool state lives on the event loop.
public final class ResponsesClient: @unchecked Sendable {   // mutable state is loop-confined
    let config: ResolvedConfig
    /// Removes the configured credentials from every message a turn produces.
    let redactor: CredentialRedactor
    /// The log hook, behind the same redactor.
    let log: Logger
    private let ioThread: IOThread
    public let loop: EventLoop
    public let counters = Counters()
    private let shutDown = Atomic<Bool>(false)

    // MARK: confined to `loop`
    /// Every connection open or opening; sessions share them, one lane each (§5.1).
    private var connections: [SharedConnection] = [] {
        didSet { publishGauges() }
    }
    private var sessions: [ObjectIdentifier: Session] = [:]
    /// Until when the endpoint is known to lack WebSocket mode (§5.11): sessions go straight to
    /// HTTP/SSE instead of probing again.
    private var webSocketUnavailableUntil: NIODeadline?
    /// WebSocket connect failures that count towards the fallback budget, since the last success.
    private var webSocketFailures = 0

    /// Most unused warm connections kept for later sessions; more are closed.
    static let maxIdleConnections = 8

    public init(_ config: ClientConfig) throws(RWSError) {
        self.config = try ResolvedConfig(config)
        redactor = CredentialRedactor(headers: self.config.connection.headers, extraSecrets: self.config.extraSecrets)
        log = Logger(hook: config.logHook, redactor: redactor)
        // A private I/O thread: never NIO's process-wide singleton, which the host process may
        // use for its own purposes, and stoppable without Dispatch (fork safety, IOThread).
        ioThread = try IOThread()
        loop = ioThread.loop
        let resolved = self.config
        log(.debug, "client ready: \(resolved.transport == .http ? "HTTP/SSE" : "WebSocket mode") at \(resolved.transport == .http ? resolved.httpEndpoint.url : resolved.webSocketEndpoint.url)"
                + (resolved.webSocketEndpoint.scheme.isTLS ? "; TLS \(resolved.tlsSummary)" : ""),
            ["websocket_url": resolved.webSocketEndpoint.url, "http_url": resolved.httpEndpoint.url,
             "transport": resolved.transport == .http ? "http" : "ws"])
    }

    public var transport: Transport { config.transport }
    public var isShutDown: Bool { shutDown.load(ordering: .acquiring) }

    /// Creates a session. `streamID` names its lane (§3.1 rules are checked here).
    public func makeSession(defaults: JSONObject = JSONObject(), streamID: String? = nil,
                            inputMode: InputMode = .incremental) throws(RWSError) -> Session {
        guard !isShutDown else { throw RWSError(.invalidState, "the client was freed") }
        if let streamID { try Session.validate(streamID: streamID) }
        let session = Session(client: self, defaults: defaults, streamID: streamID, inputMode: inputMode)
        try register(session)
        return session
    }

    /// Registered without waiting (so this never blocks, even inside a callback): every later
    /// task for the session, and shutdown, runs after this one on the same loop.
    func register(_ session: Session) throws(RWSError) {
        guard executeOnLoop({ [self] in sessions[ObjectIdentifier(session)] = session }) else {
            throw RWSError(.invalidState, "the client was freed")
        }
    }

    /// Whether the calling thread is the I/O thread of any client (i.e. inside an event
    /// callback). Such a thread must never wait for an I/O thread: its own would deadlock, and
    /// NIO stops the process when an event-loop thread waits on a future of another loop.
    public static var onAnyClientThread: Bool { MultiThreadedEventLoopGroup.currentEventLoop != nil }

    /// Runs `body` on the event loop and waits for its result; directly when already there.
    /// From another client's callback it cannot wait and fails with `.invalidState`.
    @discardableResult
    func runOnLoop<T: Sendable>(_ body: @escaping @Sendable () -> T) throws(RWSError) -> T {
        guard !isShutDown else { throw RWSError(.invalidState, "the client was freed") }
        if loop.inEventLoop { return body() }
        guard !Self.onAnyClientThread else {
            throw RWSError(.invalidState,
                "this call waits for another client's I/O thread and must not be made from inside an event callback; make it from your own thread")
        }
        do {
            return try loop.submit(body).wait()
        } catch {
            throw RWSError(.invalidState, "the client is shutting down")
        }
    }

    /// Schedules `body` on the event loop without waiting; false once the client is shut down.
    @discardableResult
    func executeOnLoop(_ body: @escaping @Sendable () -> Void) -> Bool {
        guard !isShutDown else { return false }
        loop.execute(body)
        return true
    }

    // MARK: connections (event loop)

    /// A lane on a connection for `session`: a connection with room (§5.1), possibly still
    /// connecting, `preferred` first (a fork's parent's, which caches its head), or a new one.
    /// `fresh`: this call opened it.
    func lease(for session: Session, lane requested: String?, preferring preferred: SharedConnection? = nil) -> EventLoopFuture<Lease> {
        loop.preconditionInEventLoop()
        let candidates = preferred.map { p in [p] + connections.filter { $0 !== p } } ?? connections
        for shared in candidates where shared.accepts(lane: requested) {
            guard let lane = shared.admit(session, lane: requested) else { continue }
            return shared.opened().map { Lease(shared: shared, connection: $0, lane: lane, fresh: false) }
        }
        let shared = SharedConnection(client: self, maxSessions: config.maxSessionsPerConnection,
                                      generatesNames: config.maxSessionsPerConnection > 1)
        connections.append(shared)
        let lane = shared.admit(session, lane: requested) ?? requested   // a new table always admits
        connect().whenComplete { [self] result in
            switch result {
            case .success(let c):
                if shared.isClosed || isShutDown {
                    _ = c.close()
                    shared.connectFailed(TransportError(.closed, "the client was freed while connecting"))
                } else {
                    shared.connected(c)
                }
            case .failure(let error):
                connections.removeAll { $0 === shared }
                let transportError = error as? TransportError ?? TransportError(.connect, "cannot connect: \(error)")
                shared.connectFailed(LeaseFailure(error: transportError, fallBack: noteWebSocketFailure(transportError)))
            }
        }
        return shared.opened().map { Lease(shared: shared, connection: $0, lane: lane, fresh: true) }
    }

    /// Opens a new connection (for `lease`, or a session's warm standby, which stays outside the
    /// shared ones until `adopt`).
    func connect() -> EventLoopFuture<WebSocketConnection> {
        let endpoint = config.webSocketEndpoint
        logRoute(to: endpoint)
        let started = NIODeadline.now()
        return WebSocketConnection.connect(to: endpoint, config: config.connection, on: loop)
            .map { [self] c in
                counters.add(.connects)
                webSocketFailures = 0
                let ms = (NIODeadline.now() - started).millisecondsText
                let compression = c.deflate.map { "; negotiated \($0)" }
                    ?? (config.connection.perMessageDeflate ? "; the server declined permessage-deflate" : "")
                log(.info, "WebSocket connected to \(endpoint.hostAndPort)\(endpoint.scheme.isTLS ? " over TLS" : "") in \(ms) ms"
                        + (c.requestID.map { " (request id \($0))" } ?? "") + compression,
                    ["url": endpoint.url, "connect_ms": ms, "request_id": c.requestID ?? "",
                     "extensions": c.deflate?.description ?? ""])
                return c
            }
            .flatMapErrorThrowing { [self] error in
                log(.warning, "WebSocket connect to \(endpoint.url) failed: \(error)", ["url": endpoint.url])
                throw error
            }
    }

    /// Makes `c` (a standby the session prepared) a shared connection with `session` on `lane`.
    func adopt(_ c: WebSocketConnection, for session: Session, lane requested: String?) -> Lease {
        let shared = SharedConnection(client: self, maxSessions: config.maxSessionsPerConnection,
                                      generatesNames: config.maxSessionsPerConnection > 1)
        let lane = shared.admit(session, lane: requested) ?? requested
        shared.connected(c)
        connections.append(shared)
        return Lease(shared: shared, connection: c, lane: lane, fresh: false)
    }

    /// Nobody uses `shared` any more: keep it warm for later sessions, or close it.
    func connectionUnused(_ shared: SharedConnection) {
        let unused = connections.filter { $0.lanes.ownerCount == 0 && $0.connection != nil }.count
        if isShutDown || shared.expired || unused > Self.maxIdleConnections || shared.connection.map(isNearEndOfLife) ?? false {
            connections.removeAll { $0 === shared }
            shared.close()
        }
    }

    func connectionClosed(_ shared: SharedConnection) {
        connections.removeAll { $0 === shared }
    }

    /// Connections open or opening, and the lanes their sessions hold. Event loop only.
    var connectionCount: Int { connections.count }
    var laneCount: Int { connections.reduce(0) { $0 + $1.lanes.ownerCount } }

    /// The same two numbers for any thread (rws_client_stats), published on each change.
    public var gauges: (connections: Int, lanes: Int) {
        (connectionsOpen.load(ordering: .relaxed), lanesInUse.load(ordering: .relaxed))
    }
    private let connectionsOpen = Atomic<Int>(0)
    private let lanesInUse = Atomic<Int>(0)

    func publishGauges() {
        connectionsOpen.store(connections.count, ordering: .relaxed)
        lanesInUse.store(laneCount, ordering: .relaxed)
    }

    /// Says, before each connect, whether it goes through a proxy (never the proxy's credentials).
    func logRoute(to endpoint: Endpoint) {
        let proxies = config.connection.proxies
        if let proxy = proxies.route(for: endpoint) {
            let how = proxy.kind == .httpConnect ? "HTTP CONNECT" : proxy.kind == .socks5 ? "SOCKS5, name resolved here" : "SOCKS5, name resolved by the proxy"
            log(.info, "connecting to \(endpoint.url) through proxy \(proxy) (\(how); from \(proxies.source(for: endpoint) ?? "proxy"))",
                ["url": endpoint.url, "proxy": proxy.description, "proxy_source": proxies.source(for: endpoint) ?? "proxy"])
        } else {
            log(.debug, "connecting to \(endpoint.url)", ["url": endpoint.url])
        }
    }

    /// Whether `c` is too old to start a turn on (§5.7: rotate before the server's limit).
    func isNearEndOfLife(_ c: WebSocketConnection) -> Bool {
        guard let maxAge = config.maxConnectionAge else { return false }
        return config.now() + config.rotationMargin >= c.openedAt + maxAge
    }

    // MARK: fallback memory (event loop)

    /// Whether turns should go over HTTP/SSE now: by configuration, or because the endpoint was
    /// recently found to lack WebSocket mode.
    var prefersHTTP: Bool {
        if config.transport == .http { return true }
        guard let until = webSocketUnavailableUntil else { return false }
        if NIODeadline.now() < until { return true }
        webSocketUnavailableUntil = nil
        return false
    }

    /// Records a failed WebSocket connect. Returns true when the client should now fall back to
    /// HTTP/SSE: at once for 426 Upgrade Required, after `fallback_after_failures` failures for
    /// 404/405 and connect errors (§5.11; peers pay five slow retries here).
    func noteWebSocketFailure(_ error: TransportError) -> Bool {
        guard config.fallback == .auto else { return false }
        let status = error.httpStatus ?? 0
        let counts: Bool
        switch error.kind {
        case .upgradeRefused: counts = status == 426 || status == 404 || status == 405
        case .connect, .timeout, .closed, .protocolViolation: counts = true
        default: counts = false
        }
        guard counts else { return false }
        webSocketFailures += 1
        if status == 426 || webSocketFailures >= config.fallbackAfterFailures {
            webSocketUnavailableUntil = .now() + config.fallbackMemory
            webSocketFailures = 0
            counters.add(.fallbacks)
            log(.warning, "WebSocket mode unavailable (\(error.message)): using HTTP/SSE at \(config.httpEndpoint.url) for the next \(config.fallbackMemory.nanoseconds / 1_000_000_000) s",
                ["http_url": config.httpEndpoint.url, "remember_ms": config.fallbackMemory.millisecondsText])
            return true
        }
        return false
    }

    func sessionClosed(_ session: Session) {
        sessions[ObjectIdentifier(session)] = nil
    }

    /// Closes every connection, cancels running turns and stops the I/O thread. Blocking; not on
    /// the I/O thread.
    public func shutdown() throws(RWSError) {
        guard !Self.onAnyClientThread else {
            throw RWSError(.invalidState, "rws_client_free must not be called from inside an event callback (of any client)")
        }
        guard !shutDown.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let closes = try? loop.submit { [self] () -> [EventLoopFuture<Void>] in
            for session in sessions.values { session.closeOnLoop(reason: "the client was freed") }
            sessions.removeAll()
            let closing = connections.compactMap { $0.close() }
            connections.removeAll()
            config.connection.lookups?.close()
            return closing
        }.wait()
        if let closes {
            // Give clean close handshakes a moment; a dead peer must not hold up the caller.
            let all = EventLoopFuture.whenAllComplete(closes, on: loop)
            let timeout = loop.scheduleTask(in: .seconds(2)) {}
            _ = try? all.or(timeout.futureResult).wait()
            timeout.cancel()
        }
        ioThread.stop()
    }
}

/// A lane on a connection, as a session holds it.
struct Lease: Sendable {
    let shared: SharedConnection
    let connection: WebSocketConnection
    /// The stream_id the session sends (nil: the default lane).
    let lane: String?
    /// This lease opened the connection.
    let fresh: Bool
}

/// A connect failed for every session waiting on it; `fallBack` was decided once for all.
struct LeaseFailure: Error {
    let error: TransportError
    let fallBack: Bool
}

extension EventLoopFuture {
    /// Completes with whichever of the two finishes first.
    func or(_ other: EventLoopFuture<Void>) -> EventLoopFuture<Void> {
        let promise = eventLoop.makePromise(of: Void.self)
        whenComplete { _ in promise.succeed(()) }
        other.whenComplete { _ in promise.succeed(()) }
        return promise.futureResult
    }
}
