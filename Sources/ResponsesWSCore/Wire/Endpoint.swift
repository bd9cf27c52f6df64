/// Where to connect: scheme, host, port and request target, parsed from a URL.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    public enum Scheme: String, Sendable, Hashable {
        case ws, wss, http, https

        public var isTLS: Bool { self == .wss || self == .https }
        public var defaultPort: Int { isTLS ? 443 : 80 }
        public var isWebSocket: Bool { self == .ws || self == .wss }
    }

    public var scheme: Scheme
    /// Lower-cased host name or IP literal; IPv6 without brackets.
    public var host: String
    public var port: Int
    /// The request target: path plus "?query" if any; always starts with "/".
    public var path: String

    public var isTLS: Bool { scheme.isTLS }

    public init(scheme: Scheme, host: String, port: Int? = nil, path: String = "/") {
        self.scheme = scheme
        self.host = host
        self.port = port ?? scheme.defaultPort
        self.path = path.isEmpty ? "/" : path
    }

    /// Parses "scheme://host[:port][/path][?query]". Fragments are dropped; user info is refused
    /// (credentials belong in headers, never in a URL that may be logged).
    public init(url: String) throws(TransportError) {
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw TransportError(.url, "invalid URL '\(url)': expected scheme://host, e.g. wss://api.openai.com/v1/responses")
        }
        let schemeText = url[..<schemeEnd.lowerBound].lowercased()
        guard let scheme = Scheme(rawValue: schemeText) else {
            throw TransportError(.url, "unsupported URL scheme '\(schemeText)' in '\(url)': use ws, wss, http or https")
        }
        var rest = url[schemeEnd.upperBound...]
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        let authorityEnd = rest.firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let authority = rest[..<authorityEnd]
        var target = String(rest[authorityEnd...])
        if target.isEmpty {
            target = "/"
        } else if target.first == "?" {
            target = "/" + target
        }
        if authority.contains("@") {
            throw TransportError(.url, "URL '\(Endpoint.redactingUserInfo(url))' contains user info: pass credentials as headers instead")
        }
        let (host, port) = try Endpoint.parseAuthority(authority, scheme: scheme, url: url)
        self.init(scheme: scheme, host: host, port: port, path: target)
    }

    private static func parseAuthority(_ authority: Substring, scheme: Scheme, url: String) throws(TransportError) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else {
                throw TransportError(.url, "invalid URL '\(url)': unterminated IPv6 literal")
            }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let afterBracket = authority[authority.index(after: close)...]
            if !afterBracket.isEmpty {
                guard afterBracket.first == ":" else {
                    throw TransportError(.url, "invalid URL '\(url)': unexpected text after the IPv6 literal")
                }
                portText = afterBracket.dropFirst()
            }
            guard host.contains(":"), host.allSatisfy({ $0.isHexDigit || $0 == ":" || $0 == "." }) else {
                throw TransportError(.url, "invalid URL '\(url)': '[\(host)]' is not an IPv6 address")
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else {
            throw TransportError(.url, "invalid URL '\(url)': missing host")
        }
        guard authority.first == "[" || host.allSatisfy(isHostCharacter) else {
            throw TransportError(.url, "invalid URL '\(url)': '\(host)' is not a valid host name")
        }
        var port = scheme.defaultPort
        if let portText {
            guard !portText.isEmpty, portText.count <= 5, portText.allSatisfy({ $0.isASCII && $0.isNumber }),
                  let value = Int(portText), (1...65535).contains(value) else {
                throw TransportError(.url, "invalid URL '\(url)': bad port '\(portText)' (expected 1-65535)")
            }
            port = value
        }
        return (host.lowercased(), port)
    }

    private static func isHostCharacter(_ c: Character) -> Bool {
        c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "." || c == "_")
    }

    private static func redactingUserInfo(_ url: String) -> String {
        guard let schemeEnd = url.firstRange(of: "://"), let at = url[schemeEnd.upperBound...].firstIndex(of: "@") else { return url }
        return String(url[..<schemeEnd.upperBound]) + "…" + String(url[at...])
    }

    // MARK: - Derived endpoints

    /// The same place over HTTP: ws→http, wss→https (port and path kept).
    public var httpsEquivalent: Endpoint {
        var copy = self
        switch scheme {
        case .ws: copy.scheme = .http
        case .wss: copy.scheme = .https
        case .http, .https: break
        }
        return copy
    }

    /// The same place over WebSocket: http→ws, https→wss (port and path kept).
    public var webSocketEquivalent: Endpoint {
        var copy = self
        switch scheme {
        case .http: copy.scheme = .ws
        case .https: copy.scheme = .wss
        case .ws, .wss: break
        }
        return copy
    }

    /// The Responses WebSocket URL for an SDK-style base URL, as the SDKs derive it (§1.1):
    /// https→wss, http→ws, trailing "/" stripped, "/responses" appended, query kept.
    /// `https://api.openai.com/v1` → `wss://api.openai.com/v1/responses`.
    public static func webSocketURL(baseURL: String) throws(TransportError) -> Endpoint {
        try Endpoint(url: baseURL).appendingResponsesPath().webSocketEquivalent
    }

    /// The HTTP fallback URL for the same base (§5.11): `https://api.openai.com/v1/responses`.
    public static func httpResponsesURL(baseURL: String) throws(TransportError) -> Endpoint {
        try Endpoint(url: baseURL).appendingResponsesPath().httpsEquivalent
    }

    private func appendingResponsesPath() -> Endpoint {
        var copy = self
        let queryStart = path.firstIndex(of: "?") ?? path.endIndex
        var pathOnly = path[..<queryStart]
        while pathOnly.last == "/" { pathOnly = pathOnly.dropLast() }
        copy.path = pathOnly + "/responses" + path[queryStart...]
        return copy
    }

    // MARK: - Presentation

    /// The `Host` header value: the port only when it is not the scheme's default; IPv6 bracketed.
    public var hostHeader: String {
        port == scheme.defaultPort ? bracketedHost : "\(bracketedHost):\(port)"
    }

    /// "host:port", IPv6 bracketed, for messages.
    public var hostAndPort: String { "\(bracketedHost):\(port)" }

    private var bracketedHost: String { host.contains(":") ? "[\(host)]" : host }

    /// The URL, e.g. "wss://api.openai.com/v1/responses".
    public var url: String { "\(scheme.rawValue)://\(hostHeader)\(path)" }

    public var description: String { url }
}
