import NIOCore

/// Fired inbound (`userInboundEventTriggered`) once the TLS handshake succeeded.
public struct TLSHandshakeCompleted: Sendable, Hashable {
    /// "TLSv1.3", "TLSv1.2".
    public let protocolVersion: String
    public let cipher: String
}

/// TLS over OpenSSL memory BIOs, client or server, as a NIO duplex handler.
///
/// - Writes made before the handshake completes are queued with their promises and sent after it.
/// - A write's promise completes when *its* ciphertext was written to the socket, so NIO's
///   writability and promise-based back-pressure keep working through this handler.
/// - Small flushed writes (e.g. a WebSocket frame header and its payload) share one TLS record;
///   large writes are encrypted in 256 KiB slices so OpenSSL's buffer stays small.
/// - close_notify from the peer closes the channel after delivering every byte before it;
///   closing the channel sends our close_notify first (unless TLS already failed).
/// - After a fatal TLS error nothing more is read or written and queued promises fail.
///
/// Loop-confined, like every channel handler.
final class TLSHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private enum State {
        case idle
        case handshaking
        case active
        /// We sent close_notify after close(mode: .output); reads continue.
        case outputClosed
        case closed
        case failed(TLSError)
    }

    private struct PendingWrite {
        var data: ByteBuffer
        let promise: EventLoopPromise<Void>?
    }

    /// Up to this many bytes of consecutive small writes are coalesced into one record.
    private static let recordBatchLimit = 16 * 1024
    /// Large writes are encrypted in slices of this size.
    private static let largeWriteSlice = 256 * 1024
    private static let minimumPlaintextBuffer = 16 * 1024
    private static let maximumPlaintextBuffer = 1024 * 1024

    private let session: OpenSSLSession
    private var state: State = .idle
    private var pendingWrites = CircularBuffer<PendingWrite>(initialCapacity: 8)
    /// How many of `pendingWrites` (from the front) have been flushed by the pipeline.
    private var flushedCount = 0
    /// OpenSSL asked for network input before it can take more plaintext; retried after the next read.
    private var writesWaitForRead = false
    /// When a stalled batch is retried it must present the same bytes, so its size is remembered.
    private var stalledBatchCount: Int?

    init(session: OpenSSLSession) {
        self.session = session
    }

    // MARK: - Lifecycle

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            startHandshake(context: context)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        failPendingWrites(ChannelError.ioOnClosedChannel)
    }

    func channelActive(context: ChannelHandlerContext) {
        startHandshake(context: context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        if case .handshaking = state {
            let error = TLSError(.handshake, "TLS handshake failed: the peer closed the connection during the handshake")
            state = .failed(error)
            failPendingWrites(error)
            context.fireErrorCaught(error)
        } else if case .failed = state {
            // keep the failure
        } else {
            state = .closed
        }
        failPendingWrites(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    private func startHandshake(context: ChannelHandlerContext) {
        guard case .idle = state else { return }
        state = .handshaking
        advanceHandshake(context: context)
    }

    // MARK: - Inbound

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch state {
        case .handshaking, .active, .outputClosed:
            break
        case .idle, .closed, .failed:
            return  // nothing is read after a failure or close
        }
        let buffer = unwrapInboundIn(data)
        session.feed(buffer)
        if case .handshaking = state {
            advanceHandshake(context: context)
        }
        if isReadable {
            readPlaintext(context: context, sizeHint: buffer.readableBytes)
        }
    }

    private var isReadable: Bool {
        switch state {
        case .active, .outputClosed: return true
        default: return false
        }
    }

    private func advanceHandshake(context: ChannelHandlerContext) {
        switch session.handshake() {
        case .complete:
            state = .active
            sendCiphertext(context: context, promise: nil)
            context.flush()
            context.fireUserInboundEventTriggered(
                TLSHandshakeCompleted(protocolVersion: session.protocolVersion, cipher: session.cipherName))
            if flushedCount > 0 {
                encryptFlushedWrites(context: context)
            }
        case .wantMore:
            if session.hasCiphertext {
                sendCiphertext(context: context, promise: nil)
                context.flush()
            }
        case .failed(let error):
            // Send OpenSSL's alert so the peer learns why, then give up.
            sendCiphertext(context: context, promise: nil)
            context.flush()
            fail(context: context, error)
        }
    }

    private func readPlaintext(context: ChannelHandlerContext, sizeHint: Int) {
        let capacity = min(max(sizeHint, Self.minimumPlaintextBuffer), Self.maximumPlaintextBuffer)
        var plaintext = context.channel.allocator.buffer(capacity: capacity)
        reading: while isReadable {
            if plaintext.writableBytes == 0 {
                context.fireChannelRead(wrapInboundOut(plaintext))
                plaintext = context.channel.allocator.buffer(capacity: capacity)
                continue  // the handler downstream may have closed us
            }
            switch session.read(into: &plaintext) {
            case .bytes:
                continue
            case .wantMore:
                break reading
            case .closeNotify:
                deliver(plaintext, context: context)
                peerSentCloseNotify(context: context)
                return
            case .failed(let error):
                deliver(plaintext, context: context)  // records before the failure were authenticated
                fail(context: context, error)
                return
            }
        }
        deliver(plaintext, context: context)
        guard isReadable else { return }
        // Post-handshake messages (TLS 1.3 KeyUpdate answers) may have produced output.
        if session.hasCiphertext {
            sendCiphertext(context: context, promise: nil)
            context.flush()
        }
        if writesWaitForRead {
            writesWaitForRead = false
            encryptFlushedWrites(context: context)
        }
    }

    private func deliver(_ plaintext: ByteBuffer, context: ChannelHandlerContext) {
        if plaintext.readableBytes > 0 {
            context.fireChannelRead(wrapInboundOut(plaintext))
        }
    }

    /// The peer will send nothing more. Answer with our close_notify and close the connection.
    private func peerSentCloseNotify(context: ChannelHandlerContext) {
        if case .active = state {
            session.shutdown()
            sendCiphertext(context: context, promise: nil)
            context.flush()
        }
        state = .closed
        failPendingWrites(ChannelError.outputClosed)
        context.close(promise: nil)
    }

    // MARK: - Outbound

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch state {
        case .idle, .handshaking, .active:
            pendingWrites.append(PendingWrite(data: unwrapOutboundIn(data), promise: promise))
        case .outputClosed, .closed:
            promise?.fail(ChannelError.ioOnClosedChannel)
        case .failed(let error):
            promise?.fail(error)
        }
    }

    func flush(context: ChannelHandlerContext) {
        flushedCount = pendingWrites.count
        if case .active = state {
            encryptFlushedWrites(context: context)
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        switch mode {
        case .all:
            if case .active = state {
                session.shutdown()
                sendCiphertext(context: context, promise: nil)
                context.flush()
            }
            if case .failed = state {} else { state = .closed }
            failPendingWrites(ChannelError.ioOnClosedChannel)
            context.close(mode: .all, promise: promise)
        case .output:
            if case .active = state {
                encryptFlushedWrites(context: context)
                session.shutdown()
                sendCiphertext(context: context, promise: nil)
                context.flush()
                state = .outputClosed
            }
            failPendingWrites(ChannelError.outputClosed)
            context.close(mode: .output, promise: promise)
        case .input:
            context.close(mode: .input, promise: promise)
        }
    }

    /// Encrypts flushed writes in order until done, stalled, or failed; flushes what it produced.
    private func encryptFlushedWrites(context: ChannelHandlerContext) {
        guard !writesWaitForRead else { return }
        var producedOutput = false
        defer { if producedOutput { context.flush() } }
        while flushedCount > 0, case .active = state {
            let batch = stalledBatchCount ?? nextBatchCount()
            let progressed = batch == 1
                ? encryptSingleWrite(context: context)
                : encryptBatch(count: batch, context: context)
            producedOutput = true
            guard progressed else { return }
        }
    }

    /// How many leading flushed writes fit together in one record (at least one).
    private func nextBatchCount() -> Int {
        var total = 0
        var count = 0
        for write in pendingWrites.prefix(flushedCount) {
            total += write.data.readableBytes
            if count > 0 && total > Self.recordBatchLimit { break }
            count += 1
            if total > Self.recordBatchLimit { break }
        }
        return max(count, 1)
    }

    /// Encrypts the first pending write in slices. Returns false if it stalled or failed.
    private func encryptSingleWrite(context: ChannelHandlerContext) -> Bool {
        var write = pendingWrites.removeFirst()
        flushedCount -= 1
        while write.data.readableBytes > 0 {
            let slice = min(write.data.readableBytes, Self.largeWriteSlice)
            let result = write.data.withUnsafeReadableBytes { raw in
                session.write(UnsafeRawBufferPointer(rebasing: raw.prefix(slice)))
            }
            switch result {
            case .complete:
                write.data.moveReaderIndex(forwardBy: slice)
                if write.data.readableBytes > 0 {
                    sendCiphertext(context: context, promise: nil)
                }
            case .wantMore:
                sendCiphertext(context: context, promise: nil)
                pendingWrites.prepend(write)
                flushedCount += 1
                stalledBatchCount = 1
                writesWaitForRead = true
                return false
            case .failed(let error):
                write.promise?.fail(error)
                fail(context: context, error)
                return false
            }
        }
        stalledBatchCount = nil
        sendCiphertext(context: context, promise: write.promise)
        return true
    }

    /// Copies `count` small writes into one buffer and encrypts it as one record.
    private func encryptBatch(count: Int, context: ChannelHandlerContext) -> Bool {
        let writes = pendingWrites.prefix(count)
        let total = writes.reduce(0) { $0 + $1.data.readableBytes }
        var batch = context.channel.allocator.buffer(capacity: total)
        for write in writes {
            batch.writeImmutableBuffer(write.data)
        }
        let result = batch.withUnsafeReadableBytes { session.write($0) }
        switch result {
        case .complete:
            var promises: [EventLoopPromise<Void>] = []
            for _ in 0..<count {
                if let promise = pendingWrites.removeFirst().promise { promises.append(promise) }
            }
            flushedCount -= count
            stalledBatchCount = nil
            sendCiphertext(context: context, promise: combine(promises, on: context.eventLoop))
            return true
        case .wantMore:
            stalledBatchCount = count
            writesWaitForRead = true
            return false
        case .failed(let error):
            fail(context: context, error)
            return false
        }
    }

    /// Writes whatever ciphertext OpenSSL produced. A promise always gets a write (possibly empty)
    /// so promises complete in write order.
    private func sendCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        if let ciphertext = session.takeCiphertext(allocator: context.channel.allocator) {
            context.write(wrapOutboundOut(ciphertext), promise: promise)
        } else if let promise {
            context.write(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: promise)
        }
    }

    private func combine(_ promises: [EventLoopPromise<Void>], on eventLoop: EventLoop) -> EventLoopPromise<Void>? {
        switch promises.count {
        case 0: return nil
        case 1: return promises[0]
        default:
            let combined = eventLoop.makePromise(of: Void.self)
            combined.futureResult.whenComplete { result in
                for promise in promises { promise.completeWith(result) }
            }
            return combined
        }
    }

    // MARK: - Failure

    private func fail(context: ChannelHandlerContext, _ error: TLSError) {
        switch state {
        case .closed, .failed: return
        default: break
        }
        state = .failed(error)
        failPendingWrites(error)
        context.fireErrorCaught(error)
        context.close(promise: nil)
    }

    private func failPendingWrites(_ error: Error) {
        guard !pendingWrites.isEmpty else { return }
        let writes = pendingWrites
        pendingWrites.removeAll()
        flushedCount = 0
        stalledBatchCount = nil
        writesWaitForRead = false
        for write in writes {
            write.promise?.fail(error)
        }
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
