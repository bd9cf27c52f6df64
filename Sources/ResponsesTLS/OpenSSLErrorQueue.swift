import COpenSSL

/// OpenSSL reports failures through a thread-local error queue. Every event-loop thread serves
/// many connections, so the queue is cleared before each call and drained right after a failure.
enum OpenSSLErrorQueue {
    static func clear() {
        ERR_clear_error()
    }

    /// Drains the queue into OpenSSL's short reason strings ("wrong version number", …).
    static func drainReasons() -> [String] {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            if let reason = ERR_reason_error_string(code) {
                let text = String(cString: reason)
                if !reasons.contains(text) { reasons.append(text) }
            } else {
                reasons.append("OpenSSL error \(code)")
            }
        }
        return reasons
    }

    /// "prefix: reason; reason", or "prefix: fallback" when the queue held nothing.
    static func message(_ prefix: String, fallback: String) -> String {
        let reasons = drainReasons()
        return prefix + ": " + (reasons.isEmpty ? fallback : reasons.joined(separator: "; "))
    }
}
