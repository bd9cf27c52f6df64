import NIOCore
import ResponsesTLS

/// How to open a WebSocket or HTTP connection.
public struct ConnectionConfig: Sendable {
    /// Sent on the WebSocket upgrade GET or the HTTP POST, in order: Authorization, OpenAI-*,
    /// User-Agent, extras (§1.2). `Host` is derived from the endpoint unless given here (clients
    /// refuse a caller's `Host` at creation: ClientConfig.ownedHeaders); a `User-Agent` is added
    /// if none is given. Values must not contain CR or LF.
    public var headers: [(name: String, value: String)]
    /// TLS for wss/https. nil → a shared client context that verifies against `SSL_CERT_FILE`
    /// or the system's trusted roots.
    public var tls: TLSContext?
    /// Covers TCP connect + TLS handshake + WebSocket upgrade (for HTTP: until the request is sent).
    public var connectTimeout: TimeAmount
    /// Largest incoming message (WebSocket message, SSE event or JSON body). 64 MiB by default (§2.4).
    public var maxMessageBytes: Int
    /// WebSocket keepalive: ping after this long without any incoming frame, and fail with
    /// `.timeout` if nothing arrives within one more interval (§5.7). nil disables it.
    public var pingInterval: TimeAmount?
    /// How long `close()` waits for the server's close frame before closing TCP anyway.
    public var closeTimeout: TimeAmount
    /// Stamps `WebSocketConnection.openedAt`: the clock connection ages are measured with.
    public var now: @Sendable () -> NIODeadline = { NIODeadline.now() }
    /// Where host names are looked up: a client's own threads (fork safety, HostLookups), or
    /// nil for NIO's default resolver (standalone connections: tests, tools).
    public var lookups: HostLookups?
    /// Which proxy each endpoint goes through (ProxySettings); `.none` connects directly.
    public var proxies: ProxySettings = .none
    /// Offer permessage-deflate (RFC 7692) on the upgrade; the server may decline.
    public var perMessageDeflate = false
    /// With `perMessageDeflate`: also offer `client_no_context_takeover`, and keep that promise
    /// whatever the server answers (for servers that insist on it; the Autobahn cases 13.2, 13.5, 13.6).
    public var deflateOffersClientNoContextTakeover = false

    public static let defaultUserAgent = "responses-ws/0.1"

    public init(
        headers: [(name: String, value: String)] = [],
        tls: TLSContext? = nil,
        connectTimeout: TimeAmount = .seconds(15),
        maxMessageBytes: Int = 64 * 1024 * 1024,
        pingInterval: TimeAmount? = .seconds(30),
        closeTimeout: TimeAmount = .seconds(5)
    ) {
        self.headers = headers
        self.tls = tls
        self.connectTimeout = connectTimeout
        self.maxMessageBytes = maxMessageBytes
        self.pingInterval = pingInterval
        self.closeTimeout = closeTimeout
    }
}
