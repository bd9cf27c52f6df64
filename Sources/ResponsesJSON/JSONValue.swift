// A JSON value tree for the places that must understand a whole document: request bodies
// (merging session defaults, computing incremental input) and the simulator's parsing of
// requests. Events on the hot path never become trees; they are read with JSONScanner.

/// One JSON value. Numbers keep their literal text so that re-serialising a caller's request
/// never changes a number (e.g. `0.7` stays `0.7`, large integers keep every digit).
public enum JSONValue: Sendable {
    case null
    case bool(Bool)
    case number(String)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)
}

/// An object that keeps its members in document order (serialisation is stable and readable)
/// and answers look-ups by key. Duplicate keys: the last one wins on look-up, as in most parsers.
public struct JSONObject: Sendable, Equatable {
    public var members: [(key: String, value: JSONValue)]

    public init(_ members: [(key: String, value: JSONValue)] = []) { self.members = members }

    public subscript(key: String) -> JSONValue? {
        get { members.last(where: { $0.key == key })?.value }
        set {
            if let newValue {
                if let i = members.lastIndex(where: { $0.key == key }) {
                    members[i].value = newValue
                } else {
                    members.append((key, newValue))
                }
            } else {
                members.removeAll { $0.key == key }
            }
        }
    }

    public var keys: [String] { members.map(\.key) }
    public var isEmpty: Bool { members.isEmpty }

    /// Order-insensitive equality: two objects are equal when they have the same keys with equal
    /// values (key order carries no meaning in JSON).
    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        guard a.members.count == b.members.count else { return false }
        for (key, value) in a.members {
            guard let other = b[key], other == value else { return false }
        }
        return true
    }
}

extension JSONValue: Equatable {
    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): return true
        case let (.bool(x), .bool(y)): return x == y
        case let (.number(x), .number(y)): return x == y || (Double(x) != nil && Double(x) == Double(y))
        case let (.string(x), .string(y)): return x == y
        case let (.array(x), .array(y)): return x == y
        case let (.object(x), .object(y)): return x == y
        default: return false
        }
    }
}

extension JSONValue {
    public subscript(key: String) -> JSONValue? {
        if case .object(let o) = self { return o[key] }
        return nil
    }
    public var stringValue: String? { if case .string(let s) = self { return s }; return nil }
    public var boolValue: Bool? { if case .bool(let b) = self { return b }; return nil }
    public var arrayValue: [JSONValue]? { if case .array(let a) = self { return a }; return nil }
    public var objectValue: JSONObject? { if case .object(let o) = self { return o }; return nil }
    public var intValue: Int? { if case .number(let n) = self { return Int(n) ?? Double(n).flatMap { Int(exactly: $0) } }; return nil }
    public var doubleValue: Double? { if case .number(let n) = self { return Double(n) }; return nil }
    public var isNull: Bool { if case .null = self { return true }; return false }

    public static func int(_ v: Int) -> JSONValue { .number(String(v)) }
    public static func double(_ v: Double) -> JSONValue { .number(v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)) }
}

// MARK: parsing

extension JSONValue {
    /// Parses exactly one JSON document.
    public static func parse(_ bytes: UnsafeRawBufferPointer) throws(JSONSyntaxError) -> JSONValue {
        var scanner = JSONScanner(bytes)
        do {
            let value = try scanner.parseValue(depth: 0)
            try scanner.expectEnd()
            return value
        } catch let e as JSONSyntaxError {
            throw e
        } catch {
            throw JSONSyntaxError("\(error)", at: scanner.position)
        }
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        try bytes.withUnsafeBytes { raw in Result { () throws(JSONSyntaxError) in try parse(raw) } }.get()
    }

    public static func parse(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        var text = text
        return try text.withUTF8 { raw in Result { () throws(JSONSyntaxError) in try parse(UnsafeRawBufferPointer(raw)) } }.get()
    }
}

extension JSONScanner {
    /// Parses the value at the current position into a tree.
    public mutating func parseValue(depth: Int = 0) throws -> JSONValue {
        guard depth < 512 else { throw error("nesting deeper than 512 levels") }
        switch try peekKind() {
        case .null:
            guard matchLiteral("null") else { throw error("invalid literal") }
            return .null
        case .bool:
            if matchLiteral("true") { return .bool(true) }
            if matchLiteral("false") { return .bool(false) }
            throw error("invalid literal")
        case .number:
            let start = pos
            try scanNumber()
            return .number(String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<pos]), as: UTF8.self))
        case .string:
            let (span, escaped) = try scanString()
            return .string(try strictString(span, escaped: escaped))
        case .array:
            var items: [JSONValue] = []
            try forEachElement { s in items.append(try s.parseValue(depth: depth + 1)) }
            return .array(items)
        case .object:
            var object = JSONObject()
            try forEachMember(depth: depth) { s, key, escaped in
                let k = try s.strictString(key, escaped: escaped)
                object.members.append((k, try s.parseValue(depth: depth + 1)))
            }
            return .object(object)
        }
    }
}

// MARK: writing

extension JSONValue {
    /// Appends the compact serialisation of this value to `out`.
    public func write(to out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
        case .number(let n): out.append(contentsOf: n.utf8)
        case .string(let s): JSONValue.writeString(s, to: &out)
        case .array(let items):
            out.append(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                item.write(to: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            out.append(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONValue.writeString(member.key, to: &out)
                out.append(UInt8(ascii: ":"))
                member.value.write(to: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    public var serialized: [UInt8] {
        var out: [UInt8] = []
        write(to: &out)
        return out
    }

    public var serializedString: String { String(decoding: serialized, as: UTF8.self) }

    /// Appends `s` as a JSON string literal (quotes and escapes included).
    public static func writeString(_ s: String, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in s.utf8 { appendEscaped(c, to: &out) }
        out.append(UInt8(ascii: "\""))
    }

    /// Appends raw UTF-8 bytes as a JSON string literal.
    public static func writeString(bytes: some Sequence<UInt8>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for c in bytes { appendEscaped(c, to: &out) }
        out.append(UInt8(ascii: "\""))
    }

    @inline(__always)
    static func appendEscaped(_ c: UInt8, to out: inout [UInt8]) {
        switch c {
        case 0x22: out.append(0x5C); out.append(0x22)
        case 0x5C: out.append(0x5C); out.append(0x5C)
        case 0x0A: out.append(0x5C); out.append(UInt8(ascii: "n"))
        case 0x0D: out.append(0x5C); out.append(UInt8(ascii: "r"))
        case 0x09: out.append(0x5C); out.append(UInt8(ascii: "t"))
        case 0..<0x20:
            let hex: [UInt8] = Array("0123456789abcdef".utf8)
            out.append(contentsOf: [0x5C, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(c >> 4)], hex[Int(c & 15)]])
        default: out.append(c)
        }
    }
}

extension JSONValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    public init(stringLiteral value: String) { self = .string(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(integerLiteral value: Int) { self = .number(String(value)) }
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(elements.map { (key: $0.0, value: $0.1) }))
    }
    public init(nilLiteral: ()) { self = .null }
}
