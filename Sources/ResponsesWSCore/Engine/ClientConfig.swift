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
    public var verifyPeer = true
    public var connectTimeoutMs: UInt32 = 15_000
    public var firstEventTimeoutMs: UInt32 = 0
    public var idleTimeoutMs: UInt32 = 300_000
    public var totalTimeoutMs: UInt32 = 0
    public var pingIntervalMs: UInt32 = 30_000
    public var maxMessageBytes: UInt64 = 64 << 20
    public var maxRequestBytes: UInt64 = 16 << 20
    public var transport: Transport = .webSocket

    public init() {}

    public static let defaultBaseURL = "https://api.openai.com/v1"
    public static let userAgent = "responses-ws/\(Version.string) (Linux; Swift)"
}

/// The library version, shared by the C export and the User-Agent.
public enum Version {
    public static let major = 0, minor = 1, patch = 0
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

    init(_ config: ClientConfig, environment: (String) -> String? = ResolvedConfig.getenv) throws(RWSError) {
        let apiKey = config.apiKey ?? environment("OPENAI_API_KEY") ?? ""
        let baseURL = config.baseURL ?? environment("OPENAI_BASE_URL").flatMap { $0.isEmpty ? nil : $0 } ?? ClientConfig.defaultBaseURL
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
            // An extra header replaces a built-in one of the same name (e.g. User-Agent).
            headers.removeAll { $0.name.lowercased() == header.name.lowercased() }
            headers.append(header)
        }

        var tls: TLSContext?
        if webSocketEndpoint.isTLS || httpEndpoint.isTLS {
            let caFile = config.caFile ?? environment("SSL_CERT_FILE").flatMap { $0.isEmpty ? nil : $0 }
            do {
                tls = try TLSContext.client(caFile: caFile, verifyPeer: config.verifyPeer)
            } catch {
                throw RWSError(.tls, "cannot set up TLS: \(error)")
            }
        }
        var connection = ConnectionConfig()
        connection.headers = headers
        connection.tls = tls
        connection.connectTimeout = .milliseconds(Int64(max(config.connectTimeoutMs, 1)))
        connection.maxMessageBytes = Int(clamping: config.maxMessageBytes)
        connection.pingInterval = config.pingIntervalMs == 0 ? nil : .milliseconds(Int64(config.pingIntervalMs))
        self.connection = connection
        firstEventTimeout = config.firstEventTimeoutMs == 0 ? nil : .milliseconds(Int64(config.firstEventTimeoutMs))
        idleTimeout = config.idleTimeoutMs == 0 ? nil : .milliseconds(Int64(config.idleTimeoutMs))
        totalTimeout = config.totalTimeoutMs == 0 ? nil : .milliseconds(Int64(config.totalTimeoutMs))
        maxRequestBytes = Int(clamping: config.maxRequestBytes)
        transport = config.transport
    }

    static func getenv(_ name: String) -> String? {
        guard let value = Glibc.getenv(name) else { return nil }
        return String(cString: value)
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
