import NIOCore
import ResponsesTLS

/// A proxy to reach a server through, read from a URL the way curl reads one:
/// `http://[user:password@]host[:port]` (an HTTP CONNECT tunnel), `socks5://` (the destination
/// name is resolved here and its address sent to the proxy) or `socks5h://` (the proxy resolves
/// it). A URL without a scheme is an HTTP proxy; the default port is 1080, as curl's.
public struct Proxy: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable, Hashable {
        case httpConnect = "http"
        case socks5
        case socks5h
    }

    public var kind: Kind
    /// Lower-cased host name or IP literal; IPv6 without brackets.
    public var host: String
    public var port: Int
    /// From the URL's user info, percent-decoded. Sent only to the proxy, never logged.
    public var username: String?
    public var password: String?

    public init(kind: Kind, host: String, port: Int, username: String? = nil, password: String? = nil) {
        self.kind = kind
        self.host = host
        self.port = port
        self.username = username
        self.password = password
    }

    /// `source` names where the URL came from ("proxy", "$HTTPS_PROXY") for the error message,
    /// which never repeats the user info.
    public init(url: String, source: String) throws(TransportError) {
        var rest = Substring(url)
        var kind = Kind.httpConnect
        if let schemeEnd = rest.firstRange(of: "://") {
            let scheme = rest[..<schemeEnd.lowerBound].lowercased()
            switch scheme {
            case "http": kind = .httpConnect
            case "socks5": kind = .socks5
            case "socks5h": kind = .socks5h
            case "https":
                throw TransportError(.configuration, "\(source): an https:// proxy (TLS to the proxy itself) is not supported; use http:// (the tunnel to the server is still TLS), socks5:// or socks5h://")
            case "socks4", "socks4a":
                throw TransportError(.configuration, "\(source): \(scheme):// proxies are not supported; use socks5:// or socks5h://")
            default:
                throw TransportError(.configuration, "\(source): unsupported proxy scheme '\(scheme)'; use http://, socks5:// or socks5h://")
            }
            rest = rest[schemeEnd.upperBound...]
        }
        var username: String?
        var password: String?
        if let at = rest.lastIndex(of: "@") {
            let userInfo = rest[..<at]
            rest = rest[rest.index(after: at)...]
            let colon = userInfo.firstIndex(of: ":")
            guard let user = Self.percentDecoded(userInfo[..<(colon ?? userInfo.endIndex)]),
                  let pass = colon.map({ Self.percentDecoded(userInfo[userInfo.index(after: $0)...]) }) ?? Optional("") else {
                throw TransportError(.configuration, "\(source): the proxy URL's user info has a bad %-escape")
            }
            username = user
            password = colon == nil ? nil : pass
        }
        // A path ("http://proxy:3128/") means nothing for a proxy; curl ignores it too. Cut
        // after the user info, so that a password with a raw '/' is never echoed as a port.
        if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
        let host: Substring
        var portText: Substring?
        let bracketed = rest.first == "["
        if bracketed {
            guard let close = rest.firstIndex(of: "]") else {
                throw TransportError(.configuration, "\(source): unterminated IPv6 literal in the proxy URL")
            }
            host = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.first == ":" { portText = after.dropFirst() } else if !after.isEmpty {
                throw TransportError(.configuration, "\(source): unexpected text after the IPv6 literal in the proxy URL")
            }
        } else if let colon = rest.lastIndex(of: ":") {
            host = rest[..<colon]
            portText = rest[rest.index(after: colon)...]
        } else {
            host = rest
        }
        guard !host.isEmpty else {
            throw TransportError(.configuration, "\(source): the proxy URL has no host; expected e.g. http://proxy.example:3128")
        }
        // A host name (letters, digits, '-', '.', '_') or an IP literal: anything else would
        // reach the CONNECT line or the resolver as is.
        let isName = host.utf8.allSatisfy { c in
            (c >= UInt8(ascii: "a") && c <= UInt8(ascii: "z")) || (c >= UInt8(ascii: "A") && c <= UInt8(ascii: "Z"))
                || (c >= UInt8(ascii: "0") && c <= UInt8(ascii: "9")) || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") || c == UInt8(ascii: "_")
        }
        guard (isName && !bracketed) || IPAddressBytes.parse(String(host)) != nil else {
            throw TransportError(.configuration, "\(source): the proxy URL's host is not a host name or an IP address; expected e.g. http://proxy.example:3128")
        }
        var port = 1080
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw TransportError(.configuration, "\(source): bad proxy port '\(portText)'; expected 1-65535")
            }
            port = value
        }
        if username != nil, kind != .httpConnect {
            // NIOSOCKS speaks only the "no authentication" method (RFC 1928); refusing here beats
            // a proxy that answers "no acceptable methods" at the first turn.
            throw TransportError(.configuration, "\(source): SOCKS5 user name/password authentication is not supported; use a SOCKS proxy without authentication or an http:// proxy with Basic auth")
        }
        self.init(kind: kind, host: host.lowercased(), port: port, username: username, password: password)
    }

    /// The proxy without its credentials, for messages and logs: "http://proxy.example:3128".
    public var description: String {
        let shownHost = host.contains(":") ? "[\(host)]" : host
        return "\(kind.rawValue)://\(shownHost):\(port)"
    }

    /// The value of a `Proxy-Authorization` header, for an HTTP proxy URL with user info.
    var basicAuthorization: String? {
        guard let username else { return nil }
        let pair = "\(username):\(password ?? "")"
        return "Basic " + Base64.encode(Array(pair.utf8))
    }

    private static func percentDecoded(_ text: Substring) -> String? {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(Self.hexValue), let low = iterator.next().flatMap(Self.hexValue) else { return nil }
            bytes.append(high << 4 | low)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return c - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// Hosts that are reached directly even when a proxy is configured: curl's `NO_PROXY` rules.
/// Entries are separated by commas or spaces and compared case-insensitively:
/// - `*` alone: every host;
/// - a name: that host and every host under it (`example.com` and `.example.com` both match
///   `api.example.com`, neither matches `badexample.com`);
/// - an IP address: that address; a CIDR range (`10.0.0.0/8`, `fd00::/8`): the addresses in it
///   (only hosts given as IP literals are compared with addresses: no name is resolved for this);
/// - any of these with `:port` (IPv6 in brackets, `[::1]:8080`): only that port.
public struct NoProxyList: Sendable, Hashable {
    enum Pattern: Sendable, Hashable {
        case everything
        case domain(String)
        case network(address: [UInt8], prefixBits: Int)
    }
    struct Entry: Sendable, Hashable {
        var pattern: Pattern
        var port: Int?
    }
    private(set) var entries: [Entry] = []

    public init(_ list: String) {
        for raw in list.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
            if let entry = Self.entry(raw.lowercased()) { entries.append(entry) }
        }
    }

    public var isEmpty: Bool { entries.isEmpty }

    public func matches(host: String, port: Int) -> Bool {
        let host = host.lowercased()
        let address = IPAddressBytes.parse(host)
        for entry in entries where entry.port == nil || entry.port == port {
            switch entry.pattern {
            case .everything:
                return true
            case .domain(let name):
                if host == name || host.hasSuffix("." + name) { return true }
            case .network(let network, let prefixBits):
                if let address, address.count == network.count, IPAddressBytes.samePrefix(address, network, bits: prefixBits) { return true }
            }
        }
        return false
    }

    private static func entry(_ text: String) -> Entry? {
        var text = Substring(text)
        if text == "*" { return Entry(pattern: .everything) }
        var port: Int?
        if text.first == "[" {
            // [v6]:port or [v6]
            guard let close = text.firstIndex(of: "]") else { return nil }
            let after = text[text.index(after: close)...]
            if after.hasPrefix(":") { port = Int(after.dropFirst()) }
            text = text[text.index(after: text.startIndex)..<close] + (after.hasPrefix("/") ? after : "")
        } else if text.filter({ $0 == ":" }).count == 1, let colon = text.firstIndex(of: ":"),
                  let value = Int(text[text.index(after: colon)...]) {
            // One colon: host:port. Two or more: an IPv6 address.
            port = value
            text = text[..<colon]
        }
        var prefixBits: Int?
        if let slash = text.firstIndex(of: "/") {
            guard let bits = Int(text[text.index(after: slash)...]) else { return nil }
            prefixBits = bits
            text = text[..<slash]
        }
        if let address = IPAddressBytes.parse(String(text)) {
            let bits = min(max(prefixBits ?? address.count * 8, 0), address.count * 8)
            return Entry(pattern: .network(address: address, prefixBits: bits), port: port)
        }
        guard prefixBits == nil else { return nil }   // "name/8" is not a range
        while text.first == "." { text = text.dropFirst() }
        while text.last == "." { text = text.dropLast() }
        guard !text.isEmpty else { return nil }
        return Entry(pattern: .domain(String(text)), port: port)
    }
}

