#if RWS_FUZZING || DEBUG

import NIOCore
import ResponsesDeflate
@testable import ResponsesWSCore

/// The input is the server's byte stream after the 101. It is fed to `WebSocketFrameParser` in
/// one read and in several differently cut ones; every plan must deliver the same messages and
/// end in the same violation, and no message may break the size rules.
enum FrameTarget {
    enum Seen: Equatable {
        case text([UInt8]), binary, ping([UInt8]), pong, close([UInt8])
    }

    struct Outcome: Equatable {
        var seen: [Seen] = []
        var violation: WebSocketFrameParser.Violation?
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        var choices = Choices(data)
        // Small limits reach the "too big" paths; 125 and 126 sit on the control-frame edge.
        let limit = choices.pick([1, 16, 125, 126, 1000, 65536, 1 << 20])
        // Sometimes the connection starts closing after a few messages (deliver returns false).
        let stopAfter: Int? = choices.below(4) == 0 ? choices.below(8) : nil
        // Half the inputs as if permessage-deflate was agreed: RSV1 messages are inflated, within
        // the same limit (the bound on inflated size), with or without context takeover.
        let deflate: Bool? = choices.below(2) == 0 ? choices.below(2) == 0 : nil
        let bytes = Array(data)
        var first: Outcome?
        for plan in choices.readPlans(count: bytes.count) {
            let outcome = parse(bytes, plan, limit: limit, stopAfter: stopAfter, deflate: deflate)
            if let first {
                require(outcome == first, "reads \(plan.map(\.count)) gave \(outcome), one read gave \(first) (limit \(limit))")
            } else {
                first = outcome
                if verbose { print(outcome) }
            }
        }
    }

    /// `deflate`: nil without permessage-deflate, else whether the server resets its context.
    static func parse(_ bytes: [UInt8], _ plan: [Range<Int>], limit: Int, stopAfter: Int?, deflate: Bool? = nil) -> Outcome {
        var parser = WebSocketFrameParser(maxMessageBytes: limit,
                                          inflater: deflate.map { try! MessageInflater(noContextTakeover: $0) })
        let allocator = ByteBufferAllocator()
        var outcome = Outcome()
        var stopped = false
        for range in plan where !stopped {
            var read = allocator.buffer(capacity: range.count)
            read.writeBytes(bytes[range])
            do {
                try parser.feed(read, allocator: allocator) { message in
                    require(!stopped, "a message was delivered after deliver returned false")
                    let seen = Self.seen(message, limit: limit)
                    outcome.seen.append(seen)
                    if let stopAfter, outcome.seen.count > stopAfter {
                        stopped = true
                        return false
                    }
                    return true
                }
            } catch {
                outcome.violation = error
                break
            }
        }
        return outcome
    }

    private static func seen(_ message: WebSocketFrameParser.Message, limit: Int) -> Seen {
        switch message {
        case .text(let payload):
            require(payload.readableBytes <= limit, "a \(payload.readableBytes)-byte text message passed the \(limit)-byte limit")
            require(String(validating: payload.readableBytesView, as: UTF8.self) != nil, "a text message that is not UTF-8 passed")
            return .text(Array(payload.readableBytesView))
        case .binary:
            return .binary
        case .ping(let payload):
            require(payload.readableBytes <= 125, "a \(payload.readableBytes)-byte ping (control frames carry at most 125)")
            return .ping(Array(payload.readableBytesView))
        case .pong:
            return .pong
        case .close(let code, let reason):
            require(reason.readableBytes <= 123, "a \(reason.readableBytes)-byte close reason (control frames carry at most 125)")
            require(code.map(WebSocketFrameParser.isValidCloseCode) ?? true, "close code \(code!) passed")
            require(String(validating: reason.readableBytesView, as: UTF8.self) != nil, "a close reason that is not UTF-8 passed")
            let codeBytes = code.map { [UInt8($0 >> 8), UInt8($0 & 0xFF)] } ?? []
            return .close(codeBytes + Array(reason.readableBytesView))
        }
    }
}

#endif
