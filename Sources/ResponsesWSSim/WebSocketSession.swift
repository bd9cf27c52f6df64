import NIOCore
import NIOWebSocket
import ResponsesDeflate
import ResponsesJSON

/// One upgraded WebSocket connection: parses client events, keeps the lanes (§5.1), the
/// connection-local continuation cache (§5.2–§5.3), the lifetime limit (§5.7), and streams each
/// response's events as text frames. Everything here runs on the channel's event loop.
final class WebSocketSession: ChannelInboundHandler, EventSink {
    typealias InboundIn = WebSocketFrame

    /// A `response.create` waiting on its lane.
    private struct Pending {
        var request: CreateRequest
        var faults: [FaultKind]
        /// Arrival order on this connection: free in-flight slots go to the oldest waiting head.
        var arrival: Int
    }

    /// §5.1: a lane is a FIFO of creates, one running at a time; §5.2: it caches its latest response.
    private struct Lane {
        var queue = CircularBuffer<Pending>()
        var busy = false
        var latest: ConversationNode?
    }

    private let shared: SimulatorShared
    private let counters: ConnectionCounters
    /// Every server frame is written through here, pre-framed (see FrameOutlet).
    private let outlet: FrameOutlet
    private var context: ChannelHandlerContext?
    /// Framed events not yet handed to the outlet, and the reused buffer one event is built in.
    private var batch: ByteBuffer?
    private var scratch = ByteBuffer()
    /// nil is the default lane.
    private var lanes: [String?: Lane] = [nil: Lane()]
    private var namedLanes = 0
    private var inFlight = 0
    private var arrivals = 0
    private var runs: [ObjectIdentifier: ResponseRun] = [:]
    /// Queued steers and ended responses (§3.2/§5.6); dropped with the connection.
    private var steering = SteerBook()
    private var parked: [ResponseRun] = []
    private var pumping = false
    private var needsPump = false
    private var openedAt = NIODeadline.now()
    private var ageTimer: Scheduled<Void>?
    private var ageReached = false
    /// Set once we sent a close frame (or dropped the connection): no more events.
    private var closing = false
    /// Compresses every text frame we send, when the client's permessage-deflate offer was taken.
    private let deflater: MessageDeflater?

    init(shared: SimulatorShared, counters: ConnectionCounters, outlet: FrameOutlet, deflater: MessageDeflater? = nil) {
        self.shared = shared
        self.counters = counters
        self.outlet = outlet
        self.deflater = deflater
    }

