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

    private init(ctx: OpaquePointer, role: Role, verifiesPeer: Bool, trustSource: String) {
        self.ctx = ctx
        self.role = role
        self.verifiesPeer = verifiesPeer
        self.trustSource = trustSource
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
    public static func client(caFile: String? = nil, verifyPeer: Bool = true, caFileOption: String = "ca_file") throws(TLSError) -> TLSContext {
        let ctx = try makeContext(TLS_client_method())
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
        return TLSContext(ctx: ctx, role: .client, verifiesPeer: verifyPeer, trustSource: trust)
    }

    /// A server context presenting the certificate chain in `certificateFile` (PEM, leaf first)
    /// with the PEM private key in `privateKeyFile`.
    public static func server(certificateFile: String, privateKeyFile: String) throws(TLSError) -> TLSContext {
        let ctx = try makeContext(TLS_server_method())
        do throws(TLSError) {
            try checkReadable(certificateFile, what: "certificate file")
            try checkReadable(privateKeyFile, what: "private key file")
            OpenSSLErrorQueue.clear()
            guard SSL_CTX_use_certificate_chain_file(ctx, certificateFile) == 1 else {
                throw TLSError(.configuration, OpenSSLErrorQueue.message(
                    "cannot use certificate file '\(certificateFile)'", fallback: "not a PEM certificate"))
            }
            guard SSL_CTX_use_PrivateKey_file(ctx, privateKeyFile, SSL_FILETYPE_PEM) == 1 else {
                throw TLSError(.configuration, OpenSSLErrorQueue.message(
                    "cannot use private key file '\(privateKeyFile)'", fallback: "not a PEM private key"))
            }
            guard SSL_CTX_check_private_key(ctx) == 1 else {
                throw TLSError(.configuration, OpenSSLErrorQueue.message(
                    "private key '\(privateKeyFile)' does not match certificate '\(certificateFile)'",
                    fallback: "key mismatch"))
            }
        } catch {
            SSL_CTX_free(ctx)
            throw error
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nil)
        return TLSContext(ctx: ctx, role: .server, verifiesPeer: false, trustSource: "")
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
