import NIOCore

/// Every option of the simulator. `rws sim` maps its flags one to one onto these fields.
public struct SimulatorConfig: Sendable {
    /// Interface to listen on.
    public var host = "127.0.0.1"
    /// TCP port; 0 picks a free one (read it back from `Simulator.port`).
    public var port = 0
    /// nil: any non-empty `Authorization: Bearer` token is accepted. Otherwise only this one.
    public var apiKey: String?
    /// Pace of the fake model. 0 = as fast as the client reads.
    public var tokensPerSecond = 1000
    /// Length of a plain text answer, in tokens (word pieces of at most 4 bytes).
    public var outputTokens = 24
    /// §5.7: connection lifetime in seconds; past it the next create gets
    /// `websocket_connection_limit_reached`, then a close.
    public var maxConnectionAge: Double = 3600
    /// The clock connection ages are measured with. Tests inject a `TestClock` to age
    /// connections without waiting; anything else should keep the real one.
    public var now: @Sendable () -> NIODeadline = { NIODeadline.now() }
    /// Also push the limit error, unsolicited, on an idle socket when it reaches its age (§5.7, observed on the real service).
    public var pushLimitWhenIdle = false
    /// §5.8: the close code sent after the limit error (OpenAI does not document one).
    public var limitCloseCode: UInt16 = 1000
    /// `--fault KIND@N` rules.
    public var faults: [FaultRule] = []
    /// Answer every WebSocket upgrade with this HTTP status (e.g. 426, 404); POST keeps working.
    public var rejectUpgradeStatus: Int?
    /// SIMULATED server cost: microseconds charged per KiB of input context the server must
    /// process (full history on HTTP and cache misses, new items only on a cache hit). 0 = off.
    public var costMicrosecondsPerInputKiB = 0
    /// Largest accepted WebSocket message or POST body.
    public var maxMessageBytes = 64 << 20
    /// Event-loop threads.
    public var threads = System.coreCount
    /// §5.1: in-flight responses per connection; further creates are queued FIFO.
    public var maxInFlightPerConnection = 16
    /// §5.1: distinct named `stream_id`s per connection.
    public var maxNamedLanesPerConnection = 32
    /// §5.1/§9.2 alternative: reject a create that arrives while its lane is busy instead of
    /// queueing it (LocalAI / proxy behaviour).
    public var rejectOverlappingCreates = false
    /// Which models accept `response.steer` (PROTOCOL.md §3.2): by default the GPT-6 family only.
    public var steering = SteeringSupport.auto
    /// §7: ignore unknown client event types instead of answering with an `error` event.
    public var ignoreUnknownEvents = false
    /// §1.2/§7: require `OpenAI-Beta: responses_websockets=…` on the upgrade (401 without it).
    public var requireBetaHeader = false
    /// The `x-request-id` of every answer (101, POST, refusals); nil: a fresh `req_…` each time.
    /// Tests set it to check that the client reports the id the server sent.
    public var requestID: String?
    /// Responses kept by the process-wide `store: true` store (oldest dropped first).
    public var storeCapacity = 100_000
    /// Serve TLS (wss:// and https://) with this PEM certificate and key, for testing clients'
    /// certificate handling. Both or neither.
    public var tlsCertificateFile: String?
    public var tlsPrivateKeyFile: String?
    /// With TLS: require every client to present a certificate issued by a CA in this PEM file.
    public var tlsClientCAFile: String?
    /// Accept a client's permessage-deflate offer (RFC 7692), as servers that support it do;
    /// false declines it (`--no-deflate`).
    public var perMessageDeflate = true

    public init() {}

    /// Checks ranges; `Simulator.start` calls it.
    public func validate() throws(SimulatorConfigError) {
        if (tlsCertificateFile == nil) != (tlsPrivateKeyFile == nil) {
            throw SimulatorConfigError("TLS needs both a certificate file and a private key file")
        }
        if tlsClientCAFile != nil, tlsCertificateFile == nil {
            throw SimulatorConfigError("a client CA file (mTLS) needs TLS: a certificate file and a private key file")
        }
        if port < 0 || port > 65535 { throw SimulatorConfigError("port \(port) is out of range") }
        if tokensPerSecond < 0 { throw SimulatorConfigError("tokens-per-second must be >= 0") }
        if outputTokens < 1 { throw SimulatorConfigError("output-tokens must be >= 1") }
        if !(maxConnectionAge > 0 && maxConnectionAge <= 1e8) {
            throw SimulatorConfigError("max-connection-age must be > 0 and at most 1e8 seconds")
        }
        if costMicrosecondsPerInputKiB < 0 { throw SimulatorConfigError("cost-us-per-input-kb must be >= 0") }
        if maxMessageBytes < 1024 || maxMessageBytes > Int(UInt32.max) {
            throw SimulatorConfigError("max-message-bytes must be between 1024 and \(UInt32.max)")
        }
        if threads < 1 { throw SimulatorConfigError("threads must be >= 1") }
        if maxInFlightPerConnection < 1 || maxNamedLanesPerConnection < 0 {
            throw SimulatorConfigError("lane limits must be positive")
        }
        if let status = rejectUpgradeStatus, !(300...599).contains(status) {
            throw SimulatorConfigError("reject-upgrade status must be 300-599")
        }
        if apiKey?.isEmpty == true { throw SimulatorConfigError("api-key must not be empty") }
        if storeCapacity < 1 { throw SimulatorConfigError("store-capacity must be >= 1") }
    }
}

/// `--steering auto|all|none`.
public enum SteeringSupport: String, Sendable, CaseIterable {
    /// PROTOCOL.md §3.2: models whose name starts with `gpt-6` steer; GPT-5.6 and older do not.
    case auto
    /// Every model steers (handy with the default `gpt-sim` test model).
    case all
    /// No model steers: every steer is answered `steering_not_supported`.
    case none

    public func supports(model: String) -> Bool {
        switch self {
        case .auto: return model.hasPrefix("gpt-6")
        case .all: return true
        case .none: return false
        }
    }
}

public struct SimulatorConfigError: Error, Sendable, CustomStringConvertible, Equatable {
    public var description: String
    public init(_ description: String) { self.description = description }
}
