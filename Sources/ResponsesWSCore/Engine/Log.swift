import NIOCore

/// What the library tells a log hook (rws_client_options.log_callback): connects, TLS setup,
/// retries and their delays, fallbacks, rotations, recoveries. Off unless a hook is set; a
/// record below the hook's level costs one comparison (the message is never built).
public enum LogLevel: Int32, Sendable, Comparable {
    case error = 1, warning = 2, info = 3, debug = 4
    public static func < (a: LogLevel, b: LogLevel) -> Bool { a.rawValue < b.rawValue }

    public var name: String {
        switch self {
        case .error: return "error"
        case .warning: return "warning"
        case .info: return "info"
        case .debug: return "debug"
        }
    }
}

/// One record: a sentence for people and the same facts as key/value fields for machines.
public struct LogRecord: Sendable {
    public var level: LogLevel
    public var message: String
    public var fields: [(key: String, value: String)]
}

/// The receiving end of log records, called on the thread that made the record (the client's
/// I/O thread, or the caller's for client creation), like event callbacks.
public struct LogHook: Sendable {
    /// The most detailed level delivered.
    public var level: LogLevel
    public var deliver: @Sendable (LogRecord) -> Void

    public init(level: LogLevel, deliver: @escaping @Sendable (LogRecord) -> Void) {
        self.level = level
        self.deliver = deliver
    }
}

/// A client's logger: the hook, and the redactor every record passes through, so that no key
/// or credential-like header value reaches a log even when a server echoed it.
struct Logger: Sendable {
    let hook: LogHook?
    let redactor: CredentialRedactor

    func callAsFunction(_ level: LogLevel, _ message: @autoclosure () -> String,
                        _ fields: @autoclosure () -> KeyValuePairs<String, String> = [:]) {
        guard let hook, level <= hook.level else { return }
        let redacted = fields().map { (key: $0.key, value: redactor.redact($0.value)) }
        hook.deliver(LogRecord(level: level, message: redactor.redact(message()), fields: redacted))
    }
}

extension TimeAmount {
    /// Milliseconds as text, for log fields.
    var millisecondsText: String { String(nanoseconds / 1_000_000) }
}
