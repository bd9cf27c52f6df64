#if RWS_FUZZING || DEBUG

import NIOCore
@testable import ResponsesWSCore

/// The input is a `text/event-stream` body. However it is cut into reads, `SSEParser` must
/// deliver the same events; none may be empty, `[DONE]` or over the limit. Only "too large" may
/// come earlier when cut (an unterminated long line is refused before its end arrives), so a
/// plan that ends in it must have delivered a prefix of the others' events.
enum SSETarget {
    struct Outcome {
        var events: [[UInt8]] = []
        var tooLarge = false
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        var choices = Choices(data)
        let limit = choices.pick([1, 8, 64, 4096, 1 << 20])
        let bytes = Array(data)
        var first: Outcome?
        for plan in choices.readPlans(count: bytes.count) {
            let outcome = parse(bytes, plan, limit: limit)
            guard let first else {
                first = outcome
                if verbose { print(outcome) }
                continue
            }
            let cuts = plan.map(\.count)
            switch (first.tooLarge, outcome.tooLarge) {
            case (false, false):
                require(outcome.events == first.events, "reads \(cuts) gave other events than one read (limit \(limit))")
            case (true, false):
                require(outcome.events.starts(with: first.events), "one read refused more than reads \(cuts) (limit \(limit))")
            case (false, true):
                require(first.events.starts(with: outcome.events), "reads \(cuts) refused more than one read (limit \(limit))")
            case (true, true):
                let (short, long) = outcome.events.count <= first.events.count ? (outcome, first) : (first, outcome)
                require(long.events.starts(with: short.events), "reads \(cuts) and one read disagree before too-large (limit \(limit))")
            }
        }
    }

    static func parse(_ bytes: [UInt8], _ plan: [Range<Int>], limit: Int) -> Outcome {
        var parser = SSEParser(maxEventBytes: limit)
        let allocator = ByteBufferAllocator()
        var outcome = Outcome()
        for range in plan {
            var read = allocator.buffer(capacity: range.count)
            read.writeBytes(bytes[range])
            do {
                try parser.feed(read, allocator: allocator) { event in
                    let payload = Array(event.readableBytesView)
                    require(!payload.isEmpty && payload != Array("[DONE]".utf8), "delivered an empty or [DONE] event")
                    require(payload.count <= limit, "a \(payload.count)-byte event passed the \(limit)-byte limit")
                    outcome.events.append(payload)
                }
            } catch {
                outcome.tooLarge = true
                break
            }
        }
        return outcome
    }
}

#endif
