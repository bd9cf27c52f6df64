import CZlib
import NIOCore

// Why the system zlib (through the CZlib module) and not compress-nio: permessage-deflate needs
// raw deflate with a chosen window, Z_SYNC_FLUSH at each message end, resets between messages
// and, on the receiving side, output bounded by the message limit while inflating. Those are
// four zlib calls; a wrapper would add a package (and its own buffer policy) without removing
// any of them. zlib is already on every Debian system (libz is a dependency of libssl3).

/// The 4 bytes a sync flush ends with (an empty stored block), which RFC 7692 §7.2.1 removes
/// from each compressed message and the receiver appends again (RFC 7692 §7.2.2).
let syncFlushTail: [UInt8] = [0x00, 0x00, 0xFF, 0xFF]

/// Compresses the messages one side sends (RFC 7692 §7.2.1). Not thread-safe: one per
/// connection, used on its event loop.
public final class MessageDeflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let resetsEachMessage: Bool

    /// `windowBits` as negotiated for this side (8 is raised to 9, see DeflateParameters);
    /// `noContextTakeover`: forget the window after each message.
    public init(windowBits: Int, noContextTakeover: Bool, level: Int32 = 6) throws(DeflateNegotiationError) {
        // zlib keeps a pointer back to the z_stream: it must not move, so it lives on the heap.
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        resetsEachMessage = noContextTakeover
        let bits = DeflateParameters.compressorWindowBits(windowBits)
        // Negative windowBits: raw deflate, no zlib header or checksum. memLevel 8 is zlib's default.
        let status = rws_deflate_init2(stream, level, -Int32(bits), 8)
        guard status == Z_OK else {
            stream.deallocate()
            throw DeflateNegotiationError("zlib deflateInit2 failed (\(status))")
        }
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }

    /// One message, compressed, without the sync-flush tail.
    public func compress(_ message: ByteBuffer, allocator: ByteBufferAllocator) -> ByteBuffer {
        var output = allocator.buffer(capacity: message.readableBytes / 2 + 64)
        compressPart(message, into: &output)
        endMessage(&output)
        return output
    }

    /// Appends `part` of a message, compressed and sync-flushed, to `output`; a message built
    /// of several parts ends with `endMessage`. (The simulator's decompression bomb is made so,
    /// without holding the whole inflated message.)
    public func compressPart(_ part: ByteBuffer, into output: inout ByteBuffer) {
        part.withUnsafeReadableBytes { input in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
            stream.pointee.avail_in = UInt32(input.count)
            // Deflate until the input is used up and the flush left room to spare in the output
            // (a full output may mean more is pending).
            while true {
                let room = max(output.writableBytes, 256)
                var filled = false
                output.writeWithUnsafeMutableBytes(minimumWritableBytes: room) { out in
                    stream.pointee.next_out = out.bindMemory(to: Bytef.self).baseAddress
                    stream.pointee.avail_out = UInt32(out.count)
                    _ = deflate(stream, Z_SYNC_FLUSH)   // only Z_OK or Z_BUF_ERROR (no progress) here
                    filled = stream.pointee.avail_out == 0
                    return out.count - Int(stream.pointee.avail_out)
                }
                if !filled && stream.pointee.avail_in == 0 { break }
            }
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
        }
    }

    /// Removes the sync-flush tail of a compressed message and, without context takeover,
    /// forgets the window.
    public func endMessage(_ output: inout ByteBuffer) {
        if output.readableBytes == 0 {
            // An empty message right after another one: zlib skips a second flush in a row and
            // writes nothing, but the receiver appends 00 00 FF FF and needs the stored block's
            // first byte before it (RFC 7692 §7.2.3.6: an empty message is the single byte 00).
            output.writeInteger(UInt8(0))
        } else if output.readableBytes >= 4,
           // A sync flush always ends with the empty stored block.
           output.getBytes(at: output.writerIndex - 4, length: 4) == syncFlushTail {
            output.moveWriterIndex(to: output.writerIndex - 4)
        }
        if resetsEachMessage { deflateReset(stream) }
    }
}

/// Why a compressed message could not be inflated.
public enum InflateError: Error, Sendable, Equatable {
    /// The inflated message would exceed the limit it was given.
    case tooBig
    /// Not a valid deflate stream; the text says what zlib reported.
    case corrupt(String)
}

