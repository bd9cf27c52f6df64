/// What permessage-deflate (RFC 7692) was agreed on for one connection: whether each side keeps
/// its LZ77 window between messages, and the largest window each side compresses with.
public struct DeflateParameters: Sendable, Equatable, CustomStringConvertible {
    public var serverNoContextTakeover = false
    public var clientNoContextTakeover = false
    /// The server's compression window (2^bits bytes), 8...15.
    public var serverMaxWindowBits = 15
    /// The client's compression window, 8...15.
    public var clientMaxWindowBits = 15

    public init(serverNoContextTakeover: Bool = false, clientNoContextTakeover: Bool = false,
                serverMaxWindowBits: Int = 15, clientMaxWindowBits: Int = 15) {
        self.serverNoContextTakeover = serverNoContextTakeover
        self.clientNoContextTakeover = clientNoContextTakeover
        self.serverMaxWindowBits = serverMaxWindowBits
        self.clientMaxWindowBits = clientMaxWindowBits
    }

    /// The extension as a `Sec-WebSocket-Extensions` value, defaults left out.
    public var description: String {
        var text = "permessage-deflate"
        if serverNoContextTakeover { text += "; server_no_context_takeover" }
        if clientNoContextTakeover { text += "; client_no_context_takeover" }
        if serverMaxWindowBits != 15 { text += "; server_max_window_bits=\(serverMaxWindowBits)" }
        if clientMaxWindowBits != 15 { text += "; client_max_window_bits=\(clientMaxWindowBits)" }
        return text
    }

    /// zlib cannot produce a raw deflate stream with a 256-byte window (deflateInit2 refuses
    /// windowBits 8 without the zlib wrapper since zlib 1.2.9), so a compressor told to use 8
    /// uses 9. This is the workaround other zlib-based implementations use; a peer whose
    /// inflater really has only a 256-byte window could see a distance it cannot follow, but
    /// inflaters allocate the full 32 KiB window in practice (zlib itself rounds 8 up to 9).
    static func compressorWindowBits(_ negotiated: Int) -> Int { max(negotiated, 9) }
}

/// Why a `Sec-WebSocket-Extensions` header is not an acceptable permessage-deflate agreement.
public struct DeflateNegotiationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The text side of RFC 7692 §5 and §7.1: the client's offer, the check of the server's answer,
/// and (for the simulator) the server's choice among a client's offers.
public enum DeflateNegotiation {
    /// What the client offers: permessage-deflate, and that the server may limit our window.
    public static let clientOffer = "permessage-deflate; client_max_window_bits"
    /// The same, also promising that the client resets its compressor after each message
    /// (RFC 7692 §7.1.1.2): some servers accept only that. It costs compression of what we send.
    public static let clientOfferWithoutContextTakeover = "permessage-deflate; client_no_context_takeover; client_max_window_bits"

    /// The agreement in a 101's `Sec-WebSocket-Extensions` values (one per header line), nil
    /// when the server declined (no extension). Anything but a single permessage-deflate with
    /// known, valid, non-repeated parameters is refused: we offered nothing else (RFC 7692 §7.1).
    public static func acceptAnswer(_ headerValues: [String]) throws(DeflateNegotiationError) -> DeflateParameters? {
        let elements = try parseElements(headerValues)
        guard let element = elements.first else { return nil }
        guard elements.count == 1 else {
            throw DeflateNegotiationError("the server accepted \(elements.count) extensions; the client offered only permessage-deflate")
        }
        guard element.name == "permessage-deflate" else {
            throw DeflateNegotiationError("the server accepted the extension '\(element.name)', which the client never offered")
        }
        var result = DeflateParameters()
        var seen = Set<String>()
        for (name, value) in element.parameters {
            guard seen.insert(name).inserted else {
                throw DeflateNegotiationError("permessage-deflate parameter '\(name)' appears twice (RFC 7692 §7.1)")
            }
            switch name {
            case "server_no_context_takeover", "client_no_context_takeover":
                guard value == nil else {
                    throw DeflateNegotiationError("permessage-deflate parameter '\(name)' must not have a value (RFC 7692 §7.1.1)")
                }
                if name == "server_no_context_takeover" { result.serverNoContextTakeover = true }
                else { result.clientNoContextTakeover = true }
            case "server_max_window_bits", "client_max_window_bits":
                guard let value, let bits = windowBits(value) else {
                    throw DeflateNegotiationError("permessage-deflate parameter '\(name)' needs a value from 8 to 15 in an answer (RFC 7692 §7.1.2), got \(value.map { "'\($0)'" } ?? "none")")
                }
                if name == "server_max_window_bits" { result.serverMaxWindowBits = bits }
                else { result.clientMaxWindowBits = bits }
            default:
                throw DeflateNegotiationError("the server answered with the unknown permessage-deflate parameter '\(name)' (RFC 7692 §7.1)")
            }
        }
        return result
    }

