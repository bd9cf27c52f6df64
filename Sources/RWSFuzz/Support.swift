#if RWS_FUZZING || DEBUG

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

import ResponsesJSON

/// RWS_FUZZ_VERBOSE=1: harnesses print what one read of each input gave (replaying by hand).
let verbose = getenv("RWS_FUZZ_VERBOSE") != nil

/// A failed invariant: print why and abort, which libFuzzer reports as a crash (and saves the input).
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        printError("RWSFuzz invariant failed: \(message())\n")
        abort()
    }
}

/// Pseudo-random choices derived from the input itself (FNV-1a seed, splitmix64 steps): the
/// same input always replays the same way, and corpus files stay plain data (real events,
/// real HTTP answers) without a control prefix.
struct Choices {
    private var state: UInt64

    init(_ data: UnsafeRawBufferPointer) {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in data { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
        state = h
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }

    mutating func pick<T>(_ options: [T]) -> T { options[below(options.count)] }

    /// Ways to cut `count` bytes into consecutive reads, each compared against the first (one
    /// read): `random` plans with a few random cuts, and one byte per read for inputs up to
    /// `bytewiseUpTo` bytes (every split point of a header, a CRLF or a UTF-8 sequence at once;
    /// costly, so only for small inputs).
    mutating func readPlans(count: Int, random: Int = 2, bytewiseUpTo: Int = 64) -> [[Range<Int>]] {
        var plans: [[Range<Int>]] = [[0..<count]]
        if count > 1 {
            for _ in 0..<random {
                var cuts = Set<Int>()
                for _ in 0..<(1 + below(7)) { cuts.insert(1 + below(count - 1)) }
                let points = [0] + cuts.sorted() + [count]
                plans.append(zip(points, points.dropFirst()).map { $0..<$1 })
            }
        }
        if count > 1 && count <= bytewiseUpTo {
            plans.append((0..<count).map { $0..<($0 + 1) })
        }
        return plans
    }
}

/// Whether `needle` occurs in `haystack`.
func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
    guard needle.count <= haystack.count else { return false }
    return (0...(haystack.count - needle.count)).contains { haystack[$0..<($0 + needle.count)].elementsEqual(needle) }
}

/// The errors only the strict string check of the tree parser raises (StrictStrings.swift): an
/// invalid escape, a lone surrogate, invalid UTF-8 inside a string.
func isStrictStringError(_ error: JSONSyntaxError) -> Bool {
    ["invalid escape", "invalid \\u escape", "unterminated escape", "lone ", "invalid UTF-8 byte",
     "truncated UTF-8"].contains { error.message.hasPrefix($0) }
}

#endif
