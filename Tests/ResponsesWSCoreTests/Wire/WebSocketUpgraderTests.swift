import NIOConcurrencyHelpers
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
import ResponsesDeflate
import Testing

@testable import ResponsesWSCore

/// NIOWebSocket has a (deprecated) type of the same name.
private typealias Upgrader = ResponsesWSCore.WebSocketUpgrader

/// Which 101 answers `WebSocketUpgrader` accepts (RFC 6455 §4.1), checked against the Accept a
/// server computes for the key the upgrader sends.
@Suite struct WebSocketUpgraderTests {
    /// The headers of a correct 101 for the key `upgrader` puts in its request.
    private func correctAnswer(to upgrader: Upgrader) throws -> HTTPHeaders {
        var request = HTTPHeaders()  // the upgrader adds the key and Sec-WebSocket-Version
        upgrader.addCustom(upgradeRequestHeaders: &request)
        let server = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() })
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish() }
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/v1/responses", headers: request)
        return try server.buildUpgradeResponse(channel: channel, upgradeRequest: head, initialResponseHeaders: [:]).wait()
    }

    private func allows(_ headers: HTTPHeaders, _ upgrader: Upgrader) -> Bool {
        upgrader.shouldAllowUpgrade(upgradeResponse: HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers))
    }

    @Test func acceptsACorrect101() throws {
        let upgrader = Upgrader(verdict: { _ in }, install: { _, _ in })
        var headers = try correctAnswer(to: upgrader)
        #expect(allows(headers, upgrader))
        headers.replaceOrAdd(name: "Connection", value: "keep-alive, UPGRADE")
        #expect(allows(headers, upgrader))
    }

    /// Found by the `http-upgrade` fuzz target (Tests/fuzz.sh): a 101 whose Connection header
    /// was not `Upgrade` was refused when frames followed it in the same read (the HTTP parser
    /// failed on them) and accepted when they came later. It is refused either way now.
    @Test func refusesA101WithoutConnectionUpgrade() throws {
        let upgrader = Upgrader(verdict: { _ in }, install: { _, _ in })
        var headers = try correctAnswer(to: upgrader)
        headers.replaceOrAdd(name: "Connection", value: "Upgrqde")
        #expect(!allows(headers, upgrader))
        headers.remove(name: "Connection")
        #expect(!allows(headers, upgrader))
    }

    @Test func refusesAWrongAccept() throws {
        let upgrader = Upgrader(verdict: { _ in }, install: { _, _ in })
        var headers = try correctAnswer(to: upgrader)
        headers.replaceOrAdd(name: "Sec-WebSocket-Accept", value: "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
        #expect(!allows(headers, upgrader))
    }

    // permessage-deflate (RFC 7692 §5, §7.1)

    @Test func offersDeflateOnlyWhenAsked() {
        var plain = HTTPHeaders()
        Upgrader(verdict: { _ in }, install: { _, _ in }).addCustom(upgradeRequestHeaders: &plain)
        #expect(plain["Sec-WebSocket-Extensions"].isEmpty)
        var offering = HTTPHeaders()
        Upgrader(offersDeflate: true, verdict: { _ in }, install: { _, _ in }).addCustom(upgradeRequestHeaders: &offering)
        #expect(offering["Sec-WebSocket-Extensions"] == ["permessage-deflate; client_max_window_bits"])
    }

    @Test func takesAValidDeflateAnswerAndRefusesAnInvalidOne() throws {
        let refusal = NIOLockedValueBox<String?>(nil)
        let upgrader = Upgrader(offersDeflate: true, verdict: { verdict in
            if case .failure(let error) = verdict { refusal.withLockedValue { $0 = error.message } }
        }, install: { _, _ in })
        var headers = try correctAnswer(to: upgrader)
        #expect(allows(headers, upgrader))   // declined: no extension
        headers.replaceOrAdd(name: "Sec-WebSocket-Extensions", value: "permessage-deflate; client_max_window_bits=9")
        #expect(allows(headers, upgrader))
        let head = HTTPResponseHead(version: .http1_1, status: .switchingProtocols, headers: headers)
        #expect(Upgrader.deflateAgreement(head, offeredNoContextTakeover: false) == DeflateParameters(clientMaxWindowBits: 9))
        #expect(refusal.withLockedValue { $0 } == nil)
        headers.replaceOrAdd(name: "Sec-WebSocket-Extensions", value: "permessage-deflate; max_window_bits=9")
        #expect(!allows(headers, upgrader))
        let message = try #require(refusal.withLockedValue { $0 })
        #expect(message.contains("unknown permessage-deflate parameter 'max_window_bits'"), "\(message)")
    }

    @Test func refusesAnExtensionThatWasNotOffered() throws {
        let refusal = NIOLockedValueBox<String?>(nil)
        let upgrader = Upgrader(verdict: { verdict in
            if case .failure(let error) = verdict { refusal.withLockedValue { $0 = error.message } }
        }, install: { _, _ in })
        var headers = try correctAnswer(to: upgrader)
        headers.replaceOrAdd(name: "Sec-WebSocket-Extensions", value: "permessage-deflate")
        #expect(!allows(headers, upgrader))
        #expect(refusal.withLockedValue { $0 }?.contains("never offered") == true)
    }
}
