import ResponsesWSCore
import Testing

@Suite struct EndpointTests {
    /// §1.1: what the SDKs derive from a base URL.
    @Test(arguments: [
        ("https://api.openai.com/v1", "wss://api.openai.com/v1/responses"),
        ("https://api.openai.com/v1/", "wss://api.openai.com/v1/responses"),
        ("https://api.openai.com/v1//", "wss://api.openai.com/v1/responses"),
        ("http://localhost:8080/v1", "ws://localhost:8080/v1/responses"),
        ("https://example.com/openai/v1?api-version=preview&x=1", "wss://example.com/openai/v1/responses?api-version=preview&x=1"),
        ("https://example.com/openai/v1/?api-version=preview", "wss://example.com/openai/v1/responses?api-version=preview"),
        ("http://[::1]:9000/v1", "ws://[::1]:9000/v1/responses"),
        ("HTTPS://API.OpenAI.com:443/v1", "wss://api.openai.com/v1/responses"),
        ("wss://proxy.example/v1", "wss://proxy.example/v1/responses"),
        ("https://h.example", "wss://h.example/responses"),
        ("http://127.0.0.1:1234", "ws://127.0.0.1:1234/responses"),
    ])
    func webSocketURLDerivation(base: String, expected: String) throws {
        #expect(try Endpoint.webSocketURL(baseURL: base).url == expected)
    }

    @Test(arguments: [
        ("https://api.openai.com/v1", "https://api.openai.com/v1/responses"),
        ("wss://api.openai.com/v1/", "https://api.openai.com/v1/responses"),
        ("http://localhost:8080/v1?x=1", "http://localhost:8080/v1/responses?x=1"),
    ])
    func httpResponsesURLDerivation(base: String, expected: String) throws {
        #expect(try Endpoint.httpResponsesURL(baseURL: base).url == expected)
    }

    @Test func parsesComponents() throws {
        let endpoint = try Endpoint(url: "wss://api.openai.com/v1/responses?a=b#fragment")
        #expect(endpoint.scheme == .wss)
        #expect(endpoint.host == "api.openai.com")
        #expect(endpoint.port == 443)
        #expect(endpoint.path == "/v1/responses?a=b")
        #expect(endpoint.isTLS)
        #expect(endpoint.hostHeader == "api.openai.com")

        let local = try Endpoint(url: "ws://127.0.0.1:8080")
        #expect(local.port == 8080 && local.path == "/" && !local.isTLS)
        #expect(local.hostHeader == "127.0.0.1:8080")

        let queryOnly = try Endpoint(url: "http://h?x=1")
        #expect(queryOnly.path == "/?x=1" && queryOnly.port == 80)

        let v6 = try Endpoint(url: "wss://[::1]:8443/x")
        #expect(v6.host == "::1" && v6.port == 8443 && v6.hostHeader == "[::1]:8443")
        #expect(try Endpoint(url: "ws://[::1]/").hostHeader == "[::1]")
    }

    @Test func equivalents() throws {
        let ws = try Endpoint(url: "ws://h:81/p?q")
        #expect(ws.httpsEquivalent.url == "http://h:81/p?q")
        #expect(try Endpoint(url: "https://h/p").webSocketEquivalent.url == "wss://h/p")
        #expect(ws.webSocketEquivalent == ws)
    }

    @Test(arguments: [
        ("ftp://h/x", "unsupported URL scheme 'ftp'"),
        ("api.openai.com/v1", "expected scheme://host"),
        ("https://", "missing host"),
        ("https:///v1", "missing host"),
        ("https://h:0/", "bad port '0'"),
        ("https://h:65536/", "bad port '65536'"),
        ("https://h:abc/", "bad port 'abc'"),
        ("https://h:/", "bad port ''"),
        ("https://[::1/", "unterminated IPv6 literal"),
        ("https://[zz]/", "is not an IPv6 address"),
        ("https://bad host/", "is not a valid host name"),
    ])
    func rejectsBadURLs(url: String, expectedMessage: String) {
        #expect {
            try Endpoint(url: url)
        } throws: { error in
            guard let error = error as? TransportError else { return false }
            return error.kind == .url && error.message.contains(expectedMessage)
        }
    }

    @Test func rejectsUserInfoWithoutEchoingIt() {
        #expect {
            try Endpoint(url: "https://user:hunter2secret@h/v1")
        } throws: { error in
            guard let error = error as? TransportError else { return false }
            return error.kind == .url && !error.message.contains("hunter2secret")
        }
    }
}
