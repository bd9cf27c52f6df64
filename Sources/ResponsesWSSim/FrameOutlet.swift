import NIOCore
import NIOWebSocket

/// The fast path for server frames. NIO's WebSocketFrameEncoder (added by the upgrader, and not
/// removable) handles one `WebSocketFrame` per write: a boxed frame, a pipeline pass and a buffer
/// per event. The simulator instead frames events itself, many per buffer, and writes the buffer
/// from this handler, which sits between the encoder and the socket: its writes skip the encoder.
/// Server frames are never masked (RFC 6455 §5.1), so framing is a 2–10 byte header.
///
/// Every server frame of a session goes through here (text, pong, close), so their order on the
/// wire is the order of the calls. Event-loop confined, like any handler.
final class FrameOutlet: ChannelOutboundHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private var context: ChannelHandlerContext?

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    /// Writes bytes that already hold complete frames.
    func write(_ frames: ByteBuffer) {
        context?.write(wrapOutboundOut(frames), promise: nil)
    }

    func flush() { context?.flush() }

    /// Writes and flushes, then calls `completion` once the bytes are on their way (or failed).
    func writeAndFlush(_ frames: ByteBuffer, completion: @escaping () -> Void) {
        guard let context else { completion(); return }
        context.writeAndFlush(wrapOutboundOut(frames)).assumeIsolated().whenComplete { _ in completion() }
    }
}

extension ByteBuffer {
    /// Appends an unmasked, final frame header for a payload of `length` bytes (RFC 6455 §5.2,
    /// minimal length encoding); `compressed` sets RSV1 (permessage-deflate, RFC 7692 §6).
    @inlinable
    mutating func writeServerFrameHeader(opcode: WebSocketOpcode, length: Int, compressed: Bool = false) {
        writeInteger(0x80 | (compressed ? 0x40 : 0) | UInt8(webSocketOpcode: opcode))
        switch length {
        case 0...125:
            writeInteger(UInt8(length))
        case 126...0xFFFF:
            writeInteger(UInt8(126))
            writeInteger(UInt16(length))
        default:
            writeInteger(UInt8(127))
            writeInteger(UInt64(length))
        }
    }

    /// Appends one complete unmasked frame.
    mutating func writeServerFrame(opcode: WebSocketOpcode, payload: ByteBuffer, compressed: Bool = false) {
        writeServerFrameHeader(opcode: opcode, length: payload.readableBytes, compressed: compressed)
        writeImmutableBuffer(payload)
    }
}
