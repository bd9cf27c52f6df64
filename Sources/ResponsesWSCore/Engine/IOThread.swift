#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// A client's I/O thread: a pthread of the library's own that NIO turns into an event loop.
///
/// Why not `MultiThreadedEventLoopGroup(numberOfThreads: 1)`: its shutdown waits for a
/// callback on a Dispatch queue, and libdispatch's worker threads do not survive `fork()`. In
/// a child forked while the parent had one (for a few seconds after any client was freed),
/// `rws_client_free` would wait forever. Here the loop is stopped and the thread joined
/// directly; NIO's own completion callback (which releases the loop's selector) still goes to
/// Dispatch, but nothing waits for it.
final class IOThread: @unchecked Sendable {   // `loop` is set once, before init returns
    private(set) var loop: EventLoop!
    private var thread = pthread_t()
    private var joined = false

    init() throws(RWSError) {
        let started = ConditionLock()
        var handedOver: EventLoop?
        let box = Unmanaged.passRetained(Start { loop in
            started.withLock { handedOver = loop }
            started.broadcast()
        }).toOpaque()
        let rc = pthread_create(&thread, nil, { raw in
            let start = Unmanaged<Start>.fromOpaque(raw!).takeRetainedValue()
            MultiThreadedEventLoopGroup.withCurrentThreadAsEventLoop { loop in start.body(loop) }
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Start>.fromOpaque(box).release()
            throw RWSError(.internal, "cannot start the client's I/O thread: \(String(cString: strerror(rc)))")
        }
        _ = started.wait(timeoutMs: -1) { handedOver != nil }
        loop = handedOver
    }

    /// Stops the loop (tasks already queued run first) and joins the thread. Not on the loop.
    func stop() {
        guard !joined else { return }
        joined = true
        loop.shutdownGracefully(queue: .global()) { _ in }
        pthread_join(thread, nil)
    }

    private final class Start {
        let body: (EventLoop) -> Void
        init(_ body: @escaping (EventLoop) -> Void) { self.body = body }
    }
}
