#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import ResponsesTLS

/// Which transport a client's turns use.
public enum Transport: Int32, Sendable {
    case webSocket = 0
    case http = 1
}

/// Everything a client is configured with (the Swift side of `rws_client_options`).
/// `nil` strings fall back to the environment as the official SDKs do.
public struct ClientConfig: Sendable {
    public var apiKey: String?
    public var baseURL: String?
    public var webSocketURL: String?
    public var organization: String?
    public var project: String?
    public var beta: String?
    public var extraHeaders: [(name: String, value: String)] = []
    public var caFile: String?
    /// mTLS: the PEM certificate chain and private key presented to servers that ask.
    public var tlsClientCertFile: String?
    public var tlsClientKeyFile: String?
    /// The passphrase of an encrypted tlsClientKeyFile; redacted from every message.
    public var tlsClientKeyPassphrase: String?
    public var verifyPeer = true
    /// A proxy URL for every endpoint (`http://[user:password@]host:port`, `socks5://`,
    /// `socks5h://`); "" means no proxy whatever the environment says; nil reads curl's
    /// variables (ProxySettings).
    public var proxy: String?
    /// Hosts reached directly (NoProxyList); nil reads `no_proxy` / `NO_PROXY`.
    public var noProxy: String?
    public var connectTimeoutMs: UInt32 = 15_000
    public var firstEventTimeoutMs: UInt32 = 0
    public var idleTimeoutMs: UInt32 = 300_000
    public var totalTimeoutMs: UInt32 = 0
    public var pingIntervalMs: UInt32 = 30_000
    public var maxMessageBytes: UInt64 = 64 << 20
    public var maxRequestBytes: UInt64 = 16 << 20
    public var transport: Transport = .webSocket
    public var maxConnectionAgeMs: UInt32 = 55 * 60_000
    public var rotationMarginMs: UInt32 = 60_000
    public var warmStandby = true
    public var maxReconnects: UInt32 = 3
    public var reconnectDelayMs: UInt32 = 200
    public var reconnectMaxDelayMs: UInt32 = 4_000
    public var fallback: FallbackPolicy = .auto
    public var fallbackAfterFailures: UInt32 = 2
    public var fallbackMemoryMs: UInt32 = 600_000
    /// Pull mode: undelivered event bytes of one turn above which the connection is not read
    /// until the caller drains (TCP backpressure). 0: no limit.
    public var maxQueuedBytes: UInt64 = 4 << 20
    /// Offer permessage-deflate (RFC 7692) on WebSocket upgrades. Off by default: see
    /// `rws_client_options.permessage_deflate` in the header for the measurements behind that.
    public var perMessageDeflate = false
    /// Whether sessions share connections, one lane each (§5.1), or take one each.
    public var lanes: LaneSharing = .shared
    /// Sessions one shared connection takes before the client opens another (1...32; each has
    /// at most one turn in flight, so 16 is the server's in-flight limit).
    public var maxSessionsPerConnection: UInt32 = 16
    /// The clock connection ages are measured with (rotation, warm standby). Tests inject one
    /// they can advance; everything else keeps the real clock.
    public var now: @Sendable () -> NIODeadline = { NIODeadline.now() }
    /// Tests answer host name lookups themselves (a name with both address families); nil:
    /// getaddrinfo.
    var resolveHost: HostLookups.Lookup?
    /// Where log records go (connects, retries, fallbacks, rotations, recoveries); nil: nowhere.
    public var logHook: LogHook?

    public init() {}

    public static let defaultBaseURL = "https://api.openai.com/v1"
    public static let userAgent = "responses-ws/\(Version.string) (Linux; Swift)"
}

/// How a client's sessions use connections (rws_client_options.lanes).
public enum LaneSharing: Int32, Sendable {
    /// Sessions share connections, one lane (stream_id) each.
    case shared = 0
    /// Every session has a connection of its own, on its own or the default lane.
    case perSession = 1
}

