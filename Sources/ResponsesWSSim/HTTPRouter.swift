import NIOCore
import NIOHTTP1
import NIOWebSocket
import ResponsesDeflate

/// Sets up a new connection's pipeline and decides, per request, between the WebSocket upgrade,
/// the POST handler and the plain HTTP answers (401, 404, 405, the `--reject-upgrade` status).
enum HTTPRouter {
    static let path = "/v1/responses"

    /// `tls`: the connection's TLS handler when serving wss://, already first in the pipeline.
    static func configure(_ channel: Channel, shared: SimulatorShared, tls: ChannelHandler? = nil) throws {
        let boundTLS = NIOLoopBound(tls, eventLoop: channel.eventLoop)
        shared.stats.connectionAccepted()
        shared.track(channel)
        let config = shared.config
        let handler = HTTPHandler(shared: shared)
        // The connection's counters are registered when the upgrade is accepted, before the 101
        // is written: NIO runs upgradePipelineHandler only after that write, and a client that
        // has its 101 must already find the connection in the stats.
        let accepted = NIOLoopBoundBox<ConnectionCounters?>(nil, eventLoop: channel.eventLoop)
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: config.maxMessageBytes,
            // Protocol errors are answered by WebSocketSession: an oversized message first gets an
            // `error` event explaining the limit, then the 1009 close.
            automaticErrorHandling: false,
            shouldUpgrade: { channel, head in
                switch webSocketDecision(head, config: config) {
                case .upgrade:
                    let counters = shared.stats.registerWebSocket()
                    accepted.value = counters
                    // Also closed when the upgrade never completes (WebSocketSession not added).
                    channel.closeFuture.whenComplete { _ in shared.stats.connectionClosed(counters) }
                    var headers = HTTPHeaders([("x-request-id", IDs.request(config))])
                    if let deflate = deflateAgreement(head, config: config) {
                        headers.add(name: "Sec-WebSocket-Extensions", value: deflate.answer)
                    }
                    return channel.eventLoop.makeSucceededFuture(headers)
                // nil: no upgrade; the request then reaches HTTPHandler, which answers it.
                case .answer: return channel.eventLoop.makeSucceededFuture(nil)
                }
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    // The same choice as the 101's header (made from the same request).
                    let deflate = deflateAgreement(head, config: config)?.parameters
                    let ops = channel.pipeline.syncOperations
                    // At the front (right behind TLS, which must still encrypt): its writes reach
                    // the socket without passing the frame encoder.
                    let outlet = FrameOutlet()
                    if let tls = boundTLS.value {
                        try ops.addHandler(outlet, position: .after(tls))
                    } else {
                        try ops.addHandler(outlet, position: .first)
                    }
                    let counters = accepted.value ?? shared.stats.registerWebSocket()
                    try ops.addHandler(InboundDeflate(
                        counters: counters,
                        inflater: try deflate.map { try MessageInflater(noContextTakeover: $0.clientNoContextTakeover) },
                        maxMessageBytes: config.maxMessageBytes))
                    try ops.addHandler(NIOWebSocketFrameAggregator(
                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 1 << 20,
                        maxAccumulatedFrameSize: config.maxMessageBytes))
                    let deflater = try deflate.map {
                        try MessageDeflater(windowBits: $0.serverMaxWindowBits, noContextTakeover: $0.serverNoContextTakeover)
                    }
                    try ops.addHandler(WebSocketSession(shared: shared, counters: counters, outlet: outlet, deflater: deflater))
                }
            })
        let ops = channel.pipeline.syncOperations
        let boundHandler = NIOLoopBound(handler, eventLoop: channel.eventLoop)
        try ops.configureHTTPServerPipeline(
            withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
                context.pipeline.syncOperations.removeHandler(boundHandler.value, promise: nil)
            }),
            withErrorHandling: true)
        try ops.addHandler(handler)
    }

    /// The client's permessage-deflate offer this server takes, if any (and if allowed).
    static func deflateAgreement(_ head: HTTPRequestHead, config: SimulatorConfig)
        -> (parameters: DeflateParameters, answer: String)? {
        guard config.perMessageDeflate else { return nil }
        return DeflateNegotiation.chooseOffer(head.headers["Sec-WebSocket-Extensions"])
    }

    enum Decision {
        case upgrade
        case answer(HTTPResponseStatus, APIError)
    }

    /// What a `GET` with `Upgrade: websocket` gets. HTTPHandler uses the same answer for requests
    /// that were not upgraded, so both paths always agree.
    static func webSocketDecision(_ head: HTTPRequestHead, config: SimulatorConfig) -> Decision {
        guard pathOf(head.uri) == path else { return notFound(head) }
        if let status = config.rejectUpgradeStatus {
            // §1.3: 426 makes Codex fall back to HTTP at once; other statuses burn retries.
            let code = HTTPResponseStatus(statusCode: status)
            return .answer(code, APIError(
                status: status, code: status == 426 ? "upgrade_required" : "websocket_rejected",
                message: "WebSocket mode is not available on this server (simulator --reject-upgrade \(status)); use HTTP POST /v1/responses."))
        }
        if let denied = authorize(head, config: config) { return .answer(.unauthorized, denied) }
        if config.requireBetaHeader, !head.headers[canonicalForm: "OpenAI-Beta"].contains(where: { $0.hasPrefix("responses_websockets=") }) {
            return .answer(.badRequest, .invalid(
                "This server requires the header 'OpenAI-Beta: responses_websockets=2026-02-06' on the WebSocket upgrade.",
                code: "missing_beta_header"))
        }
        return .upgrade
    }

    /// §1.2: `Authorization: Bearer <key>`; 401 with an OpenAI-style body otherwise (§1.3).
    static func authorize(_ head: HTTPRequestHead, config: SimulatorConfig) -> APIError? {
        guard let header = head.headers.first(name: "Authorization") else {
            return APIError(status: 401, code: nil, message:
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
        }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer",
              case let key = parts[1].trimmingSpaces, !key.isEmpty else {
            return APIError(status: 401, code: nil, message:
                "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).")
        }
        if let expected = config.apiKey, key != expected {
            return APIError(status: 401, code: "invalid_api_key", message: "Incorrect API key provided: \(redact(key)).")
        }
        return nil
    }

    static func notFound(_ head: HTTPRequestHead) -> Decision {
        .answer(.notFound, APIError(status: 404, code: "unknown_url",
                                    message: "Invalid URL (\(head.method.rawValue) \(pathOf(head.uri)))."))
    }

    static func pathOf(_ uri: String) -> Substring {
        uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
    }

    private static func redact(_ key: String) -> String {
        key.count <= 8 ? String(repeating: "*", count: key.count) : key.prefix(3) + "****" + key.suffix(4)
    }
}

extension Substring {
    var trimmingSpaces: String {
        String(drop(while: { $0 == " " }).reversed().drop(while: { $0 == " " }).reversed())
    }
}
