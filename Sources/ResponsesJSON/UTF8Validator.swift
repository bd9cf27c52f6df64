/// Checks that bytes are UTF-8 (RFC 3629) while they arrive: a WebSocket text message across
/// fragments and socket reads (RFC 6455 §8.1: fail as soon as the data is known to be invalid),
/// or the strings of a caller's request JSON (StrictStrings.swift). Stops at the first byte that
/// cannot be part of any valid sequence.
///
/// Hand-written because nothing at hand validates incrementally without a copy: the standard
/// library's `String(validating:)` needs the whole message and builds a String, and NIO does not
/// validate text frames. Responses events are JSON and almost all ASCII, so the ASCII bytes are
/// skipped 32 at a time; only the bytes of multi-byte sequences go through the state machine.
/// Tested against `String(validating:)` (WebSocketFrameParserTests), fuzzed through the frame
/// parser and the request parser.
public struct UTF8Validator: Sendable {
    /// What the next byte must be. Each case names the byte ranges of RFC 3629 §4.
    public enum State: UInt8, Sendable {
        /// Between characters: any lead byte.
        case start
        /// 1, 2 or 3 continuation bytes (80–BF) to go.
        case tail1, tail2, tail3
        /// After E0: A0–BF (no overlong three-byte forms), then one more.
        case afterE0
        /// After ED: 80–9F (no UTF-16 surrogates), then one more.
        case afterED
        /// After F0: 90–BF (no overlong four-byte forms), then two more.
        case afterF0
        /// After F4: 80–8F (nothing above U+10FFFF), then two more.
        case afterF4
    }

    public private(set) var state: State = .start
    /// Bytes accepted so far (where a failure is reported).
    public private(set) var validBytes = 0

    public init() {}

    /// True when the bytes so far end between characters: a message may end here.
    public var isComplete: Bool { state == .start }

    /// Feeds the next bytes of the message. Returns false at the first invalid byte (then
    /// `validBytes` is its offset in the message); the validator must not be fed again.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        var current = state
        while index < count {
            if current == .start {
                index = Self.skipASCII(base, from: index, count: count)
                guard index < count else { break }
            }
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            guard let next = Self.transition(current, byte) else {
                state = current
                validBytes += index
                return false
            }
            current = next
            index += 1
        }
        state = current
        validBytes += count
        return true
    }

    /// The index of the first byte at or after `start` with its high bit set, or `count`.
    /// Tests four unaligned 8-byte words per step (one branch per 32 bytes: the common case is a
    /// run of ASCII JSON), then finds the byte word by word. Measured on 200-byte events: 14 ns
    /// per event against 23 ns for two words per step.
    @inline(__always)
    private static func skipASCII(_ base: UnsafeRawPointer, from start: Int, count: Int) -> Int {
        let high: UInt64 = 0x8080_8080_8080_8080
        var index = start
        while index + 32 <= count {
            let a = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            let b = base.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)
            let c = base.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self)
            let d = base.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self)
            if (a | b | c | d) & high != 0 { break }
            index += 32
        }
        while index + 8 <= count {
            let word = base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & high
            // Little-endian (x86_64, aarch64): the lowest set flag is the first such byte.
            if word != 0 { return index + word.trailingZeroBitCount / 8 }
            index += 8
        }
        while index < count, base.load(fromByteOffset: index, as: UInt8.self) < 0x80 { index += 1 }
        return index
    }

    /// The state after `byte`, or nil if `byte` cannot come next.
    @inline(__always)
    private static func transition(_ state: State, _ byte: UInt8) -> State? {
        switch state {
        case .start:
            switch byte {
            case 0x00...0x7F: return .start
            case 0xC2...0xDF: return .tail1
            case 0xE0: return .afterE0
            case 0xE1...0xEC, 0xEE...0xEF: return .tail2
            case 0xED: return .afterED
            case 0xF0: return .afterF0
            case 0xF1...0xF3: return .tail3
            case 0xF4: return .afterF4
            default: return nil   // a stray continuation, C0/C1 (overlong), or F5–FF
            }
        case .tail1: return (0x80...0xBF).contains(byte) ? .start : nil
        case .tail2: return (0x80...0xBF).contains(byte) ? .tail1 : nil
        case .tail3: return (0x80...0xBF).contains(byte) ? .tail2 : nil
        case .afterE0: return (0xA0...0xBF).contains(byte) ? .tail1 : nil
        case .afterED: return (0x80...0x9F).contains(byte) ? .tail1 : nil
        case .afterF0: return (0x90...0xBF).contains(byte) ? .tail2 : nil
        case .afterF4: return (0x80...0x8F).contains(byte) ? .tail2 : nil
        }
    }
}
