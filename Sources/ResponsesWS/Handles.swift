#if canImport(Glibc)
import Glibc
#endif
import CResponsesWS
import ResponsesWSCore

// The opaque C handles are retained Swift objects (Unmanaged): rws_*_new passes one retain to
// the caller, rws_*_free takes it back.

final class ClientHandle {
    let client: ResponsesClient
    init(_ client: ResponsesClient) { self.client = client }
}

final class SessionHandle {
    let session: Session
    init(_ session: Session) { self.session = session }
}

@inline(__always) func retained(_ object: AnyObject) -> OpaquePointer {
    OpaquePointer(Unmanaged.passRetained(object).toOpaque())
}

@inline(__always) func borrow<T: AnyObject>(_ pointer: OpaquePointer?, as _: T.Type) -> T? {
    guard let pointer else { return nil }
    return Unmanaged<T>.fromOpaque(UnsafeRawPointer(pointer)).takeUnretainedValue()
}

@inline(__always) func release<T: AnyObject>(_ pointer: OpaquePointer, as _: T.Type) -> T {
    Unmanaged<T>.fromOpaque(UnsafeRawPointer(pointer)).takeRetainedValue()
}

// MARK: status and last error

/// Records `message` as this thread's last error and returns `status` for the caller.
@inline(never)
func fail(_ status: Status, _ message: String) -> Int32 {
    var message = message
    message.withUTF8 { rwsi_set_last_error(UnsafeRawPointer($0.baseAddress)?.assumingMemoryBound(to: CChar.self), $0.count) }
    return status.rawValue
}

func fail(_ error: any Error) -> Int32 {
    if let error = error as? RWSError { return fail(error.status, error.message) }
    return fail(.internal, "unexpected error: \(error)")
}

// MARK: strings

/// A C string argument as a Swift String; nil for NULL.
@inline(__always) func string(_ p: UnsafePointer<CChar>?) -> String? {
    p.map { String(cString: $0) }
}

/// A (pointer, length) argument where length 0 means NUL-terminated.
func bytes(_ p: UnsafePointer<CChar>, _ length: Int) -> UnsafeRawBufferPointer {
    UnsafeRawBufferPointer(start: p, count: length == 0 ? strlen(p) : length)
}

@inline(__always) func cstr(_ buffer: UnsafeRawBufferPointer) -> rws_str {
    rws_str(ptr: buffer.baseAddress?.assumingMemoryBound(to: CChar.self), len: buffer.count)
}

/// Copies at most `size` bytes of `value` into a caller-allocated struct: callers built against
/// an older header, with a smaller struct, get only the fields they know.
func copyOut<T>(_ value: T, to destination: UnsafeMutableRawPointer, size: Int) {
    withUnsafeBytes(of: value) { src in
        destination.copyMemory(from: src.baseAddress!, byteCount: min(src.count, size))
    }
}
