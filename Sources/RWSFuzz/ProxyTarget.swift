#if RWS_FUZZING || DEBUG

import NIOCore
import NIOEmbedded
@testable import ResponsesWSCore

/// The input's first line is a proxy URL and a no-proxy list (split at the first space): the
/// hand-written parsers of ProxySettings.swift, which must never crash, never put the URL's
/// password in a message or description, and give the same answer twice. The rest is the
/// proxy's answer to our CONNECT (NIO's decoder, then HTTPConnectHandler): the tunnel must end
/// exactly once, as established (2xx) or as a `.proxy` error without the credentials.
enum ProxyTarget {
    static let password = "pw-FUZZ-secret"

    static func run(_ data: UnsafeRawBufferPointer) {
        let bytes = Array(data)
        let newline = bytes.firstIndex(of: 0x0A) ?? bytes.count
        let config = String(decoding: bytes[..<newline], as: UTF8.self)
        let answer = newline < bytes.count ? Array(bytes[(newline + 1)...]) : []
        parseConfig(config)
        tunnel(answer)
    }

    private static func parseConfig(_ text: String) {
        let parts = text.split(separator: " ", maxSplits: 1).map(String.init)
        let url = parts.first ?? ""
        let list = NoProxyList(parts.count > 1 ? parts[1] : "")
        let again = NoProxyList(parts.count > 1 ? parts[1] : "")
        precondition(list == again, "NoProxyList is not deterministic")
        for host in ["api.openai.com", "127.0.0.1", "::1", "10.1.2.3", url] {
            _ = list.matches(host: host, port: 443)
        }
        do {
            let proxy = try Proxy(url: url, source: "proxy")
            // The description is scheme://host:port, never the user info.
            precondition(!proxy.description.contains("@"), "the description holds user info")
            if let password = proxy.password, password.count >= 4, !proxy.host.contains(password) {
                precondition(!proxy.description.contains(password), "the description holds the password")
            }
            precondition((1...65535).contains(proxy.port), "port \(proxy.port)")
        } catch {
            // A refused URL's message may quote what follows the user info, never the password
            // (the parser's rule: user info up to the last '@', the password after its first ':').
            let start = url.firstRange(of: "://")?.upperBound ?? url.startIndex
            if let at = url[start...].lastIndex(of: "@"), let colon = url[start..<at].firstIndex(of: ":") {
                let password = url[url.index(after: colon)..<at]
                if password.count >= 6, !url[at...].contains(String(password)) {
                    precondition(!error.message.contains(String(password)), "a message holds the password")
                }
            }
        }
    }

    private static func tunnel(_ answer: [UInt8]) {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        var established = 0
        var failures: [TransportError] = []
        let proxy = Proxy(kind: .httpConnect, host: "proxy.test", port: 3128, username: "user", password: password)
        do {
            try ProxyTunnel.add(to: channel, proxy: proxy, source: "proxy", destination: Endpoint(scheme: .wss, host: "api.example.com"),
                                resolved: nil, established: { _ in established += 1 }, failed: { failures.append($0) })
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 3128)).wait()
        } catch {
            preconditionFailure("set-up failed: \(error)")
        }
        // Two cuts, so that a head split across reads is covered.
        let cut = answer.count / 2
        serve(answer, [0..<cut, cut..<answer.count], to: channel, loop: loop)
        precondition(established + failures.count <= 1, "the tunnel ended \(established + failures.count) times")
        for failure in failures {
            precondition(failure.kind == .proxy, "\(failure.kind)")
            precondition(!failure.message.contains(password), "a message holds the password")
        }
        shutDown(channel, loop)
    }
}

#endif