/// Whether a client may switch to HTTP/SSE when WebSocket mode is unavailable (§5.11).
public enum FallbackPolicy: Int32, Sendable {
    case auto = 0
    case never = 1
}

/// The library version, shared by the C export and the User-Agent.
public enum Version {
    public static let major = 0, minor = 5, patch = 0
    public static let string = "\(major).\(minor).\(patch)"
    public static let number = UInt32(major << 16 | minor << 8 | patch)
}

/// A ClientConfig with the environment applied, URLs parsed and TLS loaded: what the engine uses.
struct ResolvedConfig: Sendable {
    let webSocketEndpoint: Endpoint
    let httpEndpoint: Endpoint
    let connection: ConnectionConfig
    let firstEventTimeout: TimeAmount?
    let idleTimeout: TimeAmount?
    let totalTimeout: TimeAmount?
    let maxRequestBytes: Int
    let transport: Transport
    let maxConnectionAge: TimeAmount?
    let rotationMargin: TimeAmount
    let warmStandby: Bool
    let maxReconnects: Int
    let reconnectDelay: TimeAmount
    let reconnectMaxDelay: TimeAmount
    let fallback: FallbackPolicy
    let fallbackAfterFailures: Int
    let fallbackMemory: TimeAmount
    let maxQueuedBytes: Int
    var deadlines: TurnDeadlines { TurnDeadlines(total: totalTimeout, firstEvent: firstEventTimeout, idle: idleTimeout) }
    /// 1 when every session has its own connection.
    let maxSessionsPerConnection: Int
    let now: @Sendable () -> NIODeadline
    /// How TLS peers are verified, for the log ("system CA store", "CA file X", "off").
    let tlsSummary: String
    /// Credentials that are not headers (a key passphrase, a proxy's password), for the redactor.
    let extraSecrets: [String]

