import NIOCore
import NIOHTTP1
import ResponsesTLS
import Synchronization

/// Receives one HTTP request's results on its event loop, in order.
public protocol HTTPStreamDelegate: AnyObject {
    /// One SSE `data:` payload (JSON), or the whole JSON body of a non-stream response.
    func httpStream(_ stream: HTTPSSEConnection, didReceiveEvent data: ByteBuffer)
    /// Called exactly once: nil after a complete 2xx response.
    func httpStream(_ stream: HTTPSSEConnection, didFinishWith error: TransportError?)
}

/// One `POST /v1/responses` with a JSON body over HTTP/1.1 (the fallback transport, §5.11),
/// streaming the answer's SSE events. One TCP (+TLS) connection per request, closed after it:
/// fallback requests are rare and long, so keep-alive reuse is not worth its complexity.
///
/// `@unchecked Sendable`: the delegate and completion state live on `eventLoop` (`cancel` hops
/// there); the byte counters are atomics.
public final class HTTPSSEConnection: @unchecked Sendable {
    public let eventLoop: EventLoop
    public let endpoint: Endpoint
    private let sent = Atomic<UInt64>(0)
    private let received = Atomic<UInt64>(0)
    /// Held strongly until `didFinishWith` was delivered, so that call always happens.
    private var delegate: HTTPStreamDelegate?
    private(set) var isFinished = false
    private var attempt: ConnectAttempt<Void>?
    /// Withholds socket reads while the reader is behind (`setReadingPaused`). Event loop only.
    private let readGate = ReadGate()

    private init(endpoint: Endpoint, eventLoop: EventLoop, delegate: HTTPStreamDelegate) {
        self.endpoint = endpoint
        self.eventLoop = eventLoop
        self.delegate = delegate
    }

    /// Request body bytes written. Any thread.
    public var bytesSent: UInt64 { sent.load(ordering: .relaxed) }
    /// Response body bytes received (before SSE parsing). Any thread.
    public var bytesReceived: UInt64 { received.load(ordering: .relaxed) }
    /// The answer's `x-request-id`, once its head has arrived (§1.3). Event loop only.
    public internal(set) var requestID: String?

    /// Starts the request at once. `Content-Type: application/json` and
    /// `Accept: text/event-stream` are sent unless configured otherwise; `connectTimeout` covers
    /// connecting and sending the request, not waiting for the answer.
    public static func post(
        to endpoint: Endpoint,
        body: ByteBuffer,
        config: ConnectionConfig,
        on eventLoop: EventLoop,
        delegate: HTTPStreamDelegate
    ) -> HTTPSSEConnection {
        let connection = HTTPSSEConnection(endpoint: endpoint, eventLoop: eventLoop, delegate: delegate)
        if eventLoop.inEventLoop {
            connection.start(body: body, config: config)
        } else {
            eventLoop.execute { connection.start(body: body, config: config) }
        }
        return connection
    }

    /// Aborts the request; the delegate hears `.cancelled` unless it already finished. Any thread.
    public func cancel() {
        if eventLoop.inEventLoop {
            finish(TransportError(.cancelled, "request to \(endpoint.hostAndPort) cancelled by the client"))
        } else {
            eventLoop.execute { self.cancel() }
        }
    }

    // MARK: - Internals (event loop)

    private func start(body: ByteBuffer, config: ConnectionConfig) {
        guard !isFinished else { return }  // cancelled before it started
        guard !endpoint.scheme.isWebSocket else {
            finish(TransportError(.url,
                "\(endpoint.url) is not an HTTP URL: use http:// or https:// (see Endpoint.httpResponsesURL(baseURL:))"))
            return
        }
        let tls: TLSContext?
        let headers: HTTPHeaders
        do throws(TransportError) {
            tls = try ClientTLS.context(for: endpoint, config: config)
            headers = try RequestHeaders.make(for: endpoint, configured: config.headers, extra: [
                ("Content-Type", "application/json"),
                ("Accept", "text/event-stream"),
                ("Content-Length", "\(body.readableBytes)"),
            ])
        } catch {
            finish(error)
            return
        }
        let request = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.path, headers: headers)
        let redactor = CredentialRedactor(headers: config.headers)
        let attempt = ConnectAttempt<Void>(
            endpoint: endpoint, tls: tls, timeout: config.connectTimeout, finalPhase: .request, eventLoop: eventLoop,
            lookups: config.lookups, proxies: config.proxies)
        self.attempt = attempt
        attempt.futureResult.whenFailure { error in
            self.finish(error as? TransportError ?? TransportError(.connect, "\(error)"))
        }
        let boundAttempt = NIOLoopBound(attempt, eventLoop: eventLoop)
        let maxMessageBytes = config.maxMessageBytes
        attempt.connect { channel in
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(HTTPResponseStreamHandler(
                connection: self, attempt: boundAttempt.value, request: request, body: body,
                maxMessageBytes: maxMessageBytes, redactor: redactor))
            try channel.pipeline.syncOperations.addHandler(self.readGate)
        }
    }

    /// Stops (or resumes) reading the answer, for a caller that is behind (max_queued_bytes):
    /// TCP slows the server down and nothing is dropped. Event loop only.
    public func setReadingPaused(_ paused: Bool) {
        eventLoop.preconditionInEventLoop()
        if paused { readGate.pause() } else { readGate.resume() }
    }

    func deliver(_ event: ByteBuffer) {
        guard !isFinished, let delegate else { return }
        delegate.httpStream(self, didReceiveEvent: event)
    }

    func finish(_ error: TransportError?) {
        eventLoop.preconditionInEventLoop()
        guard !isFinished else { return }
        isFinished = true
        if let attempt {
            // Stops the connect deadline and closes the channel, if still connecting.
            attempt.fail(error ?? TransportError(.cancelled, "request finished"))
            attempt.channel?.close(promise: nil)
            self.attempt = nil
        }
        let delegate = self.delegate
        self.delegate = nil
        delegate?.httpStream(self, didFinishWith: error)
    }

    func addBytesSent(_ count: Int) {
        sent.add(UInt64(count), ordering: .relaxed)
    }

    func addBytesReceived(_ count: Int) {
        received.add(UInt64(count), ordering: .relaxed)
    }
}