/// Which proxy each endpoint goes through. The options win over the environment:
/// 1. `proxy` option: every endpoint uses it; an empty string means "no proxy", whatever the
///    environment says;
/// 2. otherwise, for wss:// and https://: `https_proxy`, then `HTTPS_PROXY`; for ws:// and
///    http://: `http_proxy` only (as curl, never the upper-case `HTTP_PROXY`, which a CGI
///    server sets from a request header); then `all_proxy`, then `ALL_PROXY`;
/// 3. `no_proxy` option (even empty), otherwise `no_proxy`, then `NO_PROXY`, lists the hosts
///    reached directly.
/// Empty variables count as unset.
public struct ProxySettings: Sendable, Hashable {
    /// For wss:// and https:// endpoints, and where it was configured ("proxy", "$HTTPS_PROXY").
    public var tlsProxy: Proxy?
    public var tlsSource: String?
    /// For ws:// and http:// endpoints.
    public var plainProxy: Proxy?
    public var plainSource: String?
    public var noProxy: NoProxyList

    public static let none = ProxySettings(tlsProxy: nil, plainProxy: nil, noProxy: NoProxyList(""))

    public init(tlsProxy: Proxy?, plainProxy: Proxy?, noProxy: NoProxyList, tlsSource: String? = nil, plainSource: String? = nil) {
        self.tlsProxy = tlsProxy
        self.plainProxy = plainProxy
        self.noProxy = noProxy
        self.tlsSource = tlsSource ?? tlsProxy.map { _ in "proxy" }
        self.plainSource = plainSource ?? plainProxy.map { _ in "proxy" }
    }