    init(_ config: ClientConfig, environment: (String) -> String? = ResolvedConfig.getenv) throws(RWSError) {
        let apiKey = config.apiKey ?? environment("OPENAI_API_KEY") ?? ""
        let baseURL = config.baseURL ?? environment("OPENAI_BASE_URL").flatMap { $0.isEmpty ? nil : $0 } ?? ClientConfig.defaultBaseURL
        // A space, CR/LF or other control byte would reach the request line of the upgrade or
        // the POST (request smuggling) or fail later as if the server were at fault.
        try Self.checkURLBytes(config.webSocketURL, option: "websocket_url")
        try Self.checkURLBytes(baseURL, option: config.baseURL != nil ? "base_url" : "$OPENAI_BASE_URL")
        do {
            if let ws = config.webSocketURL {
                webSocketEndpoint = try Endpoint(url: ws)
                guard webSocketEndpoint.scheme == .ws || webSocketEndpoint.scheme == .wss else {
                    throw RWSError(.url, "websocket_url must start with ws:// or wss://, got \"\(ws)\"")
                }
            } else {
                webSocketEndpoint = try Endpoint.webSocketURL(baseURL: baseURL)
            }
            httpEndpoint = try Endpoint.httpResponsesURL(baseURL: baseURL)
        } catch let error as RWSError {
            throw error
        } catch {
            throw RWSError(.url, "\(error)")
        }

        var headers: [(name: String, value: String)] = []
        if !apiKey.isEmpty { headers.append(("Authorization", "Bearer \(apiKey)")) }
        if let org = config.organization ?? environment("OPENAI_ORG_ID"), !org.isEmpty { headers.append(("OpenAI-Organization", org)) }
        if let project = config.project ?? environment("OPENAI_PROJECT_ID"), !project.isEmpty { headers.append(("OpenAI-Project", project)) }
        if let beta = config.beta, !beta.isEmpty { headers.append(("OpenAI-Beta", beta)) }
        headers.append(("User-Agent", ClientConfig.userAgent))
        for header in config.extraHeaders {
            guard !header.name.isEmpty, header.name.utf8.allSatisfy(Self.isTokenByte),
                  !header.value.utf8.contains(where: { $0 == 0x0D || $0 == 0x0A }) else {
                throw RWSError(.invalidArgument, "bad extra header \"\(header.name)\": use \"Name: value\" with a token name and no line breaks")
            }
            if let why = Self.ownedHeaders[header.name.lowercased()] ?? (header.name.lowercased().hasPrefix("sec-websocket-") ? Self.webSocketOwned : nil) {
                throw RWSError(.invalidArgument, "extra header \"\(header.name)\" is set by the library and cannot be given in headers: \(why)")
            }
            // An extra header replaces a built-in one of the same name (User-Agent, OpenAI-*).
            headers.removeAll { $0.name.lowercased() == header.name.lowercased() }
            headers.append(header)
        }

        var tls: TLSContext?
        var tlsSummary = "not used"
        if webSocketEndpoint.isTLS || httpEndpoint.isTLS {
            let envFile = environment("SSL_CERT_FILE").flatMap { $0.isEmpty ? nil : $0 }
            let caFile = config.caFile ?? envFile
            tlsSummary = !config.verifyPeer ? "peer verification OFF (verify_peer = 0)"
                : caFile.map { "verifying peers against \($0) (\(config.caFile != nil ? "ca_file" : "SSL_CERT_FILE"))" }
                ?? "verifying peers against the system CA store"
            let clientCertificate = try Self.clientCertificate(config)
            if let clientCertificate { tlsSummary += "; presenting client certificate \(clientCertificate.certificateFile)" }
            do {
                tls = try TLSContext.client(caFile: caFile, verifyPeer: config.verifyPeer,
                                            caFileOption: config.caFile != nil ? "ca_file" : "SSL_CERT_FILE",
                                            clientCertificate: clientCertificate)
            } catch {
                throw RWSError(.tls, "cannot set up TLS: \(error)")
            }
        }
        var connection = ConnectionConfig()
        connection.headers = headers
        connection.tls = tls
        connection.connectTimeout = .milliseconds(Int64(max(config.connectTimeoutMs, 1)))
        // Event headers hold 32-bit offsets: larger limits mean "no practical limit" anyway.
        connection.maxMessageBytes = Int(clamping: min(config.maxMessageBytes, UInt64(EventHeader.maxEventBytes)))
        connection.pingInterval = config.pingIntervalMs == 0 ? nil : .milliseconds(Int64(config.pingIntervalMs))
        connection.now = config.now
        connection.perMessageDeflate = config.perMessageDeflate
        connection.lookups = config.resolveHost.map { HostLookups(resolve: $0) } ?? HostLookups()   // fork-safe (see HostLookups)
        do {
            connection.proxies = try ProxySettings(proxy: config.proxy, noProxy: config.noProxy, environment: environment)
        } catch {
            throw RWSError(.invalidArgument, error.message)
        }
        now = config.now
        self.tlsSummary = tlsSummary
        let proxyPasswords = [connection.proxies.tlsProxy, connection.proxies.plainProxy].compactMap { $0?.password }.filter { !$0.isEmpty }
        extraSecrets = (config.tlsClientKeyPassphrase.map { [$0] } ?? []) + proxyPasswords
        self.connection = connection
        firstEventTimeout = config.firstEventTimeoutMs == 0 ? nil : .milliseconds(Int64(config.firstEventTimeoutMs))
        idleTimeout = config.idleTimeoutMs == 0 ? nil : .milliseconds(Int64(config.idleTimeoutMs))
        totalTimeout = config.totalTimeoutMs == 0 ? nil : .milliseconds(Int64(config.totalTimeoutMs))
        maxRequestBytes = Int(clamping: config.maxRequestBytes)
        transport = config.transport
        maxConnectionAge = config.maxConnectionAgeMs == 0 ? nil : .milliseconds(Int64(config.maxConnectionAgeMs))
        rotationMargin = .milliseconds(Int64(config.rotationMarginMs))
        warmStandby = config.warmStandby
        maxReconnects = Int(config.maxReconnects)
        reconnectDelay = .milliseconds(Int64(max(config.reconnectDelayMs, 1)))
        reconnectMaxDelay = .milliseconds(Int64(max(config.reconnectMaxDelayMs, config.reconnectDelayMs, 1)))
        fallback = config.fallback
        fallbackAfterFailures = Int(max(config.fallbackAfterFailures, 1))
        fallbackMemory = .milliseconds(Int64(config.fallbackMemoryMs))
        maxQueuedBytes = config.maxQueuedBytes == 0 ? .max : Int(clamping: config.maxQueuedBytes)
        guard (1...32).contains(config.maxSessionsPerConnection) else {
            throw RWSError(.invalidArgument, "max_sessions_per_connection is \(config.maxSessionsPerConnection): use 1 to 32 (a connection has 32 lane names; 16, the default, is the server's limit of responses in flight)")
        }
        maxSessionsPerConnection = config.lanes == .perSession ? 1 : Int(config.maxSessionsPerConnection)
    }

