import COpenSSL
import NIOCore

/// One TLS connection's OpenSSL state: an `SSL` between two memory BIOs. It does no I/O itself:
/// `TLSHandler` feeds it network bytes and takes the ciphertext it produces.
/// Not thread-safe; used from one event loop only.
final class OpenSSLSession {
    enum HandshakeResult {
        case complete
        case wantMore
        case failed(TLSError)
    }

    enum ReadResult {
        /// Some plaintext was appended to the buffer.
        case bytes
        /// Nothing more until more network bytes arrive (post-handshake messages are handled inside).
        case wantMore
        /// The peer sent close_notify: it will send no more data.
        case closeNotify
        case failed(TLSError)
    }

    enum WriteResult {
        case complete
        /// OpenSSL needs network input first; retry the same bytes later.
        case wantMore
        case failed(TLSError)
    }

    private let ssl: OpaquePointer
    /// Network → OpenSSL. Owned by `ssl`.
    private let networkIn: OpaquePointer
    /// OpenSSL → network. Owned by `ssl`.
    private let networkOut: OpaquePointer
    let isClient: Bool
    private let verifiesPeer: Bool
    /// The host name or IP the client expects, for messages; nil on servers.
    let peerName: String?
    /// Keeps the SSL_CTX alive as long as the SSL uses it.
    private let context: TLSContext

    init(context: TLSContext, peerName: String?) throws(TLSError) {
        OpenSSLErrorQueue.clear()
        guard let ssl = SSL_new(context.ctx) else {
            throw TLSError(.configuration, OpenSSLErrorQueue.message("SSL_new failed", fallback: "out of memory?"))
        }
        guard let networkIn = BIO_new(BIO_s_mem()), let networkOut = BIO_new(BIO_s_mem()) else {
            SSL_free(ssl)
            throw TLSError(.configuration, "BIO_new failed: out of memory?")
        }
        SSL_set_bio(ssl, networkIn, networkOut)
        self.ssl = ssl
        self.networkIn = networkIn
        self.networkOut = networkOut
        self.context = context
        self.isClient = context.role == .client
        self.verifiesPeer = context.verifiesPeer
        self.peerName = peerName

        if isClient {
            SSL_set_connect_state(ssl)
            if let peerName {
                try configurePeerName(peerName)
            }
        } else {
            SSL_set_accept_state(ssl)
        }
    }

    deinit {
        SSL_free(ssl)
    }

