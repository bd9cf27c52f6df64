import NIOCore
import NIOWebSocket
import ResponsesDeflate

/// Sits between NIO's frame decoder and the frame aggregator: counts the data frames' bytes as
/// they came off the wire and, when permessage-deflate was agreed, inflates compressed messages
/// (RSV1 on the first frame, RFC 7692 §6) frame by frame. It has to run before the aggregator,
/// which drops RSV1 when it joins fragments. Inflated messages are bounded by the simulator's
/// message limit; past it the session hears the same error as for an oversized frame.
final class InboundDeflate: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias InboundOut = WebSocketFrame

    /// What went wrong with a compressed message (the session answers with a close).
    enum Failure: Error {
        case corrupt(String)
        case unexpectedRSV1
    }

    private let counters: ConnectionCounters
    private let inflater: MessageInflater?
    private let maxMessageBytes: Int
    /// How many bytes the compressed message in progress inflated to so far.
    private var inflatedSoFar: Int?
    private var failed = false

    init(counters: ConnectionCounters, inflater: MessageInflater?, maxMessageBytes: Int) {
        self.counters = counters
        self.inflater = inflater
        self.maxMessageBytes = maxMessageBytes
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        var frame = unwrapInboundIn(data)
        let isData = frame.opcode == .text || frame.opcode == .binary || frame.opcode == .continuation
        if isData { counters.add(.wireBytesReceived, frame.length) }
        guard let inflater else {
            context.fireChannelRead(data)
            return
        }
        if frame.rsv1 && (!isData || frame.opcode == .continuation) {
            fail(context, Failure.unexpectedRSV1)
            return
        }
        let startsCompressed = frame.rsv1 && frame.opcode != .continuation
        guard startsCompressed || (frame.opcode == .continuation && inflatedSoFar != nil) else {
            context.fireChannelRead(data)
            return
        }
        let soFar = inflatedSoFar ?? 0
        inflatedSoFar = nil
        var output = context.channel.allocator.buffer(capacity: 0)
        do throws(InflateError) {
            try inflater.inflate(frame.unmaskedData, into: &output, limit: maxMessageBytes - soFar)
            if frame.fin {
                try inflater.finishMessage(into: &output, limit: maxMessageBytes - soFar)
                counters.add(.compressedMessagesReceived)
            }
        } catch {
            switch error {
            case .tooBig: fail(context, NIOWebSocketError.invalidFrameLength)
            case .corrupt(let why): fail(context, Failure.corrupt(why))
            }
            return
        }
        if !frame.fin { inflatedSoFar = soFar + output.readableBytes }
        // The aggregator joins what each frame inflated to.
        frame.rsv1 = false
        frame.maskKey = nil
        frame.data = output
        context.fireChannelRead(wrapInboundOut(frame))
    }

    private func fail(_ context: ChannelHandlerContext, _ error: Error) {
        failed = true
        inflatedSoFar = nil
        context.fireErrorCaught(error)
    }
}
