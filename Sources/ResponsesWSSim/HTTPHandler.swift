import NIOCore
import NIOHTTP1
import ResponsesJSON

/// Plain HTTP on the simulator's port: `POST /v1/responses` with `"stream": true` (SSE) or
/// without (one JSON Response), plus the error answers for everything else. Requests on one
/// connection are answered in order (HTTPServerPipelineHandler holds pipelined ones back).
final class HTTPHandler: ChannelInboundHandler, RemovableChannelHandler, EventSink {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        case idle
        /// Collecting a POST body; `nil` once it went past `maxMessageBytes` (the rest is
        /// discarded but counted).
        case receiving(HTTPRequestHead, ByteBuffer?, received: Int)
        /// Ignoring a request's body (answered at `.end`).
        case ignoring(HTTPRequestHead)
        case responding
    }

    private let shared: SimulatorShared
    private var state = State.idle
    private var context: ChannelHandlerContext?
    private var keepAlive = true
    private var run: ResponseRun?
    private var parked = false
    private var pending: Scheduled<Void>?
    private var batch: ByteBuffer?

    init(shared: SimulatorShared) { self.shared = shared }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch (unwrapInboundIn(data), state) {
        case (.head(let head), _):
            keepAlive = head.isKeepAlive
            if head.method == .POST && HTTPRouter.pathOf(head.uri) == HTTPRouter.path {
                state = .receiving(head, context.channel.allocator.buffer(capacity: 0), received: 0)
                // curl sends `Expect: 100-continue` for larger bodies and would wait a second.
                if head.headers[canonicalForm: "Expect"].contains(where: { $0.lowercased() == "100-continue" }) {
                    context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: .continue))), promise: nil)
                }
            } else {
                state = .ignoring(head)
            }
        case (.body(var chunk), .receiving(let head, var body, let received)):
            state = .idle  // drop our reference while appending, to avoid a copy
            let total = received + chunk.readableBytes
            if total > shared.config.maxMessageBytes {
                body = nil
            } else {
                body?.writeBuffer(&chunk)
            }
            state = .receiving(head, body, received: total)
        case (.body, _):
            break
        case (.end, .receiving(let head, let body, let received)):
            state = .responding
            handlePost(head, body: body, received: received, context: context)
        case (.end, .ignoring(let head)):
            state = .responding
            answerOther(head, context: context)
        case (.end, _):
            break
        }
    }

    // MARK: non-POST requests

    private func answerOther(_ head: HTTPRequestHead, context: ChannelHandlerContext) {
        guard HTTPRouter.pathOf(head.uri) == HTTPRouter.path else {
            if case .answer(let status, let error) = HTTPRouter.notFound(head) { sendError(status, error, context: context) }
            return
        }
        if head.method == .GET, head.headers[canonicalForm: "Upgrade"].contains(where: { $0.lowercased() == "websocket" }),
           case .answer(let status, let error) = HTTPRouter.webSocketDecision(head, config: shared.config) {
            sendError(status, error, context: context)
            return
        }
        if let denied = HTTPRouter.authorize(head, config: shared.config) {
            sendError(.unauthorized, denied, context: context)
            return
        }
        sendError(.methodNotAllowed, APIError(status: 405, code: "method_not_allowed",
                                              message: "Method \(head.method.rawValue) is not allowed on \(HTTPRouter.path); use POST, or GET with a WebSocket upgrade."),
                  context: context)
    }

    // MARK: POST /v1/responses

    private func handlePost(_ head: HTTPRequestHead, body: ByteBuffer?, received: Int, context: ChannelHandlerContext) {
        if let denied = HTTPRouter.authorize(head, config: shared.config) {
            sendError(.unauthorized, denied, context: context)
            return
        }
        let counters = shared.stats.http
        counters.add(.createsReceived)
        counters.add(.bytesReceived, received)
        let faults = shared.faults.nextRequest()
        if faults.contains(.dropBeforeEvents) || (faults.contains(.dropMidStream) && !wantsStream(body)) {
            context.close(promise: nil)
            return
        }
        guard let body else {
            sendError(.badRequest, .invalid("Request body exceeds the maximum of \(shared.config.maxMessageBytes) bytes (--max-message-bytes).",
                                            code: "message_too_large"), context: context)
            return
        }
        let object: JSONObject
        do {
            guard case .object(let o) = try parseJSON(body) else {
                sendError(.badRequest, .invalid("The request body must be a JSON object.", code: "invalid_json"), context: context)
                return
            }
            object = o
        } catch {
            sendError(.badRequest, .invalid("We could not parse the JSON body of your request (\(error)).", code: "invalid_json"), context: context)
            return
        }
        if faults.contains(.limit) {
            sendError(HTTPResponseStatus(statusCode: 429), APIError(
                status: 429, type: "rate_limit_exceeded", code: "rate_limit_exceeded",
                message: "Rate limit reached (injected by the simulator: --fault limit)."), context: context, retryAfter: true)
            return
        }
        let request: CreateRequest
        switch CreateRequest.parse(object, transport: .http) {
        case .failure(let error): sendError(.badRequest, error, context: context); return
        case .success(let r): request = r
        }
        if faults.contains(.close1011) && !request.stream {
            sendError(.internalServerError, APIError(status: 500, type: "server_error", code: "server_error",
                                                     message: "The simulator injected a server error (--fault close-1011)."), context: context)
            return
        }

        // HTTP has no connection cache: a continuation always loads its parent from the store
        // (§5.2), and the server processes the full history.
        var parent: ConversationNode?
        if let previous = request.previousResponseID {
            counters.add(.cacheMisses)
            guard !faults.contains(.evict), let node = shared.store.get(previous) else {
                sendError(.badRequest, .previousResponseNotFound(previous), context: context)
                return
            }
            counters.add(.storeLoads)
            parent = node
        } else if faults.contains(.evict) {
            sendError(.badRequest, .previousResponseNotFound(""), context: context)
            return
        }
        let plan: ModelPlan
        do {
            plan = try shared.model.plan(for: request, parent: parent)
        } catch {
            sendError(.badRequest, error, context: context)
            return
        }

        let costMicros = shared.simulatedCostMicroseconds(inputBytes: (parent?.contextBytes ?? 0) + request.inputBytes)
        counters.add(.simulatedCostMicroseconds, costMicros)
        let delay = TimeAmount.milliseconds(Int64(faults.slowMilliseconds)) + .microseconds(Int64(costMicros))
        let usage = shared.usage(for: request, parent: parent, cacheHit: false, outputTokens: plan.outputTokens)
        let run = ResponseRun(request: request, plan: plan, parent: parent, usage: usage, sink: self,
                              eventLoop: context.eventLoop, tokensPerSecond: shared.config.tokensPerSecond)
        self.run = run
        var headers = baseHeaders()
        if costMicros > 0 { headers.add(name: "x-rws-simulated-cost-us", value: String(costMicros)) }

        if request.stream {
            headers.add(name: "Content-Type", value: "text/event-stream; charset=utf-8")
            headers.add(name: "Cache-Control", value: "no-cache")
            context.writeAndFlush(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            if faults.contains(.dropMidStream) { run.firstDeltaAction = .dropConnection }
            if faults.contains(.close1011) { run.firstDeltaAction = .failResponse }
            run.onFinish = { [weak self] run, outcome in self?.finishStream(run, outcome) }
            run.start(after: delay)
        } else {
            // The plain JSON answer arrives when a streamed one would have finished.
            let generation = shared.config.tokensPerSecond > 0
                ? TimeAmount.nanoseconds(Int64(plan.outputTokens) * 1_000_000_000 / Int64(shared.config.tokensPerSecond)) : .zero
            headers.add(name: "Content-Type", value: "application/json")
            pending = context.eventLoop.assumeIsolated().scheduleTask(in: delay + generation) { [weak self] in
                self?.finishPlain(run, headers: headers)
            }
        }
    }

    private func finishPlain(_ run: ResponseRun, headers: HTTPHeaders) {
        guard let context else { return }
        pending = nil
        self.run = nil
        var body = context.channel.allocator.buffer(capacity: 2048)
        run.writeFinalResponse(&body)
        record(run.makeNode())
        var headers = headers
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        endResponse(context: context)
    }

    private func finishStream(_ run: ResponseRun, _ outcome: RunOutcome) {
        self.run = nil
        switch outcome {
        case .completed(let node), .incomplete(let node): record(node)
        case .failed, .aborted: break
        }
        if case .aborted = outcome { return }
        if let context { endResponse(context: context) }
    }

    private func record(_ node: ConversationNode) {
        if node.stored { shared.store.put(node) }
    }

    private func wantsStream(_ body: ByteBuffer?) -> Bool {
        guard let body, case .object(let o)? = try? parseJSON(body) else { return false }
        return o["stream"]?.boolValue == true
    }

    // MARK: answers

    private func baseHeaders() -> HTTPHeaders {
        var headers = HTTPHeaders()
        headers.add(name: "x-request-id", value: IDs.request(shared.config))
        headers.add(name: "openai-version", value: "2020-10-01")
        if !keepAlive { headers.add(name: "Connection", value: "close") }
        return headers
    }

    private func sendError(_ status: HTTPResponseStatus, _ error: APIError, context: ChannelHandlerContext, retryAfter: Bool = false) {
        let body = error.httpBody(allocator: context.channel.allocator)
        var headers = baseHeaders()
        headers.add(name: "Content-Type", value: "application/json")
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        if retryAfter { headers.add(name: "retry-after", value: "1") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        endResponse(context: context)
    }

    private func endResponse(context: ChannelHandlerContext) {
        state = .idle
        let keepAlive = self.keepAlive
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { bound.value.close(promise: nil) }
        }
    }

    // MARK: EventSink (SSE)

    func writeEvent(type: StaticString, capacity: Int, _ body: (inout ByteBuffer) -> Void) {
        guard let context else { return }
        shared.stats.http.add(.eventsSent)   // before the peer can see it (as WebSocketSession)
        var buffer = batch.take() ?? context.channel.allocator.buffer(capacity: max(16 << 10, capacity + 64))
        // SSE framing (§2.3: WebSocket must NOT use it; HTTP streaming does).
        buffer.writeStaticString("event: ")
        buffer.writeStaticString(type)
        buffer.writeStaticString("\ndata: ")
        body(&buffer)
        buffer.writeStaticString("\n\n")
        batch = buffer
    }

    func flush() {
        guard let context, let buffer = batch else { return }
        batch = nil
        context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(buffer))), promise: nil)
    }

    var isWritable: Bool { context?.channel.isWritable ?? false }

    func parkUntilWritable(_ run: ResponseRun) { parked = true }

    func abortConnection() { context?.close(promise: nil) }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if parked && context.channel.isWritable {
            parked = false
            run?.resume()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        pending?.cancel()
        run?.abort()
        run = nil
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is SimulatorShutdownEvent {
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }
}