    // MARK: channel lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        openedAt = shared.config.now()
        if shared.config.pushLimitWhenIdle {
            // A real-time timer; with an injected clock, Simulator.checkConnectionAges() re-checks.
            ageTimer = context.eventLoop.assumeIsolated().scheduleTask(in: maxAge) { [weak self] in self?.ageLimitReached() }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closing = true
        ageTimer?.cancel()
        shared.stats.connectionClosed(counters)
        for run in Array(runs.values) { run.abort() }
        runs.removeAll()
        parked.removeAll()
        // §5.2: closing the connection drops every lane's cache, and queued steers with it.
        lanes.removeAll()
        steering = SteerBook()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        shared.stats.connectionClosed(counters)
        self.context = nil
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is SimulatorShutdownEvent {
            // §5.8: server going away.
            sendCloseFrame(.goingAway, reason: "server shutting down")
            return
        }
        if event is SimulatorAgeCheckEvent {
            if shared.config.pushLimitWhenIdle, !ageReached, ageTimer != nil, shared.config.now() - openedAt >= maxAge {
                ageTimer?.cancel()
                ageLimitReached()
            }
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !closing else { return }
        if isOversize(error) {
            let limit = shared.config.maxMessageBytes
            sendError(.invalid("WebSocket message exceeds the maximum size of \(limit) bytes (--max-message-bytes).",
                               code: "message_too_large"), streamID: nil)
            sendCloseFrame(.messageTooLarge, reason: "message too large")
        } else {
            sendCloseFrame(.protocolError, reason: "protocol error")
        }
    }

    private func isOversize(_ error: Error) -> Bool {
        if let e = error as? NIOWebSocketError, e == .invalidFrameLength { return true }
        if let e = error as? NIOWebSocketFrameAggregator.Error {
            return e == .accumulatedFrameSizeIsTooLarge || e == .tooManyFragments
        }
        return false
    }

    // MARK: frames

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            counters.add(.bytesReceived, frame.length)
            guard !closing else { return }
            // Runs held by a hold-after-… fault count this frame once it has been handled (a
            // steer it carries reaches them first); a run that starts holding now does not.
            let held = shared.config.faults.isEmpty ? [] : runs.values.filter(\.isHeld)
            handleText(frame.unmaskedData)
            for run in held { run.clientFrameArrived() }
        case .binary:
            counters.add(.bytesReceived, frame.length)
            guard !closing else { return }
            // §2.2/§5.8: binary frames are not part of the protocol; answer, keep the socket.
            sendError(.invalid("Binary WebSocket frames are not supported; send each client event as a JSON text frame.",
                               code: "unsupported_frame_type"), streamID: nil)
        case .ping:
            // §5.7: answer pings like any conforming endpoint.
            writeControlFrame(.pong, payload: frame.unmaskedData)
        case .connectionClose:
            if closing {
                context.close(promise: nil)
            } else {
                // Echo the peer's status code, then close.
                closing = true
                var data = frame.unmaskedData
                let code = data.readSlice(length: 2) ?? ByteBuffer()
                let channel = context.channel
                writeControlFrame(.connectionClose, payload: code) { channel.close(promise: nil) }
            }
        default:
            break
        }
    }

    private func handleText(_ payload: ByteBuffer) {
        let object: JSONObject
        do {
            guard case .object(let o) = try parseJSON(payload) else {
                sendError(.invalid("Each WebSocket message must be a JSON object with a string 'type'.", code: "invalid_json"), streamID: nil)
                return
            }
            object = o
        } catch {
            sendError(.invalid("The WebSocket message is not valid JSON (\(error)).", code: "invalid_json"), streamID: nil)
            return
        }
        switch object["type"] {
        case .string("response.create")?:
            handleCreate(object)
        case .string("response.steer")?:
            handleSteer(object)
        case .string(let type)?:
            // §7: unknown client events (response.append, response.processed, response.cancel…).
            if shared.config.ignoreUnknownEvents { return }
            sendError(.invalid("Invalid value: '\(type)'. Supported client event types are 'response.create' and 'response.steer'.",
                               param: "type", code: "invalid_value"), streamID: nil)
        default:
            sendError(.invalid("Missing required parameter: 'type'.", param: "type", code: "missing_required_parameter"), streamID: nil)
        }
    }

    // MARK: response.create

    private func handleCreate(_ body: JSONObject) {
        counters.add(.createsReceived)
        let faults = shared.faults.nextRequest()
        if faults.contains(.dropBeforeEvents) { abortConnection(); return }
        if faults.contains(.close1011) { sendCloseFrame(.unexpectedServerError, reason: "internal error (injected)"); return }
        if faults.contains(.deflateBomb), let deflater { sendDeflateBomb(deflater); return }
        if faults.contains(.limit) || shared.config.now() - openedAt >= maxAge {
            sendLimitAndClose()
            return
        }

        // §3.1 stream_id rules; §4.5: the invalid_stream_id example carries no stream_id.
        var streamID: String?
        switch body["stream_id"] {
        case nil:
            streamID = nil
        case .string(let id)? where Self.isValidStreamID(id):
            streamID = id
        default:
            sendError(.invalid(
                "The 'stream_id' field must be a non-empty string with at most 256 characters and may only contain letters, numbers, underscores, hyphens, and periods.",
                param: "stream_id", code: "invalid_stream_id"), streamID: nil)
            return
        }
        if let name = streamID, lanes[name] == nil {
            // §5.1: 32 distinct names per connection, never freed.
            guard namedLanes < shared.config.maxNamedLanesPerConnection else {
                sendError(.invalid(
                    "This WebSocket connection has reached its maximum number of distinct stream IDs (\(shared.config.maxNamedLanesPerConnection)). Reuse an existing stream_id or open a new WebSocket connection.",
                    param: "stream_id", code: "websocket_stream_limit_reached"), streamID: name)
                return
            }
            namedLanes += 1
            lanes[name] = Lane()
        }

        var request: CreateRequest
        switch CreateRequest.parse(body, transport: .webSocket) {
        case .failure(let error): sendError(error, streamID: streamID); return
        case .success(let r): request = r
        }
        request.streamID = streamID

        if shared.config.rejectOverlappingCreates, let lane = lanes[streamID], lane.busy || !lane.queue.isEmpty {
            // §9.2 alternative (flag): reject instead of queueing.
            sendError(.invalid("A response is already in progress on this \(streamID == nil ? "connection" : "stream"); wait for it to finish.",
                               code: "response_in_progress"), streamID: streamID)
            return
        }
        arrivals += 1
        lanes[streamID, default: Lane()].queue.append(Pending(request: request, faults: faults, arrival: arrivals))
        pumpLanes()
    }

    static func isValidStreamID(_ id: String) -> Bool {
        let utf8 = id.utf8
        guard (1...256).contains(utf8.count) else { return false }
        return utf8.allSatisfy { b in
            (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || b == 0x5F || b == 0x2E || b == 0x2D
        }
    }

    /// Starts queued creates while in-flight slots are free (§5.1: 16 per connection; extra creates
    /// wait, no error). A free slot goes to the lane whose waiting head arrived first. Re-entrant
    /// calls (a request that fails at once ends inside `start`) just ask for another round.
    private func pumpLanes() {
        if pumping { needsPump = true; return }
        pumping = true
        defer { pumping = false }
        repeat {
            needsPump = false
            while !closing, inFlight < shared.config.maxInFlightPerConnection {
                var next: (key: String?, arrival: Int)?
                for (key, lane) in lanes where !lane.busy {
                    if let head = lane.queue.first, head.arrival < (next?.arrival ?? .max) { next = (key, head.arrival) }
                }
                // (Not `next?.key`: optional chaining would flatten the default lane's nil key.)
                guard let chosen = next else { break }
                let key = chosen.key
                guard let pending = lanes[key]?.queue.popFirst() else { break }
                lanes[key]?.busy = true
                inFlight += 1
                start(pending, lane: key)
            }
        } while needsPump
    }

    /// The lane's request finished (terminal event or error): free its slot.
    private func laneFinished(_ key: String?) {
        inFlight -= 1
        lanes[key]?.busy = false
        if ageReached && isIdle { sendLimitAndClose(); return }
        pumpLanes()
    }

    private var isIdle: Bool { inFlight == 0 && lanes.values.allSatisfy { $0.queue.isEmpty } }

    /// Resolves the parent (§5.2), asks the model for a plan, and starts streaming.
    private func start(_ pending: Pending, lane key: String?) {
        var request = pending.request
        // §5.6 required-input path: a continuation on its lane from a response that waits for
        // tool output carries the steers queued on it, in front of its own input.
        var steers: [AcceptedSteer] = []
        if let previous = request.previousResponseID, let ended = steering.ended[previous],
           ended.waitingFor != nil, ended.streamID == key {
            steering.markContinued(previous)
            steers = takeSteersForCommit(previous)
            if !steers.isEmpty { request = request.prepending(steers.map(\.request)) }
        }
        var parent: ConversationNode?
        var hitLane: String??  // the lane whose cache held the parent
        if let previous = request.previousResponseID {
            if pending.faults.contains(.evict) {
                // Injected miss: behave as if the parent had been evicted.
                counters.add(.cacheMisses)
                for k in lanes.keys where lanes[k]?.latest?.responseID == previous { lanes[k]?.latest = nil }
                failStart(.previousResponseNotFound(previous), request: request, lane: key, steers: steers)
                return
            }
            if let entry = lanes.first(where: { $0.value.latest?.responseID == previous }), let node = entry.value.latest {
                counters.add(.cacheHits)
                parent = node
                hitLane = .some(entry.key)
            } else if let node = shared.store.get(previous) {
                // §5.2: store:true parents load from storage (no latency win).
                counters.add(.cacheMisses)
                counters.add(.storeLoads)
                parent = node
            } else {
                // §5.2: store:false (or unknown) parents have no fallback.
                counters.add(.cacheMisses)
                failStart(.previousResponseNotFound(previous), request: request, lane: key, steers: steers)
                return
            }
        } else if pending.faults.contains(.evict) {
            failStart(.previousResponseNotFound(""), request: request, lane: key)
            return
        }

        let plan: ModelPlan
        do {
            plan = try shared.model.plan(for: request, parent: parent)
        } catch {
            // §5.2: a failed same-lane continuation evicts its parent; a failed cross-lane fork keeps it.
            if let hit = hitLane, hit == key { lanes[key]?.latest = nil }
            failStart(error, request: request, lane: key, steers: steers)
            return
        }

        // The SIMULATED cost model: a cache hit processes only the new items; a miss the full history.
        let processedBytes = hitLane != nil ? request.inputBytes : (parent?.contextBytes ?? 0) + request.inputBytes
        let costMicros = shared.simulatedCostMicroseconds(inputBytes: processedBytes)
        counters.add(.simulatedCostMicroseconds, costMicros)
        let usage = shared.usage(for: request, parent: parent, cacheHit: hitLane != nil, outputTokens: plan.outputTokens)
        // Counted before the response's first event can reach the client (see writeEvent).
        counters.add(.steersCommitted, steers.count)
        launch(request, plan: plan, parent: parent, usage: usage, faults: pending.faults, lane: key, parentLane: hitLane,
               delay: .milliseconds(Int64(pending.faults.slowMilliseconds)) + .microseconds(Int64(costMicros)))
    }

    private func launch(_ request: CreateRequest, plan: ModelPlan, parent: ConversationNode?, usage: Usage,
                        faults: [FaultKind], lane key: String?, parentLane: String??, delay: TimeAmount) {
        guard let context else { return }
        let run = ResponseRun(request: request, plan: plan, parent: parent, usage: usage, sink: self,
                              eventLoop: context.eventLoop, tokensPerSecond: shared.config.tokensPerSecond)
        if faults.contains(.dropMidStream) { run.firstDeltaAction = .dropConnection }
        run.holdAfterCreatedFrames = faults.holdAfterCreatedFrames
        run.holdAfterFirstDeltaFrames = faults.holdAfterFirstDeltaFrames
        run.holdAfterOutputFrames = faults.holdAfterOutputFrames
        run.onFinish = { [weak self] run, outcome in
            self?.runFinished(run, outcome, lane: key, parentLane: parentLane)
        }
        runs[ObjectIdentifier(run)] = run
        run.start(after: delay)
    }

    private func failStart(_ error: APIError, request: CreateRequest, lane key: String?, steers: [AcceptedSteer] = []) {
        sendError(error, streamID: request.streamID)
        failAccepted(steers, message: "The response that was to carry the steering input could not be created: \(error.message)")
        laneFinished(key)
    }

    private func runFinished(_ run: ResponseRun, _ outcome: RunOutcome, lane key: String?, parentLane: String??) {
        runs[ObjectIdentifier(run)] = nil
        switch outcome {
        case .completed(let node), .incomplete(let node):
            // §5.2: a new response on a lane replaces that lane's cached entry.
            lanes[key]?.latest = node
            if node.stored { shared.store.put(node) }
            let waitingFor = run.requiredInput
            recordEnded(run, waitingFor: waitingFor)
            if steering.queuedCount(run.responseID) > 0 {
                if let stubs = waitingFor {
                    // §5.6 required input: the steers wait for the client's continuation.
                    for steer in steering.queued[run.responseID] ?? [] { sendPending(steer, stubs: stubs) }
                    flush()
                } else if startSuccessor(of: run, parent: node, lane: key) {
                    return  // the lane stays busy: the successor holds its slot
                }
            }
        case .failed:
            if let parentLane, parentLane == key { lanes[key]?.latest = nil }
            recordEnded(run, waitingFor: nil)
            failAccepted(steering.takeQueued(run.responseID),
                         message: "Response '\(run.responseID)' failed; the steering input was not applied.")
        case .aborted:
            return  // the connection is going away
        }
        laneFinished(key)
    }

    // MARK: response.steer

    /// §3.2/§4.6: validates a steer, checks its target, and queues it (accepted) or refuses it.
    /// Refusals come before an id is given, so they carry no `steer.id`.
    private func handleSteer(_ body: JSONObject) {
        counters.add(.steersReceived)
        let failsAtCommit = shared.faults.nextSteer().contains(.steerFail)
        let request: SteerRequest
        switch SteerRequest.parse(body) {
        case .failure(let invalid):
            refuseSteer(target: body["previous_response_id"]?.stringValue ?? "", input: body["input"] ?? .null,
                        code: "invalid_input", message: invalid.message)
            return
        case .success(let r):
            request = r
        }
        let target = request.target
        let run = runningRun(target)
        let ended = run == nil ? steering.ended[target] : nil
        func refuse(_ code: String, _ message: String) {
            refuseSteer(target: target, input: request.rawInput, code: code, message: message)
        }
        guard run != nil || ended != nil else {
            refuse("response_not_found", "Response '\(target)' is not available on this connection.")
            return
        }
        let model = run?.request.model ?? ended?.model ?? ""
        guard shared.config.steering.supports(model: model) else {
            refuse("steering_not_supported", "Steering is not supported for model '\(model)'.")
            return
        }
        if let run, !run.hasStarted {
            refuse("response_not_active", "Response '\(target)' has not started yet; steer it once it is in progress.")
            return
        }
        if let ended, ended.waitingFor == nil {
            refuse("response_already_completed", "Response '\(target)' has already finished; send the input with response.create.")
            return
        }
        guard steering.queuedCount(target) < SteerBook.maxQueuedPerResponse else {
            refuse("too_many_pending_steers",
                   "Response '\(target)' already has \(SteerBook.maxQueuedPerResponse) queued steers; supply the required input or wait for the successor.")
            return
        }

        let steer = AcceptedSteer(id: IDs.steer(), request: request, failsAtCommit: failsAtCommit)
        counters.add(.steersAccepted)
        let (sequence, streamID) = steerEnvelope(target)
        writeEvent(type: "response.steer.accepted", capacity: 256) { buf in
            SteerEvents.accepted(&buf, sequence: sequence, steerID: steer.id, target: target, streamID: streamID)
        }
        steering.enqueue(steer)
        if let run {
            run.steerAccepted()
        } else if let stubs = ended?.waitingFor {
            sendPending(steer, stubs: stubs)  // the target completed already
        }
        flush()
    }

    private func runningRun(_ id: String) -> ResponseRun? { runs.values.first { $0.responseID == id } }

    /// The next sequence number inside the target's numbering and its lane's `stream_id` (§4.6);
    /// 0 and none for an unknown target.
    private func steerEnvelope(_ target: String) -> (sequence: Int, streamID: String?) {
        if let run = runningRun(target) { return (run.takeSequenceNumber(), run.streamID) }
        let streamID = steering.ended[target]?.streamID
        return (steering.takeSequence(target) ?? 0, streamID)
    }

    private func recordEnded(_ run: ResponseRun, waitingFor: [RequiredInputStub]?) {
        steering.recordEnded(run.responseID, EndedResponse(streamID: run.streamID, model: run.request.model,
                                                           nextSequence: run.sequence, waitingFor: waitingFor))
    }

    /// `response.steer.failed` for a steer that was never accepted: no `steer.id`.
    private func refuseSteer(target: String, input: JSONValue, code: String, message: String) {
        counters.add(.steersFailed)
        let (sequence, streamID) = steerEnvelope(target)
        writeEvent(type: "response.steer.failed", capacity: 256 + message.utf8.count) { buf in
            SteerEvents.failed(&buf, sequence: sequence, steerID: nil, target: target, input: input,
                               code: code, message: message, streamID: streamID)
        }
        flush()
    }

    /// Accepted steers that will not be applied: `successor_creation_failed`, same ids (§5.6).
    private func failAccepted(_ steers: [AcceptedSteer], message: String) {
        guard !steers.isEmpty else { return }
        for steer in steers {
            counters.add(.steersFailed)
            let target = steer.request.target
            let (sequence, streamID) = steerEnvelope(target)
            writeEvent(type: "response.steer.failed", capacity: 256 + message.utf8.count) { buf in
                SteerEvents.failed(&buf, sequence: sequence, steerID: steer.id, target: target, input: steer.request.rawInput,
                                   code: "successor_creation_failed", message: message, streamID: streamID)
            }
        }
        flush()
    }

    private func sendPending(_ steer: AcceptedSteer, stubs: [RequiredInputStub]) {
        counters.add(.steersPending)
        let target = steer.request.target
        let (sequence, streamID) = steerEnvelope(target)
        writeEvent(type: "response.steer.pending", capacity: 256) { buf in
            SteerEvents.pending(&buf, sequence: sequence, steerID: steer.id, target: target, stubs: stubs, streamID: streamID)
        }
    }

    /// The target's queued steers, at the point they would be committed: those a `steer-fail`
    /// fault marked fail now; the others are returned.
    private func takeSteersForCommit(_ target: String) -> [AcceptedSteer] {
        let all = steering.takeQueued(target)
        failAccepted(all.filter(\.failsAtCommit), message: "The simulator injected a successor creation failure (--fault steer-fail).")
        return all.filter { !$0.failsAtCommit }
    }

    /// §5.6 automatic continuation: a successor on the same lane with the original's settings,
    /// continuing from it, with the queued steers' input. False when there is none to start.
    private func startSuccessor(of original: ResponseRun, parent: ConversationNode, lane key: String?) -> Bool {
        let steers = takeSteersForCommit(original.responseID)
        guard !steers.isEmpty else { return false }
        let request = original.request.steeringSuccessor(of: original.responseID, steers: steers.map(\.request))
        let plan: ModelPlan
        do {
            plan = try shared.model.plan(for: request, parent: parent)
        } catch {
            failAccepted(steers, message: "The successor response could not be created: \(error.message)")
            return false
        }
        // The parent is the lane's cached latest: a cache hit.
        let usage = shared.usage(for: request, parent: parent, cacheHit: true, outputTokens: plan.outputTokens)
        counters.add(.steersCommitted, steers.count)
        launch(request, plan: plan, parent: parent, usage: usage, faults: [], lane: key, parentLane: .some(key), delay: .zero)
        return true
    }

    // MARK: lifetime (§5.7)

    private var maxAge: TimeAmount { .nanoseconds(Int64(shared.config.maxConnectionAge * 1e9)) }

    private func ageLimitReached() {
        ageTimer = nil
        ageReached = true
        // Pushed unsolicited only on an idle socket; a busy one gets it once it drains.
        if isIdle { sendLimitAndClose() }
    }

    /// §5.7/§5.8: the limit error event, then a close (code configurable, default 1000).
    private func sendLimitAndClose() {
        guard !closing else { return }
        sendError(.connectionLimitReached(ageSeconds: shared.config.maxConnectionAge), streamID: nil)
        sendCloseFrame(WebSocketErrorCode(codeNumber: Int(shared.config.limitCloseCode)), reason: "connection limit reached")
    }

    private func sendCloseFrame(_ code: WebSocketErrorCode, reason: String) {
        guard !closing, let context else { return }
        closing = true
        for run in Array(runs.values) { run.abort() }
        var data = context.channel.allocator.buffer(capacity: 2 + reason.utf8.count)
        data.write(webSocketErrorCode: code)
        data.writeString(reason)
        writeControlFrame(.connectionClose, payload: data)
        // Wait for the peer's close frame (channelRead closes then); cut off a silent peer.
        let channel = context.channel
        context.eventLoop.scheduleTask(in: .seconds(2)) { channel.close(promise: nil) }
    }

    // MARK: errors

    /// §4.5: a request-scoped `error` event; the socket stays open.
    private func sendError(_ error: APIError, streamID: String?) {
        counters.add(.errorsSent)   // before the write, as every counter (see writeEvent)
        writeEvent(type: "error", capacity: 256 + error.message.utf8.count) { buf in
            error.writeWebSocketEvent(&buf, streamID: streamID)
        }
        flush()
    }

    // MARK: EventSink

    /// Hand a batch to the outlet once it is this big, so memory stays bounded within a batch.
    private static let batchBytes = 256 << 10

    func writeEvent(type: StaticString, capacity: Int, _ body: (inout ByteBuffer) -> Void) {
        guard let context else { return }
        // Counted before the frame can reach the peer: a client that has seen an event must
        // find it in the stats (tests read them right after receiving, from another thread).
        counters.add(.eventsSent)
        // Build the JSON in the reused scratch buffer, then frame it into the batch: no
        // allocation per event once the buffers have grown.
        scratch.clear()
        body(&scratch)
        var buffer = batch.take() ?? context.channel.allocator.buffer(capacity: Self.batchBytes / 4)
        let before = buffer.writerIndex
        if let deflater {
            counters.add(.compressedMessagesSent)
            buffer.writeServerFrame(opcode: .text, payload: deflater.compress(scratch, allocator: context.channel.allocator),
                                    compressed: true)
        } else {
            buffer.writeServerFrame(opcode: .text, payload: scratch)
        }
        counters.add(.bytesSent, buffer.writerIndex - before)
        if scratch.capacity > 1 << 20 { scratch = ByteBuffer() }  // do not keep a huge one around
        if buffer.readableBytes >= Self.batchBytes {
            outlet.write(buffer)
        } else {
            batch = buffer
        }
    }

    /// Pong and close frames: after any batched events, flushed at once.
    private func writeControlFrame(_ opcode: WebSocketOpcode, payload: ByteBuffer, then completion: (() -> Void)? = nil) {
        var buffer = batch.take() ?? ByteBuffer()
        let before = buffer.writerIndex
        buffer.writeServerFrame(opcode: opcode, payload: payload)
        counters.add(.bytesSent, buffer.writerIndex - before)
        if let completion {
            outlet.writeAndFlush(buffer, completion: completion)
        } else {
            outlet.write(buffer)
            outlet.flush()
        }
    }

    func flush() {
        if let buffer = batch.take() { outlet.write(buffer) }
        outlet.flush()
    }


    var isWritable: Bool { context?.channel.isWritable ?? false }

    func parkUntilWritable(_ run: ResponseRun) { parked.append(run) }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable && !parked.isEmpty {
            let resumed = parked
            parked.removeAll()
            for run in resumed { run.resume() }
        }
        context.fireChannelWritabilityChanged()
    }

    /// Fault injection: one compressed text message of 64 MiB of spaces, about 64 KiB on the
    /// wire, built 1 MiB at a time. The deflate window carries over, so later messages on this
    /// connection would not inflate: the client must fail the connection anyway.
    private func sendDeflateBomb(_ deflater: MessageDeflater) {
        var part = ByteBuffer()
        part.writeRepeatingByte(UInt8(ascii: " "), count: 1 << 20)
        var compressed = ByteBuffer()
        for _ in 0..<64 { deflater.compressPart(part, into: &compressed) }
        deflater.endMessage(&compressed)
        counters.add(.compressedMessagesSent)
        var buffer = batch.take() ?? ByteBuffer()
        buffer.writeServerFrame(opcode: .text, payload: compressed, compressed: true)
        counters.add(.bytesSent, buffer.readableBytes)
        outlet.write(buffer)
        outlet.flush()
    }

    /// Fault injection: close the TCP connection without a close frame (the peer sees 1006).
    func abortConnection() {
        guard let context else { return }
        closing = true
        context.close(promise: nil)
    }
}