    /// Reads the options, then the environment, as the type's comment describes. A proxy URL
    /// that cannot be used is a `.configuration` error naming the option or variable.
    public init(proxy: String?, noProxy: String?, environment: (String) -> String?) throws(TransportError) {
        func variable(_ names: String...) -> (value: String, source: String)? {
            for name in names {
                if let value = environment(name), !value.isEmpty { return (value, "$\(name)") }
            }
            return nil
        }
        let tls: (value: String, source: String)?
        let plain: (value: String, source: String)?
        if let proxy {
            tls = proxy.isEmpty ? nil : (proxy, "proxy")
            plain = tls
        } else {
            tls = variable("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
            plain = variable("http_proxy", "all_proxy", "ALL_PROXY")
        }
        let bypass = noProxy ?? variable("no_proxy", "NO_PROXY")?.value ?? ""
        self.init(
            tlsProxy: try tls.map { entry throws(TransportError) in try Proxy(url: entry.value, source: entry.source) },
            plainProxy: try plain.map { entry throws(TransportError) in try Proxy(url: entry.value, source: entry.source) },
            noProxy: NoProxyList(bypass), tlsSource: tls?.source, plainSource: plain?.source)
    }

    /// The proxy to reach `endpoint` through, or nil for a direct connection.
    public func route(for endpoint: Endpoint) -> Proxy? {
        guard let proxy = endpoint.isTLS ? tlsProxy : plainProxy else { return nil }
        return noProxy.matches(host: endpoint.host, port: endpoint.port) ? nil : proxy
    }

    /// Where the proxy for `endpoint` was configured, for the log.
    func source(for endpoint: Endpoint) -> String? {
        endpoint.isTLS ? tlsSource : plainSource
    }
}

/// IPv4 and IPv6 literals as bytes, for CIDR matching.
enum IPAddressBytes {
    static func parse(_ text: String) -> [UInt8]? {
        guard let address = try? SocketAddress(ipAddress: text, port: 0) else { return nil }
        switch address {
        case .v4(let v4):
            return withUnsafeBytes(of: v4.address.sin_addr) { Array($0) }
        case .v6(let v6):
            return withUnsafeBytes(of: v6.address.sin6_addr) { Array($0) }
        case .unixDomainSocket:
            return nil
        }
    }

    static func samePrefix(_ a: [UInt8], _ b: [UInt8], bits: Int) -> Bool {
        var remaining = bits
        for i in 0..<a.count where remaining > 0 {
            let mask: UInt8 = remaining >= 8 ? 0xFF : ~(0xFF >> UInt8(remaining))
            if a[i] & mask != b[i] & mask { return false }
            remaining -= 8
        }
        return true
    }
}