    /// The server side: the first of a client's offers (`Sec-WebSocket-Extensions` values) that
    /// this implementation can accept, and the answer to send; nil when there is none.
    public static func chooseOffer(_ headerValues: [String]) -> (parameters: DeflateParameters, answer: String)? {
        guard let elements = try? parseElements(headerValues) else { return nil }
        offers: for element in elements where element.name == "permessage-deflate" {
            var result = DeflateParameters()
            var seen = Set<String>()
            for (name, value) in element.parameters {
                guard seen.insert(name).inserted else { continue offers }
                switch name {
                case "server_no_context_takeover" where value == nil: result.serverNoContextTakeover = true
                case "client_no_context_takeover" where value == nil: result.clientNoContextTakeover = true
                case "server_max_window_bits":
                    guard let value, let bits = windowBits(value) else { continue offers }
                    result.serverMaxWindowBits = bits
                case "client_max_window_bits":
                    // Without a value it only says the client could honour a limit; we set none.
                    if let value {
                        guard let bits = windowBits(value) else { continue offers }
                        result.clientMaxWindowBits = bits
                    }
                default: continue offers
                }
            }
            return (result, result.description)
        }
        return nil
    }

    private static func windowBits(_ text: String) -> Int? {
        guard let bits = Int(text), (8...15).contains(bits), text.allSatisfy(\.isASCII) else { return nil }
        return bits
    }

    /// One extension of a `Sec-WebSocket-Extensions` list: its name and `name[=value]` parameters
    /// (RFC 6455 §9.1; names lowercased, quoted values unquoted).
    struct Element: Equatable {
        var name: String
        var parameters: [(String, String?)]

        static func == (a: Element, b: Element) -> Bool {
            a.name == b.name && a.parameters.elementsEqual(b.parameters) { $0.0 == $1.0 && $0.1 == $1.1 }
        }
    }

    /// Splits header values into extensions at commas and into parameters at semicolons, both
    /// outside quoted strings. Empty list entries are skipped, as HTTP lists allow.
    static func parseElements(_ headerValues: [String]) throws(DeflateNegotiationError) -> [Element] {
        var elements: [Element] = []
        for value in headerValues {
            for item in try split(value, at: ",") {
                let parts = try split(item, at: ";").map { $0.trimmingSpaces }
                guard let name = parts.first, !name.isEmpty else {
                    if parts.allSatisfy(\.isEmpty) { continue }
                    throw DeflateNegotiationError("an extension without a name in '\(value)'")
                }
                guard isToken(name) else { throw DeflateNegotiationError("an invalid extension name '\(name)'") }
                var parameters: [(String, String?)] = []
                for part in parts.dropFirst() {
                    guard let eq = part.firstIndex(of: "=") else {
                        guard isToken(part) else { throw DeflateNegotiationError("an invalid extension parameter '\(part)'") }
                        parameters.append((part.lowercased(), nil))
                        continue
                    }
                    let key = String(part[..<eq]).trimmingSpaces
                    var raw = String(part[part.index(after: eq)...]).trimmingSpaces
                    if raw.count >= 2, raw.hasPrefix("\""), raw.hasSuffix("\"") {
                        raw = String(raw.dropFirst().dropLast()).replacingBackslashEscapes
                    }
                    guard isToken(key), isToken(raw) else {
                        throw DeflateNegotiationError("an invalid extension parameter '\(part)'")
                    }
                    parameters.append((key.lowercased(), raw))
                }
                elements.append(Element(name: name.lowercased(), parameters: parameters))
            }
        }
        return elements
    }

    /// `text` cut at each `separator` that is not inside a quoted string.
    private static func split(_ text: String, at separator: Character) throws(DeflateNegotiationError) -> [String] {
        var pieces: [String] = []
        var current = ""
        var quoted = false
        var escaped = false
        for c in text {
            if escaped { escaped = false; current.append(c); continue }
            if quoted && c == "\\" { escaped = true; current.append(c); continue }
            if c == "\"" { quoted.toggle() }
            if c == separator && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(c)
            }
        }
        guard !quoted else { throw DeflateNegotiationError("an unterminated quoted string in '\(text)'") }
        pieces.append(current)
        return pieces
    }

    /// An HTTP token (RFC 7230 §3.2.6): visible ASCII without separators.
    private static func isToken(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { byte in
            byte > 0x20 && byte < 0x7F && !"()<>@,;:\\\"/[]?={}".utf8.contains(byte)
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return String(s)
    }

    fileprivate var replacingBackslashEscapes: String {
        var out = ""
        var escaped = false
        for c in self {
            if !escaped && c == "\\" { escaped = true; continue }
            escaped = false
            out.append(c)
        }
        return out
    }
}
