import NIOCore
import Testing
@testable import ResponsesWSCore

/// Item: Retry-After on 429/503 (upgrade and POST) and the HTTP status of every HTTP-level
/// failure in the result. Asserts on attempts counted by the server, never on time.
@Suite struct RetryAfterTests {
    private func run(status: String, retryAfter: String?, transport: Transport = .webSocket,
                     maxReconnects: UInt32 = 2) async throws -> (TurnResult, attempts: Int) {
        let header = retryAfter.map { "Retry-After: \($0)\r\n" } ?? ""
        let answer = "HTTP/1.1 \(status)\r\n\(header)Content-Length: 0\r\n\r\n"
        let server = try await RawUpgradeServer.start { _ in Array(answer.utf8) }
        defer { Task { await server.stop() } }
        var config = ClientConfig()
        config.baseURL = "http://127.0.0.1:\(server.port)/v1"
        config.apiKey = "sk-test"
        config.fallback = .never
        config.transport = transport
        config.maxReconnects = maxReconnects
        config.reconnectDelayMs = 1
        config.reconnectMaxDelayMs = 1
        let client = try ResponsesClient(config)
        defer { try? client.shutdown() }
        let session = try client.makeSession(defaults: defaults)
        defer { try? session.close() }
        let (result, _) = try session.run(#"{"input":"hi"}"#)
        return (result, server.received.value.bytes.count)
    }

    @Test(arguments: [Transport.webSocket, .http])
    func aLongRetryAfterEndsTheTurnAtOnce(_ transport: Transport) async throws {
        for status in ["429 Too Many Requests", "503 Service Unavailable"] {
            let (result, attempts) = try await run(status: status, retryAfter: "3600", transport: transport)
            #expect(result.status == .rateLimited, "\(transport) \(status): \(result.status): \(result.message)")
            #expect(attempts == 1, "\(transport) \(status): \(attempts) attempts")
            #expect(result.message.contains("retry after 3600 s") && result.message.contains(" UTC"), "\(result.message)")
            #expect(result.errorStatus == Int32(status.prefix(3))!)
        }
    }

    @Test(arguments: [Transport.webSocket, .http])
    func anHTTPDateInTheFutureEndsTheTurnAtOnce(_ transport: Transport) async throws {
        let (result, attempts) = try await run(status: "429 Too Many Requests", retryAfter: "Fri, 31 Dec 2099 23:59:59 GMT", transport: transport)
        #expect(result.status == .rateLimited, "\(result.status): \(result.message)")
        #expect(attempts == 1)
        #expect(result.message.contains("2099-12-31 23:59:59 UTC"), "\(result.message)")
    }

    @Test(arguments: [Transport.webSocket, .http])
    func aRetryAfterThatIsDueIsRetriedWithinTheBudget(_ transport: Transport) async throws {
        for value in ["0", "Thu, 01 Jan 2015 00:00:00 GMT"] {
            let (result, attempts) = try await run(status: "429 Too Many Requests", retryAfter: value, transport: transport)
            #expect(result.status == .rateLimited, "\(result.status): \(result.message)")
            #expect(attempts == 3, "\(transport) \(value): 1 + max_reconnects attempts, got \(attempts)")
            #expect(result.errorStatus == 429)
        }
    }

    @Test(arguments: [("401 Unauthorized", Status.auth), ("403 Forbidden", .auth), ("404 Not Found", .upgradeRefused),
                      ("400 Bad Request", .invalidRequest)])
    func theResultCarriesTheHTTPStatus(_ status: String, _ expected: Status) async throws {
        let (result, _) = try await run(status: status, retryAfter: nil)
        #expect(result.status == expected, "\(status): \(result.status): \(result.message)")
        #expect(result.errorStatus == Int32(status.prefix(3))!, "\(status): error_status \(result.errorStatus)")
    }

    @Test func retryAfterValues() {
        #expect(RetryAfter.seconds("120", now: 0) == 120)
        #expect(RetryAfter.seconds(" 7 ", now: 0) == 7)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:49:37 GMT", now: 784111777 - 10) == 10)
        #expect(RetryAfter.seconds("Sun, 06 Nov 1994 08:49:37 GMT", now: 784111777 + 10) == 0)
        #expect(RetryAfter.seconds("soon", now: 0) == nil)
        #expect(RetryAfter.seconds("-5", now: 0) == nil)
    }
}
