/// Outcome codes of the library. Raw values are the `RWS_*` status codes of
/// include/responses_ws.h (stable, never renumbered); a test checks that they agree.
public enum Status: Int32, Sendable {
    case ok = 0
    case done = 1
    case invalidArgument = -1
    case invalidState = -2
    case noMemory = -3
    case invalidJSON = -4
    case again = -5
    case `internal` = -6
    case unsupported = -7
    case url = -10
    case dns = -11
    case connect = -12
    case tls = -13
    case tlsVerify = -14
    case auth = -15
    case upgradeRefused = -16
    case timeout = -17
    case closed = -18
    case outcomeUnknown = -19
    case messageTooBig = -20
    case requestTooBig = -21
    case protocolViolation = -22
    case cancelled = -23
    case aborted = -24
    case proxy = -25
    case server = -30
    case previousResponseNotFound = -31
    case connectionLimit = -32
    case streamLimit = -33
    case invalidStreamID = -34
    case rateLimited = -35
    case responseFailed = -36
    case invalidRequest = -37

    /// Maps a server `error` event (§4.5) to a status. Keys on `error.code` first, as the protocol
    /// document advises, then on the HTTP-like status.
    public static func forServerError(code: String?, status: Int32) -> Status {
        switch code {
        case "previous_response_not_found": return .previousResponseNotFound
        case "websocket_connection_limit_reached": return .connectionLimit
        case "websocket_stream_limit_reached": return .streamLimit
        case "invalid_stream_id": return .invalidStreamID
        case "rate_limit_exceeded": return .rateLimited
        default: break
        }
        switch status {
        case 401, 403: return .auth
        case 429: return .rateLimited
        case 400, 404, 409, 413, 422: return .invalidRequest
        default: return .server
        }
    }
}

/// A failure with its status and a sentence a person can act on. Never contains the API key.
public struct RWSError: Error, Sendable, CustomStringConvertible {
    public var status: Status
    public var message: String
    /// The HTTP status of an HTTP-level failure (upgrade or POST answer), else 0.
    public var httpStatus: Int32 = 0
    /// The server's `x-request-id` for this failure, when an HTTP answer carried one.
    public var requestID: String?
    public init(_ status: Status, _ message: String) { self.status = status; self.message = message }
    public var description: String { message }
}
