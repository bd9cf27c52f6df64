import Synchronization

/// A fault to inject into one request, for testing clients (`--fault KIND@N`).
public enum FaultKind: Sendable, Equatable, CustomStringConvertible {
    /// Close the TCP connection, without a close frame, right after reading the request.
    case dropBeforeEvents
    /// The same, right after the first delta has been sent.
    case dropMidStream
    /// WebSocket: close with code 1011. HTTP: 500 (plain JSON) or `response.failed` (SSE).
    case close1011
    /// Answer `previous_response_not_found` as if the connection cache had missed.
    case evict
    /// WebSocket: `websocket_connection_limit_reached`, then close. HTTP: 429.
    case limit
    /// Wait this many milliseconds before the first event.
    case slow(milliseconds: Int)
    /// WebSocket with permessage-deflate: instead of events, one small compressed text message
    /// that inflates to 64 MiB (a decompression bomb; the client's limit must stop it).
    case deflateBomb
    /// WebSocket: after `response.created`, send nothing more until this many further client text
    /// frames have arrived (the response exists but has not started: steering it answers
    /// `response_not_active`, PROTOCOL.md §4.6). Lets tests act at that point without sleeping.
    case holdAfterCreated(frames: Int)
    /// WebSocket: after the first delta, send nothing more until this many further client text
    /// frames have arrived, so that steers reach a running response deterministically (§5.6).
    case holdAfterFirstDelta(frames: Int)
    /// WebSocket: after the output item's done events, before the terminal event, wait the same
    /// way: a steer then finds the output finished, so the response stays `completed` (§5.6).
    case holdAfterOutput(frames: Int)
    /// `response.steer`: accept the steer, then fail it with `successor_creation_failed` where it
    /// would have been committed (PROTOCOL.md §4.6/§5.6). Its N counts steer frames, not requests.
    case steerFail

    /// Whether N counts `response.steer` frames (server-wide, from 1) instead of requests.
    public var countsSteers: Bool { self == .steerFail }

    public var description: String {
        switch self {
        case .dropBeforeEvents: return "drop-before-events"
        case .dropMidStream: return "drop-mid-stream"
        case .close1011: return "close-1011"
        case .evict: return "evict"
        case .limit: return "limit"
        case .slow(let ms): return "slow:\(ms)"
        case .deflateBomb: return "deflate-bomb"
        case .holdAfterCreated(let n): return n == 1 ? "hold-after-created" : "hold-after-created:\(n)"
        case .holdAfterFirstDelta(let n): return n == 1 ? "hold-after-first-delta" : "hold-after-first-delta:\(n)"
        case .holdAfterOutput(let n): return n == 1 ? "hold-after-output" : "hold-after-output:\(n)"
        case .steerFail: return "steer-fail"
        }
    }
}

/// `KIND@N`: inject `kind` into the N-th request the whole server receives (counting from 1
/// WebSocket `response.create` frames and HTTP POSTs together). `steer-fail` counts
/// `response.steer` frames instead, also server-wide from 1.
public struct FaultRule: Sendable, Equatable, CustomStringConvertible {
    public var kind: FaultKind
    public var requestNumber: Int

    public init(kind: FaultKind, requestNumber: Int) {
        self.kind = kind
        self.requestNumber = requestNumber
    }

    /// Parses `KIND@N`, e.g. `drop-mid-stream@3` or `slow:250@1`.
    public init(parsing text: String) throws(SimulatorConfigError) {
        guard let at = text.lastIndex(of: "@"), let n = Int(text[text.index(after: at)...]), n >= 1 else {
            throw SimulatorConfigError("fault '\(text)': expected KIND@N with N >= 1")
        }
        let kindText = text[..<at]
        let kind: FaultKind
        switch kindText {
        case "drop-before-events": kind = .dropBeforeEvents
        case "drop-mid-stream": kind = .dropMidStream
        case "close-1011": kind = .close1011
        case "evict": kind = .evict
        case "limit": kind = .limit
        case "deflate-bomb": kind = .deflateBomb
        case "steer-fail": kind = .steerFail
        default:
            if kindText.hasPrefix("slow:"), let ms = Int(kindText.dropFirst(5)), ms >= 0 {
                kind = .slow(milliseconds: ms)
            } else if let frames = Self.holdFrames(kindText, "hold-after-created") {
                kind = .holdAfterCreated(frames: frames)
            } else if let frames = Self.holdFrames(kindText, "hold-after-first-delta") {
                kind = .holdAfterFirstDelta(frames: frames)
            } else if let frames = Self.holdFrames(kindText, "hold-after-output") {
                kind = .holdAfterOutput(frames: frames)
            } else {
                throw SimulatorConfigError(
                    "fault '\(text)': unknown kind '\(kindText)' (drop-before-events, drop-mid-stream, close-1011, evict, limit, slow:MS, deflate-bomb, hold-after-created[:K], hold-after-first-delta[:K], hold-after-output[:K], steer-fail)")
            }
        }
        self.init(kind: kind, requestNumber: n)
    }

    public var description: String { "\(kind)@\(requestNumber)" }

    /// `NAME` (one frame) or `NAME:K` with K >= 1.
    private static func holdFrames(_ text: Substring, _ name: String) -> Int? {
        if text == name { return 1 }
        guard text.hasPrefix(name + ":"), let k = Int(text.dropFirst(name.count + 1)), k >= 1 else { return nil }
        return k
    }
}

/// Counts requests server-wide and hands out the faults planned for each.
final class FaultInjector: Sendable {
    private let rules: [FaultRule]
    private let received = Atomic<Int>(0)
    private let steersReceived = Atomic<Int>(0)
    private let injected = Atomic<Int>(0)

    init(rules: [FaultRule]) { self.rules = rules }

    /// Counts one request (a `response.create` frame or a POST) and returns its faults.
    func nextRequest() -> [FaultKind] {
        let n = received.wrappingAdd(1, ordering: .relaxed).newValue
        guard !rules.isEmpty else { return [] }
        return matching(n, steers: false)
    }

    /// Counts one `response.steer` frame and returns its faults (`steer-fail`).
    func nextSteer() -> [FaultKind] {
        let n = steersReceived.wrappingAdd(1, ordering: .relaxed).newValue
        guard !rules.isEmpty else { return [] }
        return matching(n, steers: true)
    }

    private func matching(_ n: Int, steers: Bool) -> [FaultKind] {
        let kinds = rules.filter { $0.requestNumber == n && $0.kind.countsSteers == steers }.map(\.kind)
        if !kinds.isEmpty { injected.wrappingAdd(kinds.count, ordering: .relaxed) }
        return kinds
    }

    var requestsCounted: Int { received.load(ordering: .relaxed) }
    var faultsInjected: Int { injected.load(ordering: .relaxed) }
}

extension Array where Element == FaultKind {
    var slowMilliseconds: Int {
        reduce(0) { if case .slow(let ms) = $1 { return $0 + ms } else { return $0 } }
    }

    var holdAfterCreatedFrames: Int {
        reduce(0) { if case .holdAfterCreated(let n) = $1 { return Swift.max($0, n) } else { return $0 } }
    }

    var holdAfterFirstDeltaFrames: Int {
        reduce(0) { if case .holdAfterFirstDelta(let n) = $1 { return Swift.max($0, n) } else { return $0 } }
    }

    var holdAfterOutputFrames: Int {
        reduce(0) { if case .holdAfterOutput(let n) = $1 { return Swift.max($0, n) } else { return $0 } }
    }
}
