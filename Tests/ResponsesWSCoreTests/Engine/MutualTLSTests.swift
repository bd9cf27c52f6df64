import Foundation
import ResponsesWSSim
import Testing
@testable import ResponsesWSCore

/// Client certificates (mTLS) against the simulator's TLS mode made to require one.
@Suite struct MutualTLSTests {
    /// A client CA, a client certificate it issued (plain and encrypted key), and a
    /// self-signed "rogue" client certificate it did not issue; made once per run.
    struct ClientPKI: Sendable {
        let caFile: String
        let cert: String, key: String
        let encryptedKey: String
        let rogueCert: String, rogueKey: String
        static let passphrase = "mtls-test-passphrase-42"

        static let shared: Result<ClientPKI, Error> = Result {
            let dir = FileManager.default.temporaryDirectory
                .appendingPathComponent("rws-mtls-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            func openssl(_ arguments: String...) throws { try TestCertificates.openssl(arguments) }
            let p = { (name: String) in "\(dir)/\(name)" }
            try openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=rws test client CA", "-days", "2",
                        "-keyout", p("ca.key"), "-out", p("ca.pem"))
            try openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=rws test client", "-keyout", p("client.key"), "-out", p("client.csr"))
            try openssl("x509", "-req", "-in", p("client.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial",
                        "-days", "2", "-out", p("client.pem"))
            try openssl("pkey", "-in", p("client.key"), "-aes256", "-passout", "pass:\(passphrase)", "-out", p("client-encrypted.key"))
            try openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=rogue client", "-days", "2",
                        "-keyout", p("rogue.key"), "-out", p("rogue.pem"))
            return ClientPKI(caFile: p("ca.pem"), cert: p("client.pem"), key: p("client.key"), encryptedKey: p("client-encrypted.key"),
                             rogueCert: p("rogue.pem"), rogueKey: p("rogue.key"))
        }
    }

    /// One turn over wss:// (or https://) to a simulator that requires a client certificate.
    private func turn(transport: Transport = .webSocket, _ configure: (inout ClientConfig, ClientPKI) -> Void) async throws -> TurnResult {
        let pki = try ClientPKI.shared.get()
        let server = try TestCertificates.get()
        var simConfig = SimulatorConfig()
        simConfig.tokensPerSecond = 0
        simConfig.tlsCertificateFile = server.localhostCert
        simConfig.tlsPrivateKeyFile = server.localhostKey
        simConfig.tlsClientCAFile = pki.caFile
        let sim = try await Simulator.start(simConfig)
        var config = ClientConfig()
        config.baseURL = sim.baseURL
        config.apiKey = "sk-test"
        config.caFile = server.localhostCert
        config.transport = transport
        config.fallback = .never
        config.maxReconnects = 0
        configure(&config, pki)
        do {
            let client = try ResponsesClient(config)
            defer { try? client.shutdown() }
            let session = try client.makeSession(defaults: defaults)
            let (result, _) = try session.run(#"{"input":"who am I?"}"#)
            await sim.shutdown()
            return result
        } catch {
            await sim.shutdown()
            throw error
        }
    }

    @Test(arguments: [Transport.webSocket, .http])
    func aCertificateFromTheTrustedCAIsAccepted(transport: Transport) async throws {
        let result = try await turn(transport: transport) { config, pki in
            config.tlsClientCertFile = pki.cert
            config.tlsClientKeyFile = pki.key
        }
        #expect(result.status == .ok, "\(result.message)")
        #expect(result.transport == transport)
    }

    @Test func anEncryptedKeyWithItsPassphrase() async throws {
        let result = try await turn { config, pki in
            config.tlsClientCertFile = pki.cert
            config.tlsClientKeyFile = pki.encryptedKey
            config.tlsClientKeyPassphrase = ClientPKI.passphrase
        }
        #expect(result.status == .ok, "\(result.message)")
    }

    @Test func noCertificateIsRefusedWithAMessageThatSaysSo() async throws {
        let result = try await turn { _, _ in }
        #expect(result.status == .tls, "\(result.status): \(result.message)")
        #expect(result.message.contains("the server requires a client certificate: set tls_client_cert and tls_client_key"), "\(result.message)")
    }

    @Test func aCertificateFromAnotherCAIsRefused() async throws {
        let result = try await turn { config, pki in
            config.tlsClientCertFile = pki.rogueCert
            config.tlsClientKeyFile = pki.rogueKey
        }
        #expect(result.status == .tls, "\(result.status): \(result.message)")
        #expect(result.message.contains("the server refused the client certificate '\(try! ClientPKI.shared.get().rogueCert)'"), "\(result.message)")
    }

    @Test func badKeyConfigurationsFailAtClientCreation() throws {
        let pki = try ClientPKI.shared.get()
        func error(_ configure: (inout ClientConfig) -> Void) -> RWSError? {
            var config = ClientConfig()
            config.baseURL = "https://127.0.0.1:1/v1"
            configure(&config)
            do { _ = try ResponsesClient(config); return nil } catch { return error }
        }
        let wrongPassphrase = error { $0.tlsClientCertFile = pki.cert; $0.tlsClientKeyFile = pki.encryptedKey; $0.tlsClientKeyPassphrase = "not-the-passphrase" }
        #expect(wrongPassphrase?.status == .tls)
        #expect(wrongPassphrase?.message.contains("wrong passphrase?") == true, "\(wrongPassphrase?.message ?? "")")
        #expect(wrongPassphrase?.message.contains("not-the-passphrase") == false)
        let noPassphrase = error { $0.tlsClientCertFile = pki.cert; $0.tlsClientKeyFile = pki.encryptedKey }
        #expect(noPassphrase?.status == .tls)
        #expect(noPassphrase?.message.contains("it is encrypted: give its passphrase") == true, "\(noPassphrase?.message ?? "")")
        let mismatch = error { $0.tlsClientCertFile = pki.cert; $0.tlsClientKeyFile = pki.rogueKey }
        #expect(mismatch?.message.contains("key values mismatch") == true, "\(mismatch?.message ?? "")")
        #expect(mismatch?.message.contains("passphrase") == false, "\(mismatch?.message ?? "")")
        let halfConfigured = error { $0.tlsClientCertFile = pki.cert }
        #expect(halfConfigured?.status == .invalidArgument)
        let missing = error { $0.tlsClientCertFile = "/nonexistent/client.pem"; $0.tlsClientKeyFile = pki.key }
        #expect(missing?.message.contains("cannot read certificate file '/nonexistent/client.pem'") == true, "\(missing?.message ?? "")")
    }
}
