import NIOCore
import NIOEmbedded
import Testing
@testable import ResponsesWSCore

/// curl's rules for proxy URLs, the environment variables and NO_PROXY (ProxySettings).
@Suite struct ProxySettingsTests {
    private func settings(_ env: [String: String], proxy: String? = nil, noProxy: String? = nil) throws -> ProxySettings {
        try ProxySettings(proxy: proxy, noProxy: noProxy, environment: { env[$0] })
    }

    private let wss = Endpoint(scheme: .wss, host: "api.openai.com", port: 443, path: "/v1/responses")
    private let ws = Endpoint(scheme: .ws, host: "api.openai.com", port: 80, path: "/v1/responses")

    @Test func parsesProxyURLs() throws {
        let plain = try Proxy(url: "http://proxy.corp:3128", source: "proxy")
        #expect(plain == Proxy(kind: .httpConnect, host: "proxy.corp", port: 3128))
        #expect(try Proxy(url: "proxy.corp", source: "proxy") == Proxy(kind: .httpConnect, host: "proxy.corp", port: 1080))
        #expect(try Proxy(url: "HTTP://Proxy.Corp:8080/", source: "proxy").host == "proxy.corp")
        #expect(try Proxy(url: "socks5://127.0.0.1:1080", source: "proxy").kind == .socks5)
        #expect(try Proxy(url: "socks5h://[::1]:9050", source: "proxy") == Proxy(kind: .socks5h, host: "::1", port: 9050))
        let withUser = try Proxy(url: "http://al%40ice:p%3Ass@proxy:3128", source: "proxy")
        #expect(withUser.username == "al@ice")
        #expect(withUser.password == "p:ss")
        #expect(withUser.basicAuthorization == "Basic YWxAaWNlOnA6c3M=")
        #expect(withUser.description == "http://proxy:3128")   // never the credentials
        #expect(try Proxy(url: "http://user@proxy:1", source: "proxy").basicAuthorization == "Basic dXNlcjo=")
        // A raw '/' in the password belongs to the user info, not to a path.
        #expect(try Proxy(url: "http://u:se/cret@proxy:3128/", source: "proxy").password == "se/cret")
    }

    @Test func refusesWhatCannotWork() {
        for (url, needle) in [("https://proxy:443", "https:// proxy"), ("socks4://p:1", "socks4"), ("ftp://p:1", "unsupported proxy scheme"),
                              ("http://p:0", "bad proxy port"), ("http://p:99999", "bad proxy port"), ("http://:8080", "no host"),
                              ("socks5://u:secret@p:1", "not supported"), ("http://u:%zz@p:1", "%-escape"), ("http://[::1:80", "IPv6"), ("http://pro xy:1", "not a host name"), ("http://p\u{0}x:1", "not a host name"), ("http://[zz]:1", "not a host name")] {
            do {
                _ = try Proxy(url: url, source: "$HTTPS_PROXY")
                Issue.record("accepted \(url)")
            } catch {
                #expect(error.kind == .configuration)
                #expect(error.message.contains(needle), "\(url): \(error.message)")
                #expect(error.message.hasPrefix("$HTTPS_PROXY"))
                #expect(!error.message.contains("secret"))
            }
        }
    }

    @Test func environmentPrecedence() throws {
        // https_proxy before HTTPS_PROXY before all_proxy before ALL_PROXY, for wss and https.
        var env = ["https_proxy": "http://lower:1", "HTTPS_PROXY": "http://upper:2", "all_proxy": "http://all:3", "ALL_PROXY": "http://ALL:4"]
        #expect(try settings(env).route(for: wss)?.host == "lower")
        #expect(try settings(env).tlsSource == "$https_proxy")
        env["https_proxy"] = ""
        #expect(try settings(env).route(for: wss)?.host == "upper")
        env["HTTPS_PROXY"] = nil
        #expect(try settings(env).route(for: wss)?.host == "all")
        env["all_proxy"] = nil
        #expect(try settings(env).route(for: wss)?.host == "all")   // ALL_PROXY's host, lower-cased
        #expect(try settings(env).tlsSource == "$ALL_PROXY")
        // ws and http: http_proxy only, never HTTP_PROXY (httpoxy).
        #expect(try settings(["HTTP_PROXY": "http://evil:1"]).route(for: ws) == nil)
        #expect(try settings(["http_proxy": "http://p:1"]).route(for: ws)?.host == "p")
        #expect(try settings(["http_proxy": "http://p:1"]).route(for: wss) == nil)
        #expect(try settings(["https_proxy": "http://p:1"]).route(for: ws) == nil)
    }

