import NIOCore
import ResponsesJSON

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// How a run ended, for the owner's cache and lane bookkeeping.
enum RunOutcome {
    case completed(ConversationNode)
    case incomplete(ConversationNode)
    case failed
    /// The connection went away (or a fault dropped it) before the terminal event.
    case aborted
}

/// What to do right after the first delta has been sent (fault injection).
enum FirstDeltaAction {
    case none
    /// `drop-mid-stream`: close the connection without a close frame / final chunk.
    case dropConnection
    /// `close-1011` over SSE: end the response with `response.failed`.
    case failResponse
}

/// Streams one response's events (§4.3) into a sink: the lifecycle events, one delta per token
/// paced at `tokensPerSecond` with scheduled tasks (0 = as fast as the peer reads, in batches
/// with one flush each), then the done events and the terminal event with `usage`.
/// Event-loop confined.
final class ResponseRun {
    private enum Phase { case created, inProgress, itemAdded, partAdded, tokens, outputDone, partDone, itemDone, terminal, finished }

    let request: CreateRequest
    let plan: ModelPlan
    let parent: ConversationNode?
    /// Output tokens shrink when a steer ends the answer early.
    private(set) var usage: Usage
    let writer: EventWriter
    var firstDeltaAction: FirstDeltaAction = .none
    /// `hold-after-created:K` / `hold-after-first-delta:K` / `hold-after-output:K`: at that point,
    /// wait for K client text frames (`clientFrameArrived()`) before going on. 0 = no hold.
    var holdAfterCreatedFrames = 0
    var holdAfterFirstDeltaFrames = 0
    var holdAfterOutputFrames = 0
    /// Called once, when the terminal event has been flushed or the run was aborted.
    var onFinish: ((ResponseRun, RunOutcome) -> Void)?

    private let sink: EventSink
    private let eventLoop: EventLoop
    private let tokensPerSecond: Int
    private var pieces: Tokenizer.Pieces
    private var phase = Phase.created
    /// Client frames still to arrive before a held run goes on; 0 = not held.
    private var heldFrames = 0
    /// A steer was accepted for this response (§5.6): a text answer stops at the next token.
    private var steerRequested = false
    /// The answer was cut short by a steer: the response ends `incomplete`, reason `steered`.
    private(set) var steered = false
    private(set) var sequence = 0
    private var tokenIndex = 0
    private var tokenStart = NIODeadline.now()
    private var scheduled: Scheduled<Void>?
    private var done = false

    /// Events written per batch (one flush each) before yielding the event loop to other work.
    static let batchSize = 256

    var responseID: String { writer.responseID }
    var streamID: String? { request.streamID }
    /// Waiting for client frames (a hold-after-… fault).
    var isHeld: Bool { heldFrames > 0 }
    /// `response.in_progress` went out: execution started, so the response can be steered (§4.2).
    var hasStarted: Bool { phase != .created && phase != .inProgress }
    /// It stopped for a client tool result (§5.6 required-input path): what the client must supply.
    var requiredInput: [RequiredInputStub]? {
        guard case .functionCall(let name, let callID, _) = plan.output, !plan.truncated else { return nil }
        return [RequiredInputStub(callID: callID, name: name)]
    }

    init(request: CreateRequest, plan: ModelPlan, parent: ConversationNode?, usage: Usage,
         sink: EventSink, eventLoop: EventLoop, tokensPerSecond: Int) {
        self.request = request
        self.plan = plan
        self.parent = parent
        self.usage = usage
        self.sink = sink
        self.eventLoop = eventLoop
        self.tokensPerSecond = tokensPerSecond
        let isText: Bool
        let itemID: String
        switch plan.output {
        case .warmUp: pieces = Tokenizer.Pieces(); isText = true; itemID = ""
        case .text(let p): pieces = p; isText = true; itemID = IDs.message()
        case .functionCall(_, _, let p): pieces = p; isText = false; itemID = IDs.functionCall()
        }
        writer = EventWriter(responseID: IDs.response(), itemID: itemID, createdAt: unixTime(),
                             echo: request.echo.members, streamID: request.streamID, isText: isText)
    }

    // MARK: driving

