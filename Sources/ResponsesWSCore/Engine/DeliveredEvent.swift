import NIOCore
import ResponsesJSON

/// One event as handed to a caller: the raw frame plus its header, with the string fields a
/// caller reads directly (delta, error message) already unescaped. Valid only inside the call
/// that receives it.
public struct DeliveredEvent {
    public let frame: UnsafeRawBufferPointer
    public let header: EventHeader
    /// The id of the response this event belongs to, once `response.created` named it.
    public let responseID: UnsafeRawBufferPointer
    public let delta: UnsafeRawBufferPointer
    public let errorMessage: UnsafeRawBufferPointer

    public init(frame: UnsafeRawBufferPointer, header: EventHeader, responseID: UnsafeRawBufferPointer,
                delta: UnsafeRawBufferPointer, errorMessage: UnsafeRawBufferPointer) {
        self.frame = frame
        self.header = header
        self.responseID = responseID
        self.delta = delta
        self.errorMessage = errorMessage
    }

    /// Builds the event for `frame` and calls `body` with it. Unescaped copies of the delta and
    /// error message (only when they contain escapes) go to `scratch`, which is reused across
    /// events so that steady-state delivery allocates nothing.
    @inline(__always)
    public static func with<R>(
        frame: UnsafeRawBufferPointer, header: EventHeader, responseID: UnsafeRawBufferPointer,
        scratch: inout [UInt8], _ body: (DeliveredEvent) throws -> R
    ) rethrows -> R {
        if !header.deltaEscaped && !header.errorMessageEscaped {
            return try body(DeliveredEvent(
                frame: frame, header: header, responseID: responseID,
                delta: slice(frame, header.delta), errorMessage: slice(frame, header.errorMessage)))
        }
        scratch.removeAll(keepingCapacity: true)
        let scanner = JSONScanner(frame)
        var deltaRange = 0..<0, messageRange = 0..<0
        if header.deltaEscaped {
            scanner.decodeString(header.delta, into: &scratch)
            deltaRange = 0..<scratch.count
        }
        if header.errorMessageEscaped {
            let start = scratch.count
            scanner.decodeString(header.errorMessage, into: &scratch)
            messageRange = start..<scratch.count
        }
        return try scratch.withUnsafeBytes { decoded in
            try body(DeliveredEvent(
                frame: frame, header: header, responseID: responseID,
                delta: header.deltaEscaped ? UnsafeRawBufferPointer(rebasing: decoded[deltaRange]) : slice(frame, header.delta),
                errorMessage: header.errorMessageEscaped
                    ? UnsafeRawBufferPointer(rebasing: decoded[messageRange]) : slice(frame, header.errorMessage)))
        }
    }

    @inline(__always)
    public static func slice(_ frame: UnsafeRawBufferPointer, _ span: JSONSpan) -> UnsafeRawBufferPointer {
        span.count == 0 ? UnsafeRawBufferPointer(start: nil, count: 0) : UnsafeRawBufferPointer(rebasing: frame[span.start..<span.end])
    }
}

/// An event waiting in a pull-mode turn's queue. Holds the frame's buffer (a reference, not a
/// copy) until the caller pulls it.
public struct PendingEvent: Sendable {
    public let frame: ByteBuffer
    public let header: EventHeader
    public let responseID: [UInt8]
}
