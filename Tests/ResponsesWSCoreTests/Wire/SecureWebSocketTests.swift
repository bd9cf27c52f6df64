import Foundation
import NIOCore
import ResponsesWSCore
import Testing

@testable import ResponsesTLS

/// wss:// against the in-test server with per-run self-signed certificates.
@Suite struct SecureWebSocketTests {
    private func tlsServer(other: Bool = false, tls12Only: Bool = false) async throws -> TestServer {
        let context = try TestCertificates.get().serverContext(other: other)
        if tls12Only { context.limitToTLS12() }
        return try await TestServer.start(tls: context)
    }

    @Test func echoWithCAFile() async throws {
        let certificates = try TestCertificates.get()
        let server = try await tlsServer()
        defer { Task { await server.stop() } }
        let config = ConnectionConfig(tls: try TLSContext.client(caFile: certificates.localhostCert))
        for host in ["127.0.0.1", "localhost"] {  // IP check and host-name check
            let recorder = WebSocketRecorder()
            let connection = try await connect(server.endpoint("/echo", scheme: .wss, host: host), config: config, recorder: recorder)
            try await connection.sendText(ByteBuffer(string: "over TLS to \(host)")).get()
            #expect(try await recorder.waitForMessages(1) == ["over TLS to \(host)"])
            try await connection.close().get()
            #expect(try await recorder.waitForClose() == nil)
        }
    }

    @Test func tls12Server() async throws {
        let certificates = try TestCertificates.get()
        let server = try await tlsServer(tls12Only: true)
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let config = ConnectionConfig(tls: try TLSContext.client(caFile: certificates.localhostCert))
        let connection = try await connect(server.endpoint("/echo", scheme: .wss), config: config, recorder: recorder)
        try await connection.sendText(ByteBuffer(string: "1.2")).get()
        #expect(try await recorder.waitForMessages(1) == ["1.2"])
        try await connection.close().get()
    }

    @Test func selfSignedWithoutCAFileFailsVerification() async throws {
        let server = try await tlsServer()
        defer { Task { await server.stop() } }
        // config.tls nil: the shared default context (SSL_CERT_FILE or the system roots).
        let error = try await connectFailure(server.endpoint("/echo", scheme: .wss))
        #expect(error.kind == .tlsVerify)
        #expect(error.message.hasPrefix("TLS certificate verify failed for 127.0.0.1: self-signed certificate"))
        #expect(error.message.contains("set ca_file or SSL_CERT_FILE"))
    }

    @Test(arguments: [("localhost", "hostname mismatch"), ("127.0.0.1", "IP address mismatch")])
    func wrongNameFailsVerification(host: String, reason: String) async throws {
        let certificates = try TestCertificates.get()
        let server = try await tlsServer(other: true)
        defer { Task { await server.stop() } }
        let config = ConnectionConfig(tls: try TLSContext.client(caFile: certificates.otherCert))
        let error = try await connectFailure(server.endpoint("/echo", scheme: .wss, host: host), config: config)
        #expect(error.kind == .tlsVerify)
        #expect(error.message.hasPrefix("TLS certificate verify failed for \(host): \(reason)"))
    }

    @Test func verifyPeerOffAcceptsAnyCertificate() async throws {
        let server = try await tlsServer(other: true)
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let config = ConnectionConfig(tls: try TLSContext.client(verifyPeer: false))
        let connection = try await connect(server.endpoint("/echo", scheme: .wss), config: config, recorder: recorder)
        try await connection.sendText(ByteBuffer(string: "unverified")).get()
        #expect(try await recorder.waitForMessages(1) == ["unverified"])
        try await connection.close().get()
    }

    @Test func tlsToAPlainServerIsATLSError() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let config = ConnectionConfig(tls: try TLSContext.client(verifyPeer: false))
        let error = try await connectFailure(server.endpoint("/echo", scheme: .wss), config: config)
        #expect(error.kind == .tls)
        #expect(error.message.hasPrefix("TLS handshake with 127.0.0.1:\(server.port) failed"))
    }

    @Test func tenMegabyteMessagesRoundTrip() async throws {
        let certificates = try TestCertificates.get()
        let server = try await tlsServer()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let config = ConnectionConfig(tls: try TLSContext.client(caFile: certificates.localhostCert))
        let connection = try await connect(server.endpoint("/echo", scheme: .wss), config: config, recorder: recorder)
        var payload = ByteBuffer()
        let size = 10 * 1024 * 1024
        payload.writeWithUnsafeMutableBytes(minimumWritableBytes: size) { raw in
            for index in 0..<size { raw[index] = UInt8(ascii: "a") &+ UInt8(index % 26) }
            return size
        }
        let sent = payload
        try await connection.sendText(payload).get()
        try await connection.sendText(ByteBuffer(string: "after")).get()
        try await recorder.waitForMessages(2)
        let messages = recorder.state.value.messages
        #expect(messages[0] == sent)
        #expect(String(buffer: messages[1]) == "after")
        try await connection.close().get()
    }

    /// Not a timing assertion: prints a number for the report.
    @Test func pipelinedRoundTrips() async throws {
        let certificates = try TestCertificates.get()
        let server = try await tlsServer()
        defer { Task { await server.stop() } }
        let recorder = WebSocketRecorder()
        let config = ConnectionConfig(tls: try TLSContext.client(caFile: certificates.localhostCert))
        let connection = try await connect(server.endpoint("/echo", scheme: .wss), config: config, recorder: recorder)
        let count = 2000
        let started = ContinuousClock.now
        for index in 0..<count {
            connection.sendText(ByteBuffer(string: "{\"type\":\"response.create\",\"n\":\(index)}")).whenFailure { _ in }
        }
        try await recorder.waitForMessages(count)
        let elapsed = ContinuousClock.now - started
        print("wss: \(count) pipelined round trips in \(elapsed)")
        #expect(recorder.texts.last == "{\"type\":\"response.create\",\"n\":\(count - 1)}")
        try await connection.close().get()
    }

    @Test func tlsContextConfigurationErrors() {
        #expect {
            try TLSContext.client(caFile: "/nonexistent/ca.pem")
        } throws: { error in
            guard let error = error as? TLSError else { return false }
            return error.kind == .configuration && error.message.contains("No such file or directory")
        }
        #expect {
            let certificates = try TestCertificates.get()
            return try TLSContext.server(certificateFile: certificates.localhostCert, privateKeyFile: certificates.otherKey)
        } throws: { error in
            guard let error = error as? TLSError else { return false }
            return error.kind == .configuration && error.message.contains("mismatch")
        }
    }
}
