import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import ResponsesTLS

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Turns NIO, OpenSSL and HTTP failures into actionable `TransportError`s.
enum TransportErrorMapping {
    /// A failure while connecting (DNS, TCP, TLS set-up).
    static func connectFailure(_ error: Error, endpoint: Endpoint, tls: TLSContext?) -> TransportError {
        switch error {
        case let error as TransportError:
            return error
        case let error as TLSError:
            return tlsFailure(error, endpoint: endpoint, tls: tls)
        case let error as NIOConnectionError:
            if let first = error.connectionErrors.first {
                return socketFailure(first.error, endpoint: endpoint)
            }
            // HostLookups says why the name did not resolve (or that the client was freed).
            if let lookup = (error.dnsAAAAError ?? error.dnsAError) as? TransportError { return lookup }
            return TransportError(.dns, "cannot resolve host '\(endpoint.host)': check the host name in the URL and the DNS settings")
        case ChannelError.connectTimeout(let amount):
            return TransportError(.timeout, "TCP connect to \(endpoint.hostAndPort) timed out after \(describe(amount))")
        default:
            return socketFailure(error, endpoint: endpoint)
        }
    }

    private static func socketFailure(_ error: Error, endpoint: Endpoint) -> TransportError {
        guard let io = error as? IOError else {
            if case ChannelError.connectTimeout(let amount) = error {
                return TransportError(.timeout, "TCP connect to \(endpoint.hostAndPort) timed out after \(describe(amount))")
            }
            return TransportError(.connect, "cannot connect to \(endpoint.hostAndPort): \(error)")
        }
        switch io.errnoCode {
        case ECONNREFUSED:
            return TransportError(.connect, "connection refused by \(endpoint.hostAndPort): is the server running?")
        case ENETUNREACH, EHOSTUNREACH:
            return TransportError(.connect, "\(endpoint.hostAndPort) is unreachable: check the network and the host in the URL")
        case ETIMEDOUT:
            return TransportError(.timeout, "TCP connect to \(endpoint.hostAndPort) timed out")
        default:
            return TransportError(.connect, "cannot connect to \(endpoint.hostAndPort): \(reason(io.errnoCode))")
        }
    }

    static func tlsFailure(_ error: TLSError, endpoint: Endpoint, tls: TLSContext?) -> TransportError {
        if error.kind != .verification, error.kind != .configuration, let why = clientCertificateRefusal(error.message, tls: tls) {
            return TransportError(.tls, "TLS with \(endpoint.hostAndPort) failed: \(why) (\(stripPrefix(error.message)))")
        }
        switch error.kind {
        case .verification:
            let trust = tls.map { " (trusted roots: \($0.trustSource))" } ?? ""
            return TransportError(.tlsVerify,
                "TLS certificate verify failed for \(endpoint.host): \(error.message)\(trust); "
                + "set ca_file or SSL_CERT_FILE to trust a private CA, or check the host name")
        case .handshake:
            return TransportError(.tls, "TLS handshake with \(endpoint.hostAndPort) failed: \(stripPrefix(error.message)) (is it a TLS port?)")
        case .configuration:
            return TransportError(.tls, "cannot set up TLS for \(endpoint.hostAndPort): \(error.message)")
        case .io:
            return TransportError(.tls, "TLS error on the connection to \(endpoint.hostAndPort): \(stripPrefix(error.message))")
        }
    }

    /// The alerts a server sends when it wants a client certificate (mTLS) and got none or one
    /// it does not trust; in TLS 1.3 they arrive after the client's side of the handshake, on
    /// the first read. Says what to set.
    private static func clientCertificateRefusal(_ message: String, tls: TLSContext?) -> String? {
        let text = message.lowercased()
        let certificateAlerts = ["certificate required", "alert bad certificate", "alert unknown ca",
                                 "alert certificate unknown", "alert certificate expired", "alert access denied"]
        guard certificateAlerts.contains(where: text.contains) else { return nil }
        if let file = tls?.clientCertificateFile {
            return "the server refused the client certificate '\(file)': check that it is issued by a CA the server trusts and not expired"
        }
        return "the server requires a client certificate: set tls_client_cert and tls_client_key"
    }

    private static func stripPrefix(_ message: String) -> String {
        for prefix in ["TLS handshake failed: ", "TLS read failed: ", "TLS write failed: "] where message.hasPrefix(prefix) {
            return String(message.dropFirst(prefix.count))
        }
        return message
    }

