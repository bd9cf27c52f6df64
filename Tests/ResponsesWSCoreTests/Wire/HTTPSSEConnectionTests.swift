import Foundation
import NIOCore
import ResponsesTLS
import ResponsesWSCore
import Testing

@Suite struct HTTPSSEConnectionTests {
    static let token = "sk-test-0123456789abcdefSECRET"
    static let body = "{\"model\":\"gpt-test\",\"stream\":true,\"input\":\"hi\"}"

    private func post(
        _ endpoint: Endpoint,
        body: String = HTTPSSEConnectionTests.body,
        config: ConnectionConfig = ConnectionConfig(),
        recorder: HTTPRecorder,
        group: EventLoopGroup = clientGroup
    ) -> HTTPSSEConnection {
        HTTPSSEConnection.post(
            to: endpoint, body: ByteBuffer(string: body), config: config, on: group.next(), delegate: recorder)
    }

    @Test func streamsSSEEvents() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = HTTPRecorder()
        let stream = post(server.endpoint("/sse", scheme: .http), recorder: recorder)
        let result = try await recorder.waitForFinish()
        #expect(result.error == nil)
        #expect(result.events == sseExpectedEvents)
        #expect(stream.bytesSent == UInt64(Self.body.utf8.count))
        #expect(stream.bytesReceived == UInt64(sseScript.joined().utf8.count))
    }

    @Test func requestCarriesBodyAndHeaders() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = HTTPRecorder()
        let config = ConnectionConfig(headers: [("Authorization", "Bearer \(Self.token)"), ("OpenAI-Project", "proj_1")])
        _ = post(server.endpoint("/sse-echo", scheme: .http), config: config, recorder: recorder)
        let result = try await recorder.waitForFinish()
        #expect(result.error == nil)
        #expect(result.events.first == Self.body)
        let headers = try #require(result.events.last)
        #expect(headers.contains("authorization: Bearer \(Self.token)"))
        #expect(headers.contains("openai-project: proj_1"))
        #expect(headers.contains("content-type: application/json"))
        #expect(headers.contains("accept: text/event-stream"))
        #expect(headers.contains("content-length: \(Self.body.utf8.count)"))
        #expect(headers.contains("user-agent: \(ConnectionConfig.defaultUserAgent)"))
        #expect(server.probe.value.httpRequests.first?.headers["host"] == "127.0.0.1:\(server.port)")
    }

    @Test func nonStreamJSONBodyIsOneEvent() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = HTTPRecorder()
        _ = post(server.endpoint("/json", scheme: .http), recorder: recorder)
        let result = try await recorder.waitForFinish()
        #expect(result.error == nil)
        #expect(result.events == ["{\"id\":\"resp_1\",\"status\":\"completed\"}"])
    }

    @Test func unauthorizedIsAnAuthErrorWithRedactedBody() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = HTTPRecorder()
        let config = ConnectionConfig(headers: [("Authorization", "Bearer \(Self.token)")])
        _ = post(server.endpoint("/status/401", scheme: .http), config: config, recorder: recorder)
        let error = try #require(try await recorder.waitForFinish().error)
        #expect(error.kind == .auth && error.httpStatus == 401)
        #expect(error.message.hasPrefix("HTTP 401 from POST /status/401: the API key was rejected"))
        #expect(error.body?.contains("[REDACTED]") == true)
        #expect(!error.message.contains(Self.token) && error.body?.contains(Self.token) == false)
    }

    @Test(arguments: [400, 404, 429, 500])
    func otherStatusesAreHTTPStatusErrors(status: Int) async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = HTTPRecorder()
        _ = post(server.endpoint("/status/\(status)", scheme: .http), recorder: recorder)
        let result = try await recorder.waitForFinish()
        let error = try #require(result.error)
        #expect(error.kind == .httpStatus && error.httpStatus == status)
        #expect(error.body?.hasPrefix("{\"error\":") == true)
        #expect(result.events.isEmpty)
    }

    @Test func streamOverHTTPS() async throws {
        let certificates = try TestCertificates.get()
        let server = try await TestServer.start(tls: try certificates.serverContext())
        defer { Task { await server.stop() } }
        let recorder = HTTPRecorder()
        let config = ConnectionConfig(tls: try TLSContext.client(caFile: certificates.localhostCert))
        _ = post(server.endpoint("/sse", scheme: .https), config: config, recorder: recorder)
        let result = try await recorder.waitForFinish()
        #expect(result.error == nil)
        #expect(result.events == sseExpectedEvents)
    }

    @Test func cancelFinishesWithCancelled() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = HTTPRecorder()
        let stream = post(server.endpoint("/sse-hang", scheme: .http), recorder: recorder)
        try await recorder.state.wait("the first event") { $0.events.count == 1 }
        stream.cancel()
        let result = try await recorder.waitForFinish()
        #expect(result.error?.kind == .cancelled)
        #expect(result.events == ["{\"n\":1}"])
        stream.cancel()  // harmless afterwards
    }

    @Test func truncatedStreamIsClosed() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = HTTPRecorder()
        _ = post(server.endpoint("/sse-truncated", scheme: .http), recorder: recorder)
        let result = try await recorder.waitForFinish()
        #expect(result.error?.kind == .closed)
        #expect(result.events == ["{\"n\":1}"])
    }

    @Test func oversizedEventIsTooBig() async throws {
        let server = try await TestServer.start()
        defer { Task { await server.stop() } }
        let recorder = HTTPRecorder()
        _ = post(server.endpoint("/sse-big", scheme: .http), config: ConnectionConfig(maxMessageBytes: 1000), recorder: recorder)
        let error = try #require(try await recorder.waitForFinish().error)
        #expect(error.kind == .messageTooBig)
    }

    @Test func refusedAndTimeout() async throws {
        let port = try await closedPort()
        let refused = HTTPRecorder()
        _ = post(Endpoint(scheme: .http, host: "127.0.0.1", port: port, path: "/v1/responses"), recorder: refused)
        #expect(try await refused.waitForFinish().error?.kind == .connect)

        let silent = try await SilentTCPServer.start()
        defer { Task { await silent.stop() } }
        let timedOut = HTTPRecorder()
        let certificates = try TestCertificates.get()
        // Over TLS the request cannot be sent before a handshake the silent server never answers:
        // the timeout must name the TLS handshake as the stage that hung. On a loop of its own
        // the TCP connect (done at once by the kernel on loopback) is always seen first.
        let config = ConnectionConfig(tls: try TLSContext.client(caFile: certificates.localhostCert), connectTimeout: .milliseconds(5000))
        _ = post(Endpoint(scheme: .https, host: "127.0.0.1", port: silent.port, path: "/v1/responses"), config: config,
                 recorder: timedOut, group: timeoutClientGroup)
        let error = try #require(try await timedOut.waitForFinish().error)
        #expect(error.kind == .timeout)
        #expect(error.message.contains("TLS handshake"))
    }
}