    @Test func optionsWinOverTheEnvironment() throws {
        let env = ["https_proxy": "http://env:1", "no_proxy": "api.openai.com"]
        #expect(try settings(env, proxy: "socks5h://opt:2").route(for: wss) == nil)   // env no_proxy still applies
        #expect(try settings(env, proxy: "socks5h://opt:2", noProxy: "").route(for: wss)?.host == "opt")
        #expect(try settings(env, proxy: "socks5h://opt:2", noProxy: "").route(for: ws)?.host == "opt")
        #expect(try settings(env, proxy: "").route(for: wss) == nil)                 // "" = no proxy at all
        #expect(try settings(env, noProxy: "").route(for: wss)?.host == "env")
        #expect(try settings(["https_proxy": "http://env:1", "NO_PROXY": "openai.com"]).route(for: wss) == nil)
        #expect(try settings(["https_proxy": "http://env:1", "no_proxy": "other", "NO_PROXY": "openai.com"]).route(for: wss)?.host == "env")
    }

    @Test func badEnvironmentNamesTheVariable() {
        do {
            _ = try ProxySettings(proxy: nil, noProxy: nil, environment: { $0 == "https_proxy" ? "socks4://x:1" : nil })
            Issue.record("accepted")
        } catch {
            #expect(error.message.hasPrefix("$https_proxy"))
        }
    }

    @Test func noProxyNames() {
        let list = NoProxyList(".example.com, internal ,Localhost")
        #expect(list.matches(host: "example.com", port: 443))
        #expect(list.matches(host: "api.example.com", port: 443))
        #expect(list.matches(host: "API.Example.COM", port: 443))
        #expect(!list.matches(host: "badexample.com", port: 443))
        #expect(list.matches(host: "internal", port: 80))
        #expect(list.matches(host: "a.b.internal", port: 80))
        #expect(list.matches(host: "localhost", port: 80))
        #expect(!list.matches(host: "internal.com", port: 80))
        #expect(NoProxyList("*").matches(host: "anything", port: 1))
        #expect(!NoProxyList("*.example.com").matches(host: "badexample.com", port: 1))
        #expect(NoProxyList("example.com.").matches(host: "a.example.com", port: 1))
        #expect(NoProxyList("").isEmpty)
        #expect(NoProxyList(" , ").isEmpty)
    }

    @Test func noProxyAddressesAndRanges() {
        let list = NoProxyList("10.0.0.0/8 192.168.1.7 ::1 fd00::/8 [2001:db8::1]:8443")
        #expect(list.matches(host: "10.1.2.3", port: 1))
        #expect(!list.matches(host: "11.0.0.1", port: 1))
        #expect(list.matches(host: "192.168.1.7", port: 1))
        #expect(!list.matches(host: "192.168.1.8", port: 1))
        #expect(list.matches(host: "::1", port: 1))
        #expect(list.matches(host: "fd12:3456::9", port: 1))
        #expect(!list.matches(host: "fe80::1", port: 1))
        #expect(list.matches(host: "2001:db8::1", port: 8443))
        #expect(!list.matches(host: "2001:db8::1", port: 443))
        #expect(!list.matches(host: "10.example", port: 1))          // names are not resolved for ranges
        #expect(NoProxyList("127.0.0.1/32").matches(host: "127.0.0.1", port: 5))
        #expect(NoProxyList("0.0.0.0/0").matches(host: "8.8.8.8", port: 5))
        #expect(!NoProxyList("0.0.0.0/0").matches(host: "::1", port: 5))   // families never mix
    }

    @Test func noProxyPorts() {
        let list = NoProxyList("127.0.0.1:8080, sim.test:9000")
        #expect(list.matches(host: "127.0.0.1", port: 8080))
        #expect(!list.matches(host: "127.0.0.1", port: 8081))
        #expect(list.matches(host: "sim.test", port: 9000))
        #expect(!list.matches(host: "sim.test", port: 9001))
    }
}

