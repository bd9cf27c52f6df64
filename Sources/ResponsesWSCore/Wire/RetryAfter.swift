#if canImport(Glibc)
import Glibc
#endif

/// `Retry-After` (RFC 9110 §10.2.3): delay-seconds or an IMF-fixdate. Other date forms are
/// obsolete and read as absent (the caller then uses its own backoff).
enum RetryAfter {
    /// The seconds to wait from `now` (0 for a date in the past), or nil when unreadable.
    static func seconds(_ value: String, now: Int) -> Int? {
        let text = value.trimmingSpaces()
        if isDelaySeconds(text) {
            return Int(text.prefix(12)) ?? Int.max   // absurdly long: "never soon"
        }
        guard let date = imfFixdate(text) else { return nil }
        return max(0, date - now)
    }

    /// Whether `text` is the delay-seconds form (digits only), not a date.
    static func isDelaySeconds(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    /// "Sun, 06 Nov 1994 08:49:37 GMT" as seconds since the epoch.
    static func imfFixdate(_ text: String) -> Int? {
        let parts = text.split(separator: " ")
        guard parts.count == 6, parts[0].hasSuffix(","), parts[5] == "GMT",
              let day = Int(parts[1]), let year = Int(parts[3]),
              let month = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"].firstIndex(of: String(parts[2]))
        else { return nil }
        let clock = parts[4].split(separator: ":").compactMap { Int($0) }
        guard clock.count == 3, (1...31).contains(day), (0...23).contains(clock[0]), (0...59).contains(clock[1]), (0...60).contains(clock[2])
        else { return nil }
        var t = tm()
        t.tm_year = Int32(year - 1900)
        t.tm_mon = Int32(month)
        t.tm_mday = Int32(day)
        t.tm_hour = Int32(clock[0])
        t.tm_min = Int32(clock[1])
        t.tm_sec = Int32(clock[2])
        return Int(timegm(&t))
    }

    /// Seconds since the epoch, wall clock (Retry-After dates are wall-clock times).
    static func now() -> Int { Int(time(nil)) }

    /// "2026-12-02 05:00:00 UTC" for messages.
    static func describe(_ epoch: Int) -> String {
        var t = tm()
        var value = time_t(epoch)
        gmtime_r(&value, &t)
        var buffer = [CChar](repeating: 0, count: 32)
        let n = strftime(&buffer, buffer.count, "%Y-%m-%d %H:%M:%S UTC", &t)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
