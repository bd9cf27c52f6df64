/// Why a connection could not be made or is gone. `message` is meant for people: it names the
/// endpoint and suggests what to check. No message ever contains a credential.
public struct TransportError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The URL could not be used (bad scheme, host, port).
        case url
        /// The host name did not resolve.
        case dns
        /// TCP connect failed (refused, unreachable).
        case connect
        /// The configured proxy could not be reached, refused the tunnel (`httpStatus`: the
        /// proxy's answer, 407 for authentication) or broke its protocol.
        case proxy
        /// TLS failed (handshake or record layer), other than certificate verification.
        case tls
        /// The server's certificate chain or name did not verify.
        case tlsVerify
        /// HTTP 401/403: the credentials were rejected.
        case auth
        /// The WebSocket upgrade got another non-101 answer (`httpStatus` says which).
        case upgradeRefused
        /// An HTTP request (fallback transport) got a non-2xx answer other than 401/403.
        case httpStatus
        /// Connect, upgrade or keepalive deadline passed.
        case timeout
        /// The connection ended: a server close frame (`closeCode`), or a drop (1006).
        case closed
        /// An incoming message exceeded `ConnectionConfig.maxMessageBytes`.
        case messageTooBig
        /// The peer broke the protocol (binary frame, bad framing, bad upgrade answer).
        case protocolViolation
        /// We aborted the connection or request on purpose.
        case cancelled
        /// The caller's configuration cannot be used (e.g. a header value with a line break).
        case configuration
    }

    public var kind: Kind
    public var message: String
    /// The HTTP status, for `.auth`, `.upgradeRefused`, `.httpStatus` and a proxy's refusal.
    public var httpStatus: Int?
    /// The WebSocket close code: the server's for `.closed`, ours for errors we closed on.
    public var closeCode: UInt16?
    /// Up to 4 KiB of an HTTP error body (credentials redacted).
    public var body: String?
    /// For a failed `WebSocketConnection.sendText`: the connection was closed before any byte of
    /// the message was written, so the server cannot have it.
    public var nothingSent = false
    /// The `Retry-After` header of a 429 or 503 answer, as sent.
    public var retryAfter: String?
    /// The `x-request-id` of an HTTP answer that refused the upgrade or the POST.
    public var requestID: String?

    public init(_ kind: Kind, _ message: String, httpStatus: Int? = nil, closeCode: UInt16? = nil, body: String? = nil) {
        self.kind = kind
        self.message = message
        self.httpStatus = httpStatus
        self.closeCode = closeCode
        self.body = body
    }

    public var description: String { message }

    /// The largest HTTP error body kept in `body`.
    public static let maxBodyBytes = 4096
}
