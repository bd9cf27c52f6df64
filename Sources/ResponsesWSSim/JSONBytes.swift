import NIOCore
import ResponsesJSON

// Writing JSON straight into ByteBuffers. Every server event is built this way (EventWriter.swift):
// the hot path (one delta per token) must not build a JSONValue tree or a String per event.

extension ByteBuffer {
    /// Appends `s` as a JSON string literal, quotes included.
    @inlinable
    mutating func writeJSONString(_ s: String) {
        var s = s
        s.withUTF8 { writeJSONString(utf8: UnsafeRawBufferPointer($0)) }
    }

    /// Appends UTF-8 bytes as a JSON string literal. The common case (nothing to escape) is one
    /// scan and one copy.
    @inlinable
    mutating func writeJSONString(utf8 bytes: UnsafeRawBufferPointer) {
        writeInteger(UInt8(ascii: "\""))
        var clean = bytes.startIndex
        for i in bytes.indices {
            let c = bytes[i]
            guard c < 0x20 || c == 0x22 || c == 0x5C else { continue }
            if clean < i { writeBytes(UnsafeRawBufferPointer(rebasing: bytes[clean..<i])) }
            writeEscaped(c)
            clean = i + 1
        }
        if clean < bytes.endIndex { writeBytes(UnsafeRawBufferPointer(rebasing: bytes[clean..<bytes.endIndex])) }
        writeInteger(UInt8(ascii: "\""))
    }

    @usableFromInline
    mutating func writeEscaped(_ c: UInt8) {
        switch c {
        case 0x22: writeStaticString("\\\"")
        case 0x5C: writeStaticString("\\\\")
        case 0x0A: writeStaticString("\\n")
        case 0x0D: writeStaticString("\\r")
        case 0x09: writeStaticString("\\t")
        default:
            let hex: StaticString = "0123456789abcdef"
            writeStaticString("\\u00")
            hex.withUTF8Buffer { h in
                writeInteger(h[Int(c >> 4)])
                writeInteger(h[Int(c & 15)])
            }
        }
    }

    /// Appends a decimal integer without creating a String.
    @inlinable
    mutating func writeJSONInt(_ value: Int) {
        if value < 0 {
            writeInteger(UInt8(ascii: "-"))
            writeJSONUInt(value == Int.min ? UInt(Int.max) + 1 : UInt(-value))
        } else {
            writeJSONUInt(UInt(value))
        }
    }

    @inlinable
    mutating func writeJSONUInt(_ value: UInt) {
        if value < 10 { writeInteger(UInt8(ascii: "0") &+ UInt8(value)); return }
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes of scratch on the stack
        var n = value
        var count = 0
        withUnsafeMutableBytes(of: &digits) { scratch in
            while n > 0 {
                count += 1
                scratch[24 - count] = UInt8(ascii: "0") &+ UInt8(n % 10)
                n /= 10
            }
            writeBytes(UnsafeRawBufferPointer(rebasing: scratch[(24 - count)...]))
        }
    }

    mutating func writeJSONBool(_ value: Bool) {
        if value { writeStaticString("true") } else { writeStaticString("false") }
    }

    /// Appends a JSON value (request echoes: tools, metadata...). Not for per-token use.
    mutating func writeJSONValue(_ value: JSONValue) {
        switch value {
        case .null: writeStaticString("null")
        case .bool(let b): writeJSONBool(b)
        case .number(let n): writeString(n)
        case .string(let s): writeJSONString(s)
        case .array(let items):
            writeInteger(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { writeInteger(UInt8(ascii: ",")) }
                writeJSONValue(item)
            }
            writeInteger(UInt8(ascii: "]"))
        case .object(let object):
            writeInteger(UInt8(ascii: "{"))
            for (i, member) in object.members.enumerated() {
                if i > 0 { writeInteger(UInt8(ascii: ",")) }
                writeJSONString(member.key)
                writeInteger(UInt8(ascii: ":"))
                writeJSONValue(member.value)
            }
            writeInteger(UInt8(ascii: "}"))
        }
    }
}

extension JSONValue {
    /// Size of the compact serialisation, for the cost model and usage accounting.
    var serializedByteCount: Int {
        switch self {
        case .null: return 4
        case .bool(let b): return b ? 4 : 5
        case .number(let n): return n.utf8.count
        case .string(let s): return s.utf8.count + 2
        case .array(let items): return items.reduce(1 + max(items.count, 1)) { $0 + $1.serializedByteCount }
        case .object(let o):
            return o.members.reduce(1 + max(o.members.count, 1)) { $0 + $1.key.utf8.count + 3 + $1.value.serializedByteCount }
        }
    }
}

/// Parses a JSON document held in a ByteBuffer's readable bytes.
func parseJSON(_ buffer: ByteBuffer) throws(JSONSyntaxError) -> JSONValue {
    try buffer.withUnsafeReadableBytes { raw in
        Result { () throws(JSONSyntaxError) in try JSONValue.parse(raw) }
    }.get()
}