    func start(after delay: TimeAmount) {
        if delay > .zero {
            scheduled = eventLoop.assumeIsolated().scheduleTask(in: delay) { self.pump() }
        } else {
            pump()
        }
    }

    /// The sink became writable again.
    func resume() { pump() }

    /// A client text frame arrived on the connection: a held run counts it down and goes on.
    func clientFrameArrived() {
        guard heldFrames > 0, !done else { return }
        heldFrames -= 1
        if heldFrames == 0 { pump() }
    }

    /// §5.6: a steer was accepted. A text answer ends at its next token with the text streamed
    /// so far; a function call (or output already complete) finishes as planned.
    func steerAccepted() { steerRequested = true }

    /// The next number in this response's sequence: steer events are numbered inside the target
    /// response's stream (§4.1, §4.6).
    func takeSequenceNumber() -> Int {
        defer { sequence += 1 }
        return sequence
    }

    /// The connection closed: stop without further writes.
    func abort() {
        guard !done else { return }
        scheduled?.cancel()
        finish(.aborted)
    }

    private func pump() {
        scheduled = nil
        guard !done, heldFrames == 0 else { return }
        var budget = Self.batchSize
        while budget > 0 {
            if phase == .tokens {
                if steerRequested, !steered, plan.isText, tokenIndex < pieces.count { stopForSteer() }
                if tokenIndex == pieces.count { advance(); continue }
                if tokensPerSecond > 0 {
                    // Token k is due at tokenStart + k/tps; a late timer catches up in one batch.
                    let elapsed = Double((NIODeadline.now() - tokenStart).nanoseconds)
                    let due = 1 + Int(elapsed * Double(tokensPerSecond) / 1e9)
                    if tokenIndex >= due {
                        sink.flush()
                        let next = tokenStart + .nanoseconds(Int64(tokenIndex) * 1_000_000_000 / Int64(tokensPerSecond))
                        scheduled = eventLoop.assumeIsolated().scheduleTask(deadline: next) { self.pump() }
                        return
                    }
                }
                writeDelta()
                budget -= 1
                if tokenIndex == 1 && firstDeltaAction != .none {
                    sink.flush()
                    applyFirstDeltaFault()
                    return
                }
                if tokenIndex == 1 && holdAfterFirstDeltaFrames > 0 {
                    hold(holdAfterFirstDeltaFrames)
                    holdAfterFirstDeltaFrames = 0
                    return
                }
                continue
            }
            writePhaseEvent()
            budget -= 1
            advance()
            if phase == .inProgress && holdAfterCreatedFrames > 0 {
                hold(holdAfterCreatedFrames)
                holdAfterCreatedFrames = 0
                return
            }
            if phase == .terminal && holdAfterOutputFrames > 0 {
                hold(holdAfterOutputFrames)
                holdAfterOutputFrames = 0
                return
            }
            if phase == .finished {
                sink.flush()
                finish(terminalOutcome())
                return
            }
        }
        sink.flush()
        if sink.isWritable {
            eventLoop.assumeIsolated().execute { self.pump() }
        } else {
            sink.parkUntilWritable(self)
        }
    }

    private func hold(_ frames: Int) {
        heldFrames = frames
        sink.flush()
    }

    /// §5.6: end the current output item with what was streamed; the done events and the final
    /// Response then carry that text, and usage counts only those tokens.
    private func stopForSteer() {
        pieces = pieces.prefix(tokenIndex)
        usage.outputTokens = tokenIndex
        steered = true
    }