/// The HTTP CONNECT stage on an embedded channel: the request it writes, what it does with the
/// proxy's answers.
@Suite struct HTTPConnectTunnelTests {
    private final class Outcome {
        var established = false
        var error: TransportError?
    }

    private func start(_ proxy: Proxy) throws -> (EmbeddedChannel, Outcome) {
        let channel = EmbeddedChannel()
        let outcome = Outcome()
        try ProxyTunnel.add(to: channel, proxy: proxy, source: "$HTTPS_PROXY",
                            destination: Endpoint(scheme: .wss, host: "api.example.com", port: 443),
                            resolved: nil, established: { _ in outcome.established = true }, failed: { outcome.error = $0 })
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 3128)).wait()
        return (channel, outcome)
    }

    private func written(_ channel: EmbeddedChannel) throws -> String {
        var text = ""
        while var buffer = try channel.readOutbound(as: ByteBuffer.self) { text += buffer.readString(length: buffer.readableBytes) ?? "" }
        return text
    }

    @Test func sendsConnectWithBasicAuth() throws {
        let (channel, _) = try start(Proxy(kind: .httpConnect, host: "proxy", port: 3128, username: "u", password: "p"))
        let request = try written(channel)
        #expect(request.hasPrefix("CONNECT api.example.com:443 HTTP/1.1\r\n"))
        #expect(request.contains("Host: api.example.com:443\r\n"))
        #expect(request.contains("Proxy-Authorization: Basic dTpw\r\n"))
        _ = try? channel.finish()
    }

    @Test func establishedLeavesOnlyTheDestinationsBytes() throws {
        let (channel, outcome) = try start(Proxy(kind: .httpConnect, host: "proxy", port: 3128))
        #expect(try !written(channel).contains("Proxy-Authorization"))
        try channel.writeInbound(ByteBuffer(string: "HTTP/1.1 200 Connection established\r\nVia: test\r\n\r\n"))
        #expect(!outcome.established)   // NIO removes the decoder on the next loop tick
        channel.embeddedEventLoop.run()
        #expect(outcome.established)
        #expect(outcome.error == nil)
        // The codec has left: a write goes out as is, a read comes in as is.
        try channel.writeOutbound(ByteBuffer(string: "raw"))
        #expect(try written(channel) == "raw")
        try channel.writeInbound(ByteBuffer(string: "from the server"))
        var inbound = try #require(try channel.readInbound(as: ByteBuffer.self))
        #expect(inbound.readString(length: inbound.readableBytes) == "from the server")
        _ = try? channel.finish()
    }

    @Test func refusalsAreProxyErrors() throws {
        for (answer, status, needle) in [
            ("HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 0\r\n\r\n", 407, "407 Proxy Authentication Required: the proxy wants credentials"),
            ("HTTP/1.0 401 Unauthorized\r\n\r\n", 401, "the proxy wants credentials"),
            ("HTTP/1.0 403 Access violation\r\n\r\n", 403, "does not allow this destination"),
            ("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 3\r\n\r\nbad", 502, "could not reach the server"),
        ] {
            let (channel, outcome) = try start(Proxy(kind: .httpConnect, host: "proxy", port: 3128, username: "u", password: "secret"))
            _ = try? channel.writeInbound(ByteBuffer(string: answer))
            let error = try #require(outcome.error)
            #expect(error.kind == .proxy)
            #expect(error.httpStatus == status)
            #expect(error.message.contains(needle), "\(error.message)")
            #expect(error.message.contains("http://proxy:3128") && error.message.contains("$HTTPS_PROXY"))
            #expect(!error.message.contains("secret"))
            #expect(!outcome.established)
            _ = try? channel.finish()
        }
    }

    @Test func notHTTPOrEarlyClose() throws {
        let (channel, outcome) = try start(Proxy(kind: .httpConnect, host: "proxy", port: 1080))
        _ = try? channel.writeInbound(ByteBuffer(bytes: [0x05, 0x00, 0x00, 0x01]))
        #expect(outcome.error?.kind == .proxy)
        #expect(outcome.error?.message.contains("not HTTP") == true)
        _ = try? channel.finish()

        let (closing, closed) = try start(Proxy(kind: .httpConnect, host: "proxy", port: 1080))
        _ = try? closing.finish()
        #expect(closed.error?.message.contains("closed the connection") == true)
    }
}
