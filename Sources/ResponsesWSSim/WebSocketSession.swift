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
        // §5.2: closing the connection drops every lane's cache.
        lanes.removeAll()
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
            handleText(frame.unmaskedData)
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
        let request = pending.request
        var parent: ConversationNode?
        var hitLane: String??  // the lane whose cache held the parent
        if let previous = request.previousResponseID {
            if pending.faults.contains(.evict) {
                // Injected miss: behave as if the parent had been evicted.
                counters.add(.cacheMisses)
                for k in lanes.keys where lanes[k]?.latest?.responseID == previous { lanes[k]?.latest = nil }
                failStart(.previousResponseNotFound(previous), request: request, lane: key)
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
                failStart(.previousResponseNotFound(previous), request: request, lane: key)
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
            failStart(error, request: request, lane: key)
            return
        }

        // The SIMULATED cost model: a cache hit processes only the new items; a miss the full history.
        let processedBytes = hitLane != nil ? request.inputBytes : (parent?.contextBytes ?? 0) + request.inputBytes
        let costMicros = shared.simulatedCostMicroseconds(inputBytes: processedBytes)
        counters.add(.simulatedCostMicroseconds, costMicros)
        let usage = shared.usage(for: request, parent: parent, cacheHit: hitLane != nil, outputTokens: plan.outputTokens)
        guard let context else { return }
        let run = ResponseRun(request: request, plan: plan, parent: parent, usage: usage, sink: self,
                              eventLoop: context.eventLoop, tokensPerSecond: shared.config.tokensPerSecond)
        if pending.faults.contains(.dropMidStream) { run.firstDeltaAction = .dropConnection }
        run.onFinish = { [weak self] run, outcome in
            self?.runFinished(run, outcome, lane: key, parentLane: hitLane)
        }
        runs[ObjectIdentifier(run)] = run
        run.start(after: .milliseconds(Int64(pending.faults.slowMilliseconds)) + .microseconds(Int64(costMicros)))
    }

    private func failStart(_ error: APIError, request: CreateRequest, lane key: String?) {
        sendError(error, streamID: request.streamID)
        laneFinished(key)
    }

    private func runFinished(_ run: ResponseRun, _ outcome: RunOutcome, lane key: String?, parentLane: String??) {
        runs[ObjectIdentifier(run)] = nil
        switch outcome {
        case .completed(let node), .incomplete(let node):
            // §5.2: a new response on a lane replaces that lane's cached entry.
            lanes[key]?.latest = node
            if node.stored { shared.store.put(node) }
        case .failed:
            if let parentLane, parentLane == key { lanes[key]?.latest = nil }
        case .aborted:
            return  // the connection is going away
        }
        laneFinished(key)
    }

    // MARK: response.steer

    /// The fake model has no steering (§3.2: models without it answer `steering_not_supported`).
    private func handleSteer(_ body: JSONObject) {
        let target = body["previous_response_id"]?.stringValue ?? ""
        let run = runs.values.first { $0.responseID == target }
        let code = run == nil ? "response_not_found" : "steering_not_supported"
        let message = run == nil
            ? "Response '\(target)' is not active on this connection."
            : "Steering is not supported for model '\(run?.request.model ?? "")'."
        let streamID = run?.streamID
        writeEvent(type: "response.steer.failed", capacity: 256) { buf in
            buf.writeStaticString(#"{"type":"response.steer.failed","sequence_number":"#)
            buf.writeJSONInt(run?.sequence ?? 0)
            buf.writeStaticString(#","error":{"type":"invalid_request_error","code":"#)
            buf.writeJSONString(code)
            buf.writeStaticString(#","message":"#)
            buf.writeJSONString(message)
            buf.writeStaticString(#"},"steer":{"previous_response_id":"#)
            buf.writeJSONString(target)
            buf.writeStaticString(#","input":"#)
            buf.writeJSONValue(body["input"] ?? "")
            buf.writeStaticString("}")
            if let streamID {
                buf.writeStaticString(#","stream_id":"#)
                buf.writeJSONString(streamID)
            }
            buf.writeStaticString("}")
        }
        flush()
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
