import ResponsesJSON

/// The server event types the library recognises (protocol §4.2). Raw values equal the
/// `RWS_EVENT_*` constants of include/responses_ws.h, so the export layer passes them through;
/// a test checks that they agree. Unknown types are `.other` and are always delivered.
public enum EventType: Int32, Sendable {
    case other = 0
    case responseCreated = 1
    case responseQueued = 2
    case responseInProgress = 3
    case responseCompleted = 4
    case responseFailed = 5
    case responseIncomplete = 6
    case error = 7
    case outputItemAdded = 8
    case outputItemDone = 9
    case contentPartAdded = 10
    case contentPartDone = 11
    case outputTextDelta = 12
    case outputTextDone = 13
    case functionCallArgumentsDelta = 14
    case functionCallArgumentsDone = 15
    case reasoningSummaryTextDelta = 16
    case reasoningSummaryTextDone = 17
    case reasoningTextDelta = 18
    case reasoningTextDone = 19
    case refusalDelta = 20
    case refusalDone = 21
    /// Legacy terminal event of early WebSocket builds (§4.2 "seen in the wild"): read like
    /// `response.completed`, using the embedded response's status.
    case responseDone = 22

    /// Ends the turn (§4.4). A request-scoped `error` ends it too.
    public var isTerminal: Bool {
        switch self {
        case .responseCompleted, .responseFailed, .responseIncomplete, .responseDone, .error: return true
        default: return false
        }
    }

    /// Carries the full Response object in a `response` field (§4.1).
    var carriesResponse: Bool {
        switch self {
        case .responseCreated, .responseQueued, .responseInProgress, .responseCompleted,
             .responseFailed, .responseIncomplete, .responseDone:
            return true
        default:
            return false
        }
    }

    /// Known type names, most frequent first: a delta costs one length check and one compare.
    private static let names: [(StaticString, EventType)] = [
        ("response.output_text.delta", .outputTextDelta),
        ("response.function_call_arguments.delta", .functionCallArgumentsDelta),
        ("response.reasoning_summary_text.delta", .reasoningSummaryTextDelta),
        ("response.reasoning_text.delta", .reasoningTextDelta),
        ("response.refusal.delta", .refusalDelta),
        ("response.created", .responseCreated),
        ("response.in_progress", .responseInProgress),
        ("response.output_item.added", .outputItemAdded),
        ("response.content_part.added", .contentPartAdded),
        ("response.output_text.done", .outputTextDone),
        ("response.content_part.done", .contentPartDone),
        ("response.output_item.done", .outputItemDone),
        ("response.completed", .responseCompleted),
        ("response.function_call_arguments.done", .functionCallArgumentsDone),
        ("response.reasoning_summary_text.done", .reasoningSummaryTextDone),
        ("response.reasoning_text.done", .reasoningTextDone),
        ("response.refusal.done", .refusalDone),
        ("response.queued", .responseQueued),
        ("response.failed", .responseFailed),
        ("response.incomplete", .responseIncomplete),
        ("error", .error),
        ("response.done", .responseDone),
    ]

    /// Classifies the type name held in `bytes[span]`.
    static func classify(_ bytes: UnsafeRawBufferPointer, _ span: JSONSpan) -> EventType {
        for (name, type) in names where name.utf8CodeUnitCount == span.count {
            let p = name.utf8Start
            var equal = true
            for i in 0..<span.count where bytes[span.start + i] != p[i] { equal = false; break }
            if equal { return type }
        }
        return .other
    }
}

