import NIOHTTP1

/// The server's `x-request-id` (PROTOCOL.md §1.3): the id a user quotes to support. It is kept
/// per connection (from the 101) and per HTTP answer, and ends up in turn results and messages.
enum RequestID {
    /// The longest id kept; real ones are ~30 characters, and messages must stay readable.
    static let maxLength = 128

    /// The header's value, or nil when absent, empty, too long or not printable ASCII (the id
    /// is copied into messages and logs, so nothing else from the wire goes there).
    static func from(_ headers: HTTPHeaders) -> String? {
        guard let value = headers.first(name: "x-request-id") else { return nil }
        let bytes = value.utf8
        guard !bytes.isEmpty, bytes.count <= maxLength, bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else { return nil }
        return value
    }

    /// `message` with " (request id ID)" appended, unless it names the id already.
    static func appending(_ id: String?, to message: String) -> String {
        guard let id, !message.contains(id) else { return message }
        return message + " (request id \(id))"
    }
}
