import Foundation
import NIOCore
import Testing
@testable import ResponsesTLS
@testable import ResponsesWSCore

/// Host names are checked against subjectAltName only, and TLS set-up errors name the setting.
@Suite struct StrictTLSTests {
    /// A self-signed certificate with CN=localhost and no subjectAltName, made in a temp dir.
    static func certificateWithoutSAN() throws -> (cert: String, key: String) {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("rws-nosan-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let cert = dir.appendingPathComponent("cert.pem").path
        let key = dir.appendingPathComponent("key.pem").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost",
                             "-days", "2", "-keyout", key, "-out", cert]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        return (cert, key)
    }

    @Test func aCertificateWithoutSANDoesNotPassOnItsCommonName() async throws {
        let (cert, key) = try Self.certificateWithoutSAN()
        let server = try await TestServer.start(tls: try TLSContext.server(certificateFile: cert, privateKeyFile: key))
        defer { Task { await server.stop() } }
        let config = ConnectionConfig(tls: try TLSContext.client(caFile: cert))
        let error = try await connectFailure(server.endpoint("/echo", scheme: .wss, host: "localhost"), config: config)
        #expect(error.kind == .tlsVerify, "\(error.kind): \(error.message)")
        #expect(error.message.contains("hostname mismatch"), "\(error.message)")
    }

    @Test func aMissingSSLCertFileIsNamedAsSuch() {
        var config = ClientConfig()
        config.baseURL = "https://127.0.0.1:9/v1"
        config.apiKey = "sk-test"
        do {
            _ = try ResolvedConfig(config) { $0 == "SSL_CERT_FILE" ? "/nonexistent/rws-ca.pem" : nil }
            Issue.record("accepted a missing SSL_CERT_FILE")
        } catch {
            #expect(error.message.contains("SSL_CERT_FILE") && !error.message.contains("ca_file"), "\(error.message)")
            #expect(error.message.contains("/nonexistent/rws-ca.pem"))
        }
    }

    @Test func aMissingCAFileIsNamedAsSuch() {
        var config = ClientConfig()
        config.baseURL = "https://127.0.0.1:9/v1"
        config.apiKey = "sk-test"
        config.caFile = "/nonexistent/rws-ca.pem"
        do {
            _ = try ResolvedConfig(config) { $0 == "SSL_CERT_FILE" ? "/other.pem" : nil }
            Issue.record("accepted a missing ca_file")
        } catch {
            #expect(error.message.contains("ca_file") && !error.message.contains("SSL_CERT_FILE"), "\(error.message)")
        }
    }
}
