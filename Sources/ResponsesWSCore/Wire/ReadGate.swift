import NIOCore

/// Holds the channel's reads while a pull-mode caller is behind (max_queued_bytes): NIO reads a
/// socket only when a `read` travels down the pipeline, so withholding it stops reading without
/// dropping anything, the kernel's receive buffer fills and TCP slows the server down. Added
/// last, so it sees every `read` first. Loop-confined.
final class ReadGate: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny

    private var context: ChannelHandlerContext?
    private(set) var isPaused = false
    /// A read asked for while paused, issued on resume.
    private var heldRead = false

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }
    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func read(context: ChannelHandlerContext) {
        if isPaused {
            heldRead = true
        } else {
            context.read()
        }
    }

    func pause() { isPaused = true }

    func resume() {
        guard isPaused else { return }
        isPaused = false
        if heldRead, let context {
            heldRead = false
            context.read()
        }
    }
}

@available(*, unavailable)
extension ReadGate: Sendable {}
