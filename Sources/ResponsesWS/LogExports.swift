import CResponsesWS
import ResponsesWSCore

/// Hands the core's log records to a C rws_log_fn: the message and each field as
/// NUL-terminated strings that live for the duration of the call.
enum CLogHook {
    /// The caller's user_data, passed back untouched; the caller owns what it points to.
    private struct UserData: @unchecked Sendable { let pointer: UnsafeMutableRawPointer? }

    static func make(level: LogLevel, callback: rws_log_fn, userData: UnsafeMutableRawPointer?) -> LogHook {
        let user = UserData(pointer: userData)
        return LogHook(level: level) { record in
            deliver(record, to: callback, userData: user.pointer)
        }
    }

    private static func deliver(_ record: LogRecord, to callback: rws_log_fn, userData: UnsafeMutableRawPointer?) {
        // One buffer: message, then key/value pairs, each NUL-terminated.
        var bytes: [UInt8] = []
        var offsets: [Int] = []
        func add(_ text: String) {
            offsets.append(bytes.count)
            bytes.append(contentsOf: text.utf8.map { $0 == 0 ? 0x20 : $0 })   // an embedded NUL would cut the string
            bytes.append(0)
        }
        add(record.message)
        for field in record.fields {
            add(field.key)
            add(field.value)
        }
        bytes.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            var fields: [rws_log_field] = []
            fields.reserveCapacity(record.fields.count)
            for i in 0..<record.fields.count {
                fields.append(rws_log_field(key: base + offsets[1 + 2 * i], value: base + offsets[2 + 2 * i]))
            }
            fields.withUnsafeBufferPointer { array in
                callback(userData, record.level.rawValue, base, array.baseAddress, array.count)
            }
        }
    }
}