    private func applyFirstDeltaFault() {
        switch firstDeltaAction {
        case .none: break
        case .dropConnection:
            finish(.aborted)
            sink.abortConnection()
        case .failResponse:
            let error = APIError(status: 500, type: "server_error", code: "server_error",
                                 message: "The simulator injected a server error (--fault close-1011).")
            sink.writeEvent(type: "response.failed", capacity: 1024) { buf in
                writer.open(&buf, type: "response.failed", sequence: sequence)
                buf.writeStaticString(#","response":"#)
                writer.writeResponse(&buf, status: "failed", completedAt: nil, usage: nil, error: error) { _ in }
                writer.close(&buf)
            }
            sequence += 1
            sink.flush()
            finish(.failed)
        }
    }

    private func finish(_ outcome: RunOutcome) {
        guard !done else { return }
        done = true
        phase = .finished
        let callback = onFinish
        onFinish = nil
        callback?(self, outcome)
    }

    private func advance() {
        let isWarmUp: Bool, isText: Bool
        switch plan.output {
        case .warmUp: isWarmUp = true; isText = false
        case .text: isWarmUp = false; isText = true
        case .functionCall: isWarmUp = false; isText = false
        }
        switch phase {
        case .created: phase = .inProgress
        case .inProgress: phase = isWarmUp ? .terminal : .itemAdded
        case .itemAdded:
            phase = isText ? .partAdded : .tokens
            if !isText { tokenStart = .now() }
        case .partAdded: phase = .tokens; tokenStart = .now()
        case .tokens: phase = .outputDone
        case .outputDone: phase = isText ? .partDone : .itemDone
        case .partDone: phase = .itemDone
        case .itemDone: phase = .terminal
        case .terminal, .finished: phase = .finished
        }
    }

    // MARK: events

    private func writeDelta() {
        let range = pieces.range(tokenIndex)
        let seq = sequence
        sink.writeEvent(type: plan.isText ? "response.output_text.delta" : "response.function_call_arguments.delta", capacity: 200) { buf in
            pieces.bytes.withUnsafeBytes { all in
                writer.writeDelta(&buf, sequence: seq, token: UnsafeRawBufferPointer(rebasing: all[range]))
            }
        }
        sequence += 1
        tokenIndex += 1
    }

    /// A steered item was finished (with the text so far); only a `max_output_tokens` cut leaves
    /// it incomplete.
    private var itemStatus: StaticString { plan.truncated && !steered ? "incomplete" : "completed" }
    private var endsIncomplete: Bool { plan.truncated || steered }

    private func writePhaseEvent() {
        let seq = sequence
        let w = writer
        switch phase {
        case .created:
            sink.writeEvent(type: "response.created", capacity: 1024) { buf in
                w.open(&buf, type: "response.created", sequence: seq)
                buf.writeStaticString(#","response":"#)
                w.writeResponse(&buf, status: "in_progress", completedAt: nil, usage: nil) { _ in }
                w.close(&buf)
            }
        case .inProgress:
            sink.writeEvent(type: "response.in_progress", capacity: 1024) { buf in
                w.open(&buf, type: "response.in_progress", sequence: seq)
                buf.writeStaticString(#","response":"#)
                w.writeResponse(&buf, status: "in_progress", completedAt: nil, usage: nil) { _ in }
                w.close(&buf)
            }
        case .itemAdded:
            sink.writeEvent(type: "response.output_item.added", capacity: 256) { buf in
                w.open(&buf, type: "response.output_item.added", sequence: seq)
                buf.writeStaticString(#","output_index":0,"item":"#)
                writeItem(&buf, status: "in_progress", complete: false)
                w.close(&buf)
            }
        case .partAdded:
            sink.writeEvent(type: "response.content_part.added", capacity: 256) { buf in
                w.open(&buf, type: "response.content_part.added", sequence: seq)
                buf.writeStaticString(#","item_id":"#)
                buf.writeJSONString(w.itemID)
                buf.writeStaticString(#","output_index":0,"content_index":0,"part":"#)
                w.writeTextPart(&buf, text: [])
                w.close(&buf)
            }
        case .outputDone:
            if case .functionCall(let name, _, _) = plan.output {
                sink.writeEvent(type: "response.function_call_arguments.done", capacity: 256 + pieces.bytes.count) { buf in
                    w.open(&buf, type: "response.function_call_arguments.done", sequence: seq)
                    buf.writeStaticString(#","item_id":"#)
                    buf.writeJSONString(w.itemID)
                    buf.writeStaticString(#","output_index":0,"name":"#)
                    buf.writeJSONString(name)
                    buf.writeStaticString(#","arguments":"#)
                    pieces.bytes.withUnsafeBytes { buf.writeJSONString(utf8: $0) }
                    w.close(&buf)
                }
            } else {
                sink.writeEvent(type: "response.output_text.done", capacity: 256 + pieces.bytes.count) { buf in
                    w.open(&buf, type: "response.output_text.done", sequence: seq)
                    buf.writeStaticString(#","item_id":"#)
                    buf.writeJSONString(w.itemID)
                    buf.writeStaticString(#","output_index":0,"content_index":0,"text":"#)
                    pieces.bytes.withUnsafeBytes { buf.writeJSONString(utf8: $0) }
                    buf.writeStaticString(#","logprobs":[]"#)
                    w.close(&buf)
                }
            }
        case .partDone:
            sink.writeEvent(type: "response.content_part.done", capacity: 256 + pieces.bytes.count) { buf in
                w.open(&buf, type: "response.content_part.done", sequence: seq)
                buf.writeStaticString(#","item_id":"#)
                buf.writeJSONString(w.itemID)
                buf.writeStaticString(#","output_index":0,"content_index":0,"part":"#)
                w.writeTextPart(&buf, text: pieces.bytes)
                w.close(&buf)
            }
        case .itemDone:
            sink.writeEvent(type: "response.output_item.done", capacity: 256 + pieces.bytes.count) { buf in
                w.open(&buf, type: "response.output_item.done", sequence: seq)
                buf.writeStaticString(#","output_index":0,"item":"#)
                writeItem(&buf, status: itemStatus, complete: true)
                w.close(&buf)
            }
        case .terminal:
            let type: StaticString = endsIncomplete ? "response.incomplete" : "response.completed"
            sink.writeEvent(type: type, capacity: 1024 + pieces.bytes.count) { buf in
                w.open(&buf, type: type, sequence: seq)
                buf.writeStaticString(#","response":"#)
                writeFinalResponse(&buf)
                w.close(&buf)
            }
        case .tokens, .finished:
            return
        }
        sequence += 1
    }

    private func writeItem(_ buf: inout ByteBuffer, status: StaticString, complete: Bool) {
        switch plan.output {
        case .warmUp: break
        case .text: writer.writeMessageItem(&buf, status: status, text: complete ? pieces.bytes : nil)
        case .functionCall(let name, let callID, _):
            writer.writeFunctionCallItem(&buf, status: status, name: name, callID: callID, arguments: complete ? pieces.bytes : [])
        }
    }

    /// The terminal Response object; also the body of a non-streaming HTTP response.
    func writeFinalResponse(_ buf: inout ByteBuffer) {
        writer.writeResponse(
            &buf, status: endsIncomplete ? "incomplete" : "completed", completedAt: unixTime(), usage: usage,
            incompleteReason: steered ? "steered" : plan.truncated ? "max_output_tokens" : nil
        ) { buf in
            if case .warmUp = plan.output { return }
            writeItem(&buf, status: itemStatus, complete: true)
        }
    }

    private func terminalOutcome() -> RunOutcome {
        let node = makeNode()
        return endsIncomplete ? .incomplete(node) : .completed(node)
    }

    /// The conversation node this response adds: its request's new items and its output.
    func makeNode() -> ConversationNode {
        var output: [JSONValue] = []
        let status: JSONValue = plan.truncated && !steered ? "incomplete" : "completed"
        switch plan.output {
        case .warmUp: break
        case .text:
            output.append([
                "id": .string(writer.itemID), "type": "message", "status": status, "role": "assistant",
                "content": [["type": "output_text", "text": .string(pieces.text), "annotations": []]],
            ])
        case .functionCall(let name, let callID, _):
            output.append([
                "id": .string(writer.itemID), "type": "function_call", "status": status,
                "arguments": .string(pieces.text), "call_id": .string(callID), "name": .string(name),
            ])
        }
        return ConversationNode(responseID: responseID, parent: parent, inputItems: request.input,
                                inputBytes: request.inputBytes, inputTokens: request.inputTokens,
                                outputItems: output, stored: request.store)
    }
}

extension ModelPlan {
    var isText: Bool { if case .functionCall = output { return false } else { return true } }
}

/// Seconds since the Unix epoch (`created_at`, `completed_at`).
func unixTime() -> Int {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int(ts.tv_sec)
}
