import COpenSSL
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A configured OpenSSL `SSL_CTX`, shared by every connection made with it.
///
/// `@unchecked Sendable`: the `SSL_CTX` is fully configured inside the factory methods and never
/// mutated afterwards; OpenSSL allows concurrent `SSL_new` on such a context from any thread.
public final class TLSContext: @unchecked Sendable {
    public enum Role: Sendable, Hashable { case client, server }

    let ctx: OpaquePointer
    public let role: Role
    /// Whether client handlers verify the server's certificate chain and name.
    public let verifiesPeer: Bool
    /// Where trusted roots came from, for error messages: "ca_file /x.pem", "SSL_CERT_FILE=/x.pem",
    /// "the system default paths", or "" for servers.
    public let trustSource: String
    /// The client certificate a client context presents, for error messages (nil: none).
    public let clientCertificateFile: String?

    private init(ctx: OpaquePointer, role: Role, verifiesPeer: Bool, trustSource: String, clientCertificateFile: String? = nil) {
        self.ctx = ctx
        self.role = role
        self.verifiesPeer = verifiesPeer
        self.trustSource = trustSource
        self.clientCertificateFile = clientCertificateFile
    }

    deinit {
        SSL_CTX_free(ctx)
    }

    /// A client context for wss:// and https:// (TLS ≥ 1.2).
    ///
    /// Trust roots: `caFile` if given, else the file named by `SSL_CERT_FILE` if that is set,
    /// else OpenSSL's system default paths. `verifyPeer: false` skips chain and name checks
    /// (for local testing only).
    /// `caFileOption` names where `caFile` came from in messages ("ca_file", "SSL_CERT_FILE"),
    /// so that a wrong path points at the setting to fix.
    /// `clientCertificate`: a certificate chain and key to present to servers that ask (mTLS).
    public static func client(caFile: String? = nil, verifyPeer: Bool = true, caFileOption: String = "ca_file",
                              clientCertificate: ClientCertificate? = nil) throws(TLSError) -> TLSContext {
        let ctx = try makeContext(TLS_client_method())
        if let clientCertificate {
            do throws(TLSError) {
                try useCertificate(ctx, clientCertificate)
            } catch {
                SSL_CTX_free(ctx)
                throw error
            }
        }
        let trust: String
        if let caFile {
            try loadVerifyFile(ctx, caFile, what: caFileOption)
            trust = caFileOption == "ca_file" ? "ca_file \(caFile)" : "\(caFileOption)=\(caFile)"
        } else if let envFile = environment("SSL_CERT_FILE"), !envFile.isEmpty {
            try loadVerifyFile(ctx, envFile, what: "SSL_CERT_FILE")
            trust = "SSL_CERT_FILE=\(envFile)"
        } else {
            OpenSSLErrorQueue.clear()
            guard SSL_CTX_set_default_verify_paths(ctx) == 1 else {
                SSL_CTX_free(ctx)
                throw TLSError(.configuration, OpenSSLErrorQueue.message(
                    "cannot load the system's trusted certificates", fallback: "unknown error"))
            }
            trust = "the system default paths"
        }
        SSL_CTX_set_verify(ctx, verifyPeer ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nil)
        return TLSContext(ctx: ctx, role: .client, verifiesPeer: verifyPeer, trustSource: trust,
                          clientCertificateFile: clientCertificate?.certificateFile)
    }

    /// A server context presenting the certificate chain in `certificateFile` (PEM, leaf first)
    /// with the PEM private key in `privateKeyFile`. With `clientCAFile`, every client must
    /// present a certificate issued by one of its CAs (mTLS), or the handshake fails.
    public static func server(certificateFile: String, privateKeyFile: String, clientCAFile: String? = nil) throws(TLSError) -> TLSContext {
        let ctx = try makeContext(TLS_server_method())
        do throws(TLSError) {
            try useCertificate(ctx, ClientCertificate(certificateFile: certificateFile, privateKeyFile: privateKeyFile))
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        guard let clientCAFile else {
            SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
            return TLSContext(ctx: ctx, role: .server, verifiesPeer: false, trustSource: "")
        }
        try loadVerifyFile(ctx, clientCAFile, what: "client CA file")
        // The CA names sent in the CertificateRequest, so clients can pick a matching certificate.
        if let names = SSL_load_client_CA_file(clientCAFile) { SSL_CTX_set_client_CA_list(ctx, names) }
        SSL_CTX_set_verify(ctx, rws_ssl_verify_require_peer(), nil)
        return TLSContext(ctx: ctx, role: .server, verifiesPeer: true, trustSource: "client CA file \(clientCAFile)")
    }

    /// A certificate chain (PEM, leaf first) and its private key (PEM, optionally encrypted).
    public struct ClientCertificate: Sendable {
        public var certificateFile: String
        public var privateKeyFile: String
        public var passphrase: String?

        public init(certificateFile: String, privateKeyFile: String, passphrase: String? = nil) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.passphrase = passphrase
        }
    }

