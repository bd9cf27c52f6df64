import ResponsesJSON

/// The server event types the library recognises (§4.2). Raw values equal the
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
    /// Steering acknowledgements (§4.6): queued, waiting for tool output, or not applied.
    case steerAccepted = 23
    case steerPending = 24
    case steerFailed = 25

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

    /// Classifies the type name held in `bytes[span]`: a switch on the length, then word
    /// compares against the few names of that length, most frequent first.
    static func classify(_ bytes: UnsafeRawBufferPointer, _ span: JSONSpan) -> EventType {
        let s = JSONScanner(bytes)
        switch span.count {
        case 5:
            if s.span(span, equals: "error") { return .error }
        case 13:
            if s.span(span, equals: "response.done") { return .responseDone }
        case 15:
            if s.span(span, equals: "response.queued") { return .responseQueued }
            if s.span(span, equals: "response.failed") { return .responseFailed }
        case 16:
            if s.span(span, equals: "response.created") { return .responseCreated }
        case 18:
            if s.span(span, equals: "response.completed") { return .responseCompleted }
        case 19:
            if s.span(span, equals: "response.incomplete") { return .responseIncomplete }
        case 20:
            if s.span(span, equals: "response.in_progress") { return .responseInProgress }
        case 21:
            if s.span(span, equals: "response.refusal.done") { return .refusalDone }
            if s.span(span, equals: "response.steer.failed") { return .steerFailed }
        case 22:
            if s.span(span, equals: "response.refusal.delta") { return .refusalDelta }
            if s.span(span, equals: "response.steer.pending") { return .steerPending }
        case 23:
            if s.span(span, equals: "response.steer.accepted") { return .steerAccepted }
        case 25:
            if s.span(span, equals: "response.output_text.done") { return .outputTextDone }
            if s.span(span, equals: "response.output_item.done") { return .outputItemDone }
        case 26:
            if s.span(span, equals: "response.output_text.delta") { return .outputTextDelta }
            if s.span(span, equals: "response.output_item.added") { return .outputItemAdded }
            if s.span(span, equals: "response.content_part.done") { return .contentPartDone }
        case 27:
            if s.span(span, equals: "response.content_part.added") { return .contentPartAdded }
        case 28:
            if s.span(span, equals: "response.reasoning_text.done") { return .reasoningTextDone }
        case 29:
            if s.span(span, equals: "response.reasoning_text.delta") { return .reasoningTextDelta }
        case 36:
            if s.span(span, equals: "response.reasoning_summary_text.done") { return .reasoningSummaryTextDone }
        case 37:
            if s.span(span, equals: "response.function_call_arguments.done") { return .functionCallArgumentsDone }
            if s.span(span, equals: "response.reasoning_summary_text.delta") { return .reasoningSummaryTextDelta }
        case 38:
            if s.span(span, equals: "response.function_call_arguments.delta") { return .functionCallArgumentsDelta }
        default:
            break
        }
        return .other
    }
}