    /// SNI for names (RFC 6066 forbids IP literals there); name or IP checks when verifying.
    private func configurePeerName(_ name: String) throws(TLSError) {
        let isIPLiteral = (try? SocketAddress(ipAddress: name, port: 0)) != nil
        if !isIPLiteral {
            guard rws_ssl_set_tlsext_host_name(ssl, name) == 1 else {
                throw TLSError(.configuration, OpenSSLErrorQueue.message(
                    "cannot use '\(name)' as TLS server name", fallback: "invalid name"))
            }
        }
        guard verifiesPeer else { return }
        let ok: Int32
        if isIPLiteral {
            ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name)
        } else {
            // subjectAltName only (RFC 6125 §6.4.4, CA/B Forum): a certificate without a DNS
            // SAN must not pass on its subject CN.
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS | X509_CHECK_FLAG_NEVER_CHECK_SUBJECT))
            ok = SSL_set1_host(ssl, name)
        }
        guard ok == 1 else {
            throw TLSError(.configuration, OpenSSLErrorQueue.message(
                "cannot check the server certificate against '\(name)'", fallback: "invalid name"))
        }
    }

    // MARK: - Network side

    /// Hands bytes received from the network to OpenSSL. A memory BIO takes everything.
    func feed(_ buffer: ByteBuffer) {
        buffer.withUnsafeReadableBytes { raw in
            var offset = 0
            while offset < raw.count, let base = raw.baseAddress {
                let chunk = Int32(min(raw.count - offset, Int(Int32.max)))
                let written = BIO_write(networkIn, base + offset, chunk)
                if written <= 0 { break }  // only on allocation failure; the next SSL call then fails
                offset += Int(written)
            }
        }
    }

    var hasCiphertext: Bool { rws_bio_pending(networkOut) > 0 }

    /// Takes all ciphertext OpenSSL has produced so far, or nil if there is none.
    func takeCiphertext(allocator: ByteBufferAllocator) -> ByteBuffer? {
        let pending = Int(rws_bio_pending(networkOut))
        guard pending > 0 else { return nil }
        var out = allocator.buffer(capacity: pending)
        while true {
            let available = Int(rws_bio_pending(networkOut))
            if available == 0 { break }
            let chunk = min(available, Int(Int32.max))
            let read = out.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk) { raw in
                Int(max(0, BIO_read(networkOut, raw.baseAddress, Int32(chunk))))
            }
            if read == 0 { break }
        }
        return out
    }

    // MARK: - TLS operations

    func handshake() -> HandshakeResult {
        OpenSSLErrorQueue.clear()
        let rc = SSL_do_handshake(ssl)
        if rc == 1 { return .complete }
        let code = SSL_get_error(ssl, rc)
        if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return .wantMore }
        return .failed(handshakeFailure(code))
    }

    private func handshakeFailure(_ code: Int32) -> TLSError {
        let verifyResult = SSL_get_verify_result(ssl)
        if isClient && verifiesPeer && verifyResult != Int(X509_V_OK) {
            _ = OpenSSLErrorQueue.drainReasons()
            let reason = String(cString: X509_verify_cert_error_string(verifyResult))
            return TLSError(.verification, reason)
        }
        let fallback = code == SSL_ERROR_SYSCALL ? "the connection broke" : "SSL error \(code)"
        return TLSError(.handshake, OpenSSLErrorQueue.message("TLS handshake failed", fallback: fallback))
    }

    /// Decrypts into `buffer`'s writable space (the caller guarantees some).
    func read(into buffer: inout ByteBuffer) -> ReadResult {
        OpenSSLErrorQueue.clear()
        var rc: Int32 = 0
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: 1) { raw in
            rc = SSL_read(ssl, raw.baseAddress, Int32(min(raw.count, Int(Int32.max))))
            return rc > 0 ? Int(rc) : 0
        }
        if rc > 0 { return .bytes }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wantMore
        case SSL_ERROR_ZERO_RETURN:
            return .closeNotify
        case let code:
            let fallback = code == SSL_ERROR_SYSCALL ? "the connection broke" : "SSL error \(code)"
            return .failed(TLSError(.io, OpenSSLErrorQueue.message("TLS read failed", fallback: fallback)))
        }
    }

    /// Encrypts all of `bytes` (non-empty) or nothing: partial writes are off, so OpenSSL either
    /// takes the whole buffer or asks to be called again with the same bytes.
    func write(_ bytes: UnsafeRawBufferPointer) -> WriteResult {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .complete }
        OpenSSLErrorQueue.clear()
        let rc = SSL_write(ssl, base, Int32(bytes.count))
        if rc > 0 { return .complete }
        switch SSL_get_error(ssl, rc) {
        case SSL_ERROR_WANT_READ, SSL_ERROR_WANT_WRITE:
            return .wantMore
        case let code:
            return .failed(TLSError(.io, OpenSSLErrorQueue.message("TLS write failed", fallback: "SSL error \(code)")))
        }
    }

    /// Queues our close_notify. Only valid after a successful handshake and before any fatal error.
    func shutdown() {
        OpenSSLErrorQueue.clear()
        _ = SSL_shutdown(ssl)
        OpenSSLErrorQueue.clear()
    }

    /// "TLSv1.3" etc.
    var protocolVersion: String {
        String(cString: SSL_get_version(ssl))
    }

    var cipherName: String {
        guard let cipher = SSL_get_current_cipher(ssl), let name = SSL_CIPHER_get_name(cipher) else { return "" }
        return String(cString: name)
    }
}