/// Inflates the compressed messages one side receives (RFC 7692 §7.2.2), frame by frame, never
/// holding more than the message limit (plus one chunk) of output: a small frame that inflates
/// to gigabytes fails with `.tooBig` after `limit` bytes. Not thread-safe: one per connection.
public final class MessageInflater {
    private let stream: UnsafeMutablePointer<z_stream>
    private let resetsEachMessage: Bool
    /// Reused for a last frame plus the tail.
    private var scratch: [UInt8] = []

    /// Always a 32 KiB window: the peer's negotiated window is at most that, and a larger
    /// window inflates any stream a smaller one made.
    public init(noContextTakeover: Bool) throws(DeflateNegotiationError) {
        stream = .allocate(capacity: 1)
        stream.initialize(to: z_stream())
        resetsEachMessage = noContextTakeover
        let status = rws_inflate_init2(stream, -15)
        guard status == Z_OK else {
            stream.deallocate()
            throw DeflateNegotiationError("zlib inflateInit2 failed (\(status))")
        }
    }

    deinit {
        inflateEnd(stream)
        stream.deallocate()
    }

    /// Appends what `payload` (one frame's compressed bytes) inflates to onto `output`, failing
    /// once `output` would hold more than `limit` bytes.
    public func inflate(_ payload: ByteBuffer, into output: inout ByteBuffer, limit: Int) throws(InflateError) {
        // withUnsafeReadableBytes rethrows untyped errors: carry the typed one out by hand.
        let failure: InflateError? = payload.withUnsafeReadableBytes { input in
            do throws(InflateError) { try run(input, into: &output, limit: limit) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// The last (or only) frame of a message: its payload and the sync-flush tail in one zlib
    /// call (half the calls for the usual one-frame event), then `finishMessage`'s reset.
    public func inflateLast(_ payload: ByteBuffer, into output: inout ByteBuffer, limit: Int) throws(InflateError) {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: payload.readableBytesView)
        scratch.append(contentsOf: syncFlushTail)
        defer { if scratch.capacity > 1 << 20 { scratch = [] } }   // do not keep a large one
        let failure: InflateError? = scratch.withUnsafeBytes { input in
            do throws(InflateError) { try run(input, into: &output, limit: limit) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        if resetsEachMessage { inflateReset(stream) }
    }

    /// Ends the message: inflates the sync-flush tail the sender removed, then resets the
    /// window if context takeover is off for the sender.
    public func finishMessage(into output: inout ByteBuffer, limit: Int) throws(InflateError) {
        let failure: InflateError? = syncFlushTail.withUnsafeBytes { input in
            do throws(InflateError) { try run(input, into: &output, limit: limit) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        if resetsEachMessage { inflateReset(stream) }
    }

    /// Drops a message half-way (the connection is failing anyway); the window is unusable.
    public func reset() { inflateReset(stream) }

    private func run(_ input: UnsafeRawBufferPointer, into output: inout ByteBuffer, limit: Int) throws(InflateError) {
        guard input.count > 0 else { return }
        stream.pointee.next_in = UnsafeMutablePointer(mutating: input.bindMemory(to: Bytef.self).baseAddress)
        stream.pointee.avail_in = UInt32(input.count)
        defer {
            stream.pointee.next_in = nil
            stream.pointee.next_out = nil
        }
        // Responses events are small: start near their inflated size (a buffer per message is
        // allocated at this size) and double while the output keeps filling, up to 1 MiB a step.
        var step = max(input.count * 4, 512)
        while true {
            // Room for one more byte than the limit allows: producing it proves the message too big.
            let allowed = limit + 1 - output.readableBytes
            guard allowed > 0 else { throw .tooBig }
            let chunk = min(allowed, step)
            step = min(step * 2, 1 << 20)
            var status: Int32 = Z_OK
            var filled = false
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: chunk) { out in
                let usable = min(out.count, chunk)
                stream.pointee.next_out = out.bindMemory(to: Bytef.self).baseAddress
                stream.pointee.avail_out = UInt32(usable)
                status = CZlib.inflate(stream, Z_SYNC_FLUSH)
                filled = stream.pointee.avail_out == 0
                return usable - Int(stream.pointee.avail_out)
            }
            if output.readableBytes > limit { throw .tooBig }
            switch status {
            case Z_OK, Z_BUF_ERROR:
                if !filled && stream.pointee.avail_in == 0 { return }
                if status == Z_BUF_ERROR && !filled {
                    throw .corrupt("zlib made no progress")
                }
            case Z_STREAM_END:
                // A final block (BFINAL) ends the deflate stream; what follows starts a new one.
                inflateReset(stream)
                if stream.pointee.avail_in == 0 { return }
            default:
                let why = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
                throw .corrupt(why)
            }
        }
    }
}
