import NIOCore
import NIOHTTP1
import ResponsesTLS

/// Sends one POST and reads its answer for `HTTPSSEConnection`: SSE events for
/// `text/event-stream`, the whole body for other 2xx answers, and a `TransportError` (status plus
/// up to 4 KiB of body) for the rest. Loop-confined.
final class HTTPResponseStreamHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private enum Mode {
        case awaitingHead
        case events(SSEParser)
        case wholeBody(ByteBuffer?)
        case refused(HTTPResponseHead, ByteBuffer)
        case done
    }

    private let connection: HTTPSSEConnection
    private let attempt: ConnectAttempt<Void>
    private let request: HTTPRequestHead
    private let body: ByteBuffer
    private let maxMessageBytes: Int
    private let redactor: CredentialRedactor
    private var mode = Mode.awaitingHead
    private var requestSent = false

    init(
        connection: HTTPSSEConnection,
        attempt: ConnectAttempt<Void>,
        request: HTTPRequestHead,
        body: ByteBuffer,
        maxMessageBytes: Int,
        redactor: CredentialRedactor
    ) {
        self.connection = connection
        self.attempt = attempt
        self.request = request
        self.body = body
        self.maxMessageBytes = maxMessageBytes
        self.redactor = redactor
    }

    private var endpoint: Endpoint { attempt.endpoint }

    // MARK: - Request

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendRequest(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendRequest(context: context)
        context.fireChannelActive()
    }

    /// Written at once (TLS holds it until its handshake is done); the connect deadline ends
    /// when the whole request is on the wire, since a non-streamed answer may take minutes.
    private func sendRequest(context: ChannelHandlerContext) {
        guard !requestSent else { return }
        requestSent = true
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        connection.addBytesSent(body.readableBytes)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenSuccess { [attempt] in
            attempt.succeed(())
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is TLSHandshakeCompleted { attempt.tlsHandshakeCompleted() }
        context.fireUserInboundEventTriggered(event)
    }

    // MARK: - Response

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            received(head)
        case .body(let chunk):
            received(chunk, context: context)
        case .end:
            endOfResponse(context: context)
        }
    }

    private func received(_ head: HTTPResponseHead) {
        guard case .awaitingHead = mode, head.status.code >= 200 else { return }  // skip 1xx
        connection.requestID = RequestID.from(head.headers)
        if (200..<300).contains(head.status.code) {
            let contentType = head.headers.first(name: "content-type")?.lowercased() ?? ""
            mode = contentType.hasPrefix("text/event-stream")
                ? .events(SSEParser(maxEventBytes: maxMessageBytes))
                : .wholeBody(nil)
        } else {
            mode = .refused(head, ByteBuffer())
        }
    }

    private func received(_ chunk: ByteBuffer, context: ChannelHandlerContext) {
        connection.addBytesReceived(chunk.readableBytes)
        switch mode {
        case .events(var parser):
            mode = .done  // parser moved out so it stays uniquely referenced
            do throws(SSEParser.EventTooLarge) {
                try parser.feed(chunk, allocator: context.channel.allocator) { event in
                    connection.deliver(event)
                }
            } catch {
                fail(tooBig(), context: context)
                return
            }
            if !connection.isFinished { mode = .events(parser) }
        case .wholeBody(let soFar):
            mode = .done
            var body = soFar ?? chunk
            if soFar != nil { body.writeImmutableBuffer(chunk) }
            guard body.readableBytes <= maxMessageBytes else {
                fail(tooBig(), context: context)
                return
            }
            mode = .wholeBody(body)
        case .refused(let head, var body):
            mode = .done
            let room = TransportError.maxBodyBytes - body.readableBytes
            body.writeImmutableBuffer(chunk.getSlice(at: chunk.readerIndex, length: min(room, chunk.readableBytes)) ?? ByteBuffer())
            mode = .refused(head, body)
            if body.readableBytes >= TransportError.maxBodyBytes { endOfResponse(context: context) }
        case .awaitingHead, .done:
            break
        }
    }

    private func endOfResponse(context: ChannelHandlerContext) {
        let finished = mode
        switch finished {
        case .awaitingHead, .done:
            return  // the end of a 1xx answer, or already finished
        case .events:
            mode = .done
            connection.finish(nil)  // an event without its closing blank line is dropped (spec)
        case .wholeBody(let body):
            mode = .done
            if let body, body.readableBytes > 0 { connection.deliver(body) }
            connection.finish(nil)
        case .refused(let head, let body):
            mode = .done
            connection.finish(TransportErrorMapping.httpFailure(
                status: head.status, headers: head.headers, body: body,
                endpoint: endpoint, isUpgrade: false, redactor: redactor))
        }
        context.close(promise: nil)  // one request per connection
    }

    private func tooBig() -> TransportError {
        TransportError(.messageTooBig,
            "\(endpoint.hostAndPort) sent an event or body larger than maxMessageBytes "
            + "(\(TransportErrorMapping.describeBytes(maxMessageBytes)))")
    }

    // MARK: - Failure

    private func fail(_ error: TransportError, context: ChannelHandlerContext) {
        mode = .done
        if attempt.isComplete {
            connection.finish(error)
        } else {
            attempt.fail(error)
        }
        context.close(promise: nil)
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        let mapped = TransportErrorMapping.connectionFailure(error, endpoint: endpoint, tls: attempt.tls)
        if attempt.isComplete {
            fail(mapped, context: context)
        } else {
            attempt.record(mapped)
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .refused = mode {
            endOfResponse(context: context)  // a body delimited by the connection's end
        }
        if !attempt.isComplete {
            attempt.failWithRecordedError(fallback: TransportError(.closed,
                "\(endpoint.hostAndPort) closed the connection before the request was sent"))
        } else if case .done = mode {
            // finished
        } else {
            connection.finish(TransportError(.closed,
                "\(endpoint.hostAndPort) closed the connection before the response was complete"))
        }
        mode = .done
        context.fireChannelInactive()
    }
}

@available(*, unavailable)
extension HTTPResponseStreamHandler: Sendable {}
