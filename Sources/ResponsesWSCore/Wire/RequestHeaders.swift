import CLinuxShims
import NIOHTTP1

/// Builds the headers of the upgrade GET / fallback POST from the configured ones.
enum RequestHeaders {
    /// `Host` (with the port when it is not the scheme's default), the configured headers in
    /// order, and a default `User-Agent` when none was configured. `extra` headers are added
    /// only if the caller did not configure a header of the same name.
    static func make(
        for endpoint: Endpoint,
        configured: [(name: String, value: String)],
        extra: [(name: String, value: String)] = []
    ) throws(TransportError) -> HTTPHeaders {
        var headers = HTTPHeaders()
        if !configured.contains(where: { $0.name.lowercased() == "host" }) {
            headers.add(name: "Host", value: endpoint.hostHeader)
        }
        for header in configured {
            try validate(header)
            headers.add(name: header.name, value: header.value)
        }
        if !headers.contains(name: "User-Agent") {
            headers.add(name: "User-Agent", value: ConnectionConfig.defaultUserAgent)
        }
        for header in extra where !headers.contains(name: header.name) {
            headers.add(name: header.name, value: header.value)
        }
        return headers
    }

    /// Rejects names that are not HTTP tokens and values with control characters (header
    /// injection). The message names the header, never its value.
    static func validate(_ header: (name: String, value: String)) throws(TransportError) {
        guard !header.name.isEmpty, header.name.utf8.allSatisfy(isTokenByte) else {
            throw TransportError(.configuration, "invalid header name '\(printable(header.name))': use letters, digits and -")
        }
        guard header.value.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F || $0 == 0x09 }) else {
            throw TransportError(.configuration, "header '\(header.name)' has a value with a line break or control character")
        }
    }

    private static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }

    private static func printable(_ text: String) -> String {
        String(text.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
    }
}

/// Removes credentials from text that came back from a server: error bodies may echo a key.
struct CredentialRedactor: Sendable {
    private static let sensitiveHeaders: Set<String> = [
        "authorization", "proxy-authorization", "api-key", "x-api-key", "cookie",
    ]
    /// Shorter secrets are not redacted: replacing them would mangle ordinary text.
    private static let minimumSecretLength = 8

    private let secrets: [String]
    /// The same secrets as bytes, for scanning raw server frames.
    private let secretBytes: [[UInt8]]

    /// `extraSecrets`: credentials that are not header values (a key passphrase).
    init(headers: [(name: String, value: String)], extraSecrets: [String] = []) {
        var secrets: [String] = extraSecrets
        for header in headers where Self.isSensitive(header.name) {
            secrets.append(header.value)
            // "Bearer sk-…": the token may be echoed without its scheme.
            if let space = header.value.firstIndex(of: " ") {
                secrets.append(String(header.value[header.value.index(after: space)...]).trimmingSpaces())
            }
        }
        self.secrets = secrets.filter { $0.count >= Self.minimumSecretLength }
            .sorted { $0.count > $1.count }
        secretBytes = self.secrets.map { Array($0.utf8) }
    }

    /// Whether there is anything to redact at all (no credentials configured: nothing to scan).
    var isEmpty: Bool { secrets.isEmpty }

    /// A copy of `bytes` with every credential replaced by [REDACTED], or nil when none occurs
    /// (the common case: no copy). Credentials are header values, so the replacement keeps a
    /// JSON text valid: they cannot contain a quote or a backslash that mattered.
    func redacted(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        guard !secretBytes.isEmpty, bytes.count > 0 else { return nil }
        var current: [UInt8]?
        for secret in secretBytes {
            let found = current.map { copy in copy.withUnsafeBytes { Self.contains($0, secret) } } ?? Self.contains(bytes, secret)
            guard found else { continue }
            current = Self.replacing(secret, in: current ?? Array(bytes))
        }
        return current
    }

    private static func contains(_ haystack: UnsafeRawBufferPointer, _ needle: [UInt8]) -> Bool {
        needle.withUnsafeBytes { n in rws_system_contains(haystack.baseAddress, haystack.count, n.baseAddress, n.count) != 0 }
    }

    private static func replacing(_ needle: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        let marker = Array("[REDACTED]".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == needle[0], i + needle.count <= bytes.count, bytes[i..<(i + needle.count)].elementsEqual(needle) {
                out.append(contentsOf: marker)
                i += needle.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return out
    }

    /// The known credential headers, and any name that looks like one (X-Goog-Api-Key,
    /// X-Auth-Token, ...): redacting a harmless value costs nothing, leaking a key does.
    static func isSensitive(_ name: String) -> Bool {
        let lower = name.lowercased()
        if sensitiveHeaders.contains(lower) { return true }
        return ["auth", "key", "token", "secret", "password", "cookie", "credential"].contains { lower.contains($0) }
    }

    func redact(_ text: String) -> String {
        var result = text
        for secret in secrets where result.contains(secret) {
            result = result.replacing(secret, with: "[REDACTED]")
        }
        return result
    }
}

extension String {
    func trimmingSpaces() -> String {
        var view = Substring(self)
        while view.first == " " { view = view.dropFirst() }
        while view.last == " " { view = view.dropLast() }
        return String(view)
    }
}