    /// A non-101 answer to the upgrade (`isUpgrade`) or a non-2xx answer to a POST.
    static func httpFailure(
        status: HTTPResponseStatus,
        headers: HTTPHeaders,
        body: ByteBuffer?,
        endpoint: Endpoint,
        isUpgrade: Bool,
        redactor: CredentialRedactor
    ) -> TransportError {
        let code = Int(status.code)
        let bodyText = body.flatMap { bodyString($0, redactor: redactor) }
        let at = isUpgrade ? "at WebSocket upgrade" : "from POST \(endpoint.path)"
        let explanation: String
        switch code {
        case 401: explanation = "the API key was rejected"
        case 403: explanation = "access denied: the key lacks permission for this project, organization or model"
        case 404: explanation = isUpgrade
            ? "no WebSocket endpoint at \(endpoint.url): check the base URL"
            : "no such endpoint \(endpoint.url): check the base URL"
        case 405: explanation = "method not allowed at \(endpoint.url)"
        case 426: explanation = "the server does not support WebSocket mode: use the HTTP transport"
        case 429: explanation = "rate limited" + (headers.first(name: "retry-after").map {
            RetryAfter.isDelaySeconds($0) ? "; retry after \($0) s" : "; retry after \($0)"
        } ?? "")
        case 500...599: explanation = "server error; retry later"
        default: explanation = "unexpected answer \(status.reasonPhrase)"
        }
        let kind: TransportError.Kind = (code == 401 || code == 403) ? .auth : (isUpgrade ? .upgradeRefused : .httpStatus)
        var message = "HTTP \(code) \(at): \(explanation)"
        if let bodyText, !bodyText.isEmpty {
            message += " (body: \(snippet(bodyText)))"
        }
        let requestID = RequestID.from(headers)
        var error = TransportError(kind, RequestID.appending(requestID, to: message), httpStatus: code, body: bodyText)
        error.requestID = requestID
        if code == 429 || code == 503 { error.retryAfter = headers.first(name: "retry-after") }
        return error
    }

    /// Up to `TransportError.maxBodyBytes` of a body as text, credentials redacted.
    static func bodyString(_ body: ByteBuffer, redactor: CredentialRedactor) -> String {
        let bytes = body.readableBytesView.prefix(TransportError.maxBodyBytes)
        return redactor.redact(String(decoding: bytes, as: UTF8.self))
    }

    /// One line of at most 300 characters for a message.
    private static func snippet(_ text: String) -> String {
        var line = String(text.map { $0.isNewline || $0 == "\t" ? " " : $0 })
        if line.count > 300 { line = String(line.prefix(300)) + "…" }
        return line.trimmingSpaces()
    }

    /// An error on an open WebSocket or during a request, other than WebSocket protocol errors.
    static func connectionFailure(_ error: Error, endpoint: Endpoint, tls: TLSContext?) -> TransportError {
        switch error {
        case let error as TransportError:
            return error
        case let error as TLSError:
            return tlsFailure(error, endpoint: endpoint, tls: tls)
        case let error as IOError:
            return TransportError(.closed, "connection to \(endpoint.hostAndPort) lost: \(reason(error.errnoCode))", closeCode: 1006)
        case HTTPParserError.invalidEOFState:
            return TransportError(.closed, "\(endpoint.hostAndPort) closed the connection in the middle of an HTTP response")
        case let error as HTTPParserError:
            return TransportError(.protocolViolation, "invalid HTTP from \(endpoint.hostAndPort): \(error)")
        case let error as NIOHTTPClientUpgradeError:
            return TransportError(.protocolViolation, "invalid WebSocket upgrade answer from \(endpoint.hostAndPort): \(error)")
        default:
            return TransportError(.closed, "connection to \(endpoint.hostAndPort) failed: \(error)", closeCode: 1006)
        }
    }

    static func reason(_ errnoCode: Int32) -> String {
        String(cString: strerror(errnoCode))
    }

    /// "15 s", "250 ms".
    static func describe(_ amount: TimeAmount) -> String {
        let nanoseconds = amount.nanoseconds
        if nanoseconds % 1_000_000_000 == 0 { return "\(nanoseconds / 1_000_000_000) s" }
        if nanoseconds % 1_000_000 == 0 { return "\(nanoseconds / 1_000_000) ms" }
        return "\(Double(nanoseconds) / 1e9) s"
    }

    /// "1011 (internal error)".
    static func describeCloseCode(_ code: UInt16) -> String {
        let name: String
        switch code {
        case 1000: name = "normal closure"
        case 1001: name = "going away"
        case 1002: name = "protocol error"
        case 1003: name = "unsupported data"
        case 1005: name = "no status code"
        case 1006: name = "abnormal closure"
        case 1007: name = "invalid payload"
        case 1008: name = "policy violation"
        case 1009: name = "message too big"
        case 1010: name = "missing extension"
        case 1011: name = "internal error"
        case 1012: name = "service restart"
        case 1013: name = "try again later"
        case 1015: name = "TLS failure"
        default: return "\(code)"
        }
        return "\(code) (\(name))"
    }

    /// "64 MiB", "1000 bytes".
    static func describeBytes(_ count: Int) -> String {
        if count >= 1 << 20 && count % (1 << 20) == 0 { return "\(count >> 20) MiB" }
        if count >= 1 << 10 && count % (1 << 10) == 0 { return "\(count >> 10) KiB" }
        return "\(count) bytes"
    }
}