    /// Loads a certificate chain and its key into `ctx` and checks that they belong together.
    private static func useCertificate(_ ctx: OpaquePointer, _ c: ClientCertificate) throws(TLSError) {
        try checkReadable(c.certificateFile, what: "certificate file")
        try checkReadable(c.privateKeyFile, what: "private key file")
        OpenSSLErrorQueue.clear()
        guard SSL_CTX_use_certificate_chain_file(ctx, c.certificateFile) == 1 else {
            throw TLSError(.configuration, OpenSSLErrorQueue.message(
                "cannot use certificate file '\(c.certificateFile)'", fallback: "not a PEM certificate"))
        }
        // The passphrase is handed to OpenSSL only while the key is read.
        let loaded: Int32 = c.passphrase.map { pass in
            pass.withCString { p in
                rws_ssl_ctx_set_passphrase(ctx, p)
                defer { rws_ssl_ctx_set_passphrase(ctx, nil) }
                return SSL_CTX_use_PrivateKey_file(ctx, c.privateKeyFile, SSL_FILETYPE_PEM)
            }
        } ?? {
            // No passphrase: an encrypted key must fail, not prompt on the terminal.
            "".withCString { empty in
                rws_ssl_ctx_set_passphrase(ctx, empty)
                defer { rws_ssl_ctx_set_passphrase(ctx, nil) }
                return SSL_CTX_use_PrivateKey_file(ctx, c.privateKeyFile, SSL_FILETYPE_PEM)
            }
        }()
        guard loaded == 1 else {
            let encrypted = isEncryptedPEM(c.privateKeyFile)
            let hint = !encrypted ? "" : c.passphrase == nil ? " (it is encrypted: give its passphrase)" : " (wrong passphrase?)"
            throw TLSError(.configuration, OpenSSLErrorQueue.message(
                "cannot use private key file '\(c.privateKeyFile)'" + hint, fallback: "not a PEM private key"))
        }
        guard SSL_CTX_check_private_key(ctx) == 1 else {
            throw TLSError(.configuration, OpenSSLErrorQueue.message(
                "private key '\(c.privateKeyFile)' does not match certificate '\(c.certificateFile)'",
                fallback: "key mismatch"))
        }
    }

    /// A handler for one outgoing connection to `serverHostname` (a DNS name or an IP literal,
    /// without brackets). Names get SNI and a host-name check; IP literals an IP check.
    /// The handler is loop-confined: add it with `syncOperations` on the channel's event loop.
    public func makeClientHandler(serverHostname: String) throws(TLSError) -> ChannelHandler {
        guard role == .client else {
            throw TLSError(.configuration, "makeClientHandler needs a client TLSContext")
        }
        let session = try OpenSSLSession(context: self, peerName: serverHostname)
        return TLSHandler(session: session)
    }

    /// A handler for one accepted connection.
    public func makeServerHandler() throws(TLSError) -> ChannelHandler {
        guard role == .server else {
            throw TLSError(.configuration, "makeServerHandler needs a server TLSContext")
        }
        let session = try OpenSSLSession(context: self, peerName: nil)
        return TLSHandler(session: session)
    }

    /// Test hook: caps the protocol at TLS 1.2 (to exercise a TLS 1.2 peer). Call before use only.
    func limitToTLS12() {
        _ = rws_ssl_ctx_set_max_proto_version(ctx, rws_tls1_2_version())
    }

    // MARK: - Building blocks

    private static func makeContext(_ method: OpaquePointer?) throws(TLSError) -> OpaquePointer {
        OpenSSLErrorQueue.clear()
        guard let ctx = SSL_CTX_new(method) else {
            throw TLSError(.configuration, OpenSSLErrorQueue.message("SSL_CTX_new failed", fallback: "out of memory?"))
        }
        guard rws_ssl_ctx_set_min_proto_version(ctx, rws_tls1_2_version()) == 1 else {
            SSL_CTX_free(ctx)
            throw TLSError(.configuration, OpenSSLErrorQueue.message(
                "cannot require TLS 1.2 or newer", fallback: "unknown error"))
        }
        _ = rws_ssl_ctx_set_mode_accept_moving_write_buffer(ctx)
        _ = SSL_CTX_set_options(ctx, rws_ssl_op_no_renegotiation())
        return ctx
    }

    private static func loadVerifyFile(_ ctx: OpaquePointer, _ path: String, what: String) throws(TLSError) {
        do throws(TLSError) {
            try checkReadable(path, what: what)
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        OpenSSLErrorQueue.clear()
        guard SSL_CTX_load_verify_locations(ctx, path, nil) == 1 else {
            SSL_CTX_free(ctx)
            throw TLSError(.configuration, OpenSSLErrorQueue.message(
                "cannot load trusted certificates from \(what) '\(path)'", fallback: "no PEM certificates in it"))
        }
    }

    /// Whether a PEM key file is encrypted (PKCS#8 "ENCRYPTED PRIVATE KEY", or a legacy
    /// "Proc-Type: 4,ENCRYPTED" header), to tell a missing passphrase from a wrong file.
    private static func isEncryptedPEM(_ path: String) -> Bool {
        guard let file = fopen(path, "r") else { return false }
        defer { fclose(file) }
        var head = [UInt8](repeating: 0, count: 512)
        let n = fread(&head, 1, head.count, file)
        let text = String(decoding: head[..<n], as: UTF8.self)
        return text.contains("ENCRYPTED PRIVATE KEY") || text.contains("Proc-Type: 4,ENCRYPTED")
    }

    /// A clear "No such file or directory" beats OpenSSL's "system lib" for the common mistake.
    private static func checkReadable(_ path: String, what: String) throws(TLSError) {
        if access(path, R_OK) != 0 {
            let reason = String(cString: strerror(errno))
            throw TLSError(.configuration, "cannot read \(what) '\(path)': \(reason)")
        }
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}