    /// The wait before reconnect attempt `n` (1-based): doubling from the first delay up to the
    /// ceiling, times a jitter in [0.75, 1.0] so that many clients do not retry in step.
    func backoff(attempt n: Int) -> TimeAmount {
        let base = reconnectDelay.nanoseconds << min(max(n - 1, 0), 20)
        let capped = min(base, reconnectMaxDelay.nanoseconds)
        return .nanoseconds(Int64(Double(capped) * Double.random(in: 0.75...1.0)))
    }

    static func getenv(_ name: String) -> String? {
        guard let value = Glibc.getenv(name) else { return nil }
        return String(cString: value)
    }

    /// Headers the library writes itself, with why a caller's value would break the request.
    static let ownedHeaders: [String: String] = [
        "host": "it is taken from the URL (a different Host would send the request, and the key, to another virtual host than the one TLS verified); change base_url or websocket_url",
        "authorization": "it carries the API key; pass the key as api_key (or $OPENAI_API_KEY)",
        "upgrade": "it is part of the WebSocket handshake",
        "connection": "it is part of the WebSocket handshake and HTTP framing",
        "content-length": "it is computed from the request body",
        "transfer-encoding": "the library frames the request body itself",
        "content-type": "the POST body is always application/json",
        "accept": "the library asks for text/event-stream",
        "te": "it is a hop-by-hop header the library does not use",
        "trailer": "it is a hop-by-hop header the library does not use",
        "keep-alive": "it is a hop-by-hop header the library does not use",
    ]
    static let webSocketOwned = "the Sec-WebSocket-* headers are part of the WebSocket handshake"

    /// Refuses a URL with a byte no URL may hold unencoded: controls, space, DEL. The message
    /// names the option and the offset, not the URL (it may carry a token in its query).
    /// The mTLS certificate and key, both or neither.
    private static func clientCertificate(_ config: ClientConfig) throws(RWSError) -> TLSContext.ClientCertificate? {
        switch (config.tlsClientCertFile, config.tlsClientKeyFile) {
        case (nil, nil):
            if config.tlsClientKeyPassphrase != nil {
                throw RWSError(.invalidArgument, "tls_client_key_passphrase is set without tls_client_cert and tls_client_key")
            }
            return nil
        case (let cert?, let key?):
            return TLSContext.ClientCertificate(certificateFile: cert, privateKeyFile: key, passphrase: config.tlsClientKeyPassphrase)
        default:
            throw RWSError(.invalidArgument, "tls_client_cert and tls_client_key go together: set both (PEM files) or neither")
        }
    }

    static func checkURLBytes(_ url: String?, option: String) throws(RWSError) {
        guard let url else { return }
        for (i, c) in url.utf8.enumerated() where c <= 0x20 || c == 0x7F {
            let what = c == 0x0D || c == 0x0A ? "a line break" : c == 0x20 ? "a space" : "a control character"
            throw RWSError(.url, "\(option) holds \(what) at byte \(i): percent-encode it (e.g. %20) or remove it")
        }
    }

    /// RFC 9110 token characters, for header names.
    static func isTokenByte(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(c)
        }
    }
}
