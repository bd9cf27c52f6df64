import NIOCore

/// What a 429/503 answer's `Retry-After` asks of the next attempt.
enum RetryAfterVerdict {
    /// No readable Retry-After: the usual backoff applies.
    case none
    /// Wait at least this long before the next attempt.
    case after(TimeAmount)
    /// The wait does not fit the turn's budget: the turn was ended RWS_E_RATE_LIMITED.
    case ended

    var wait: TimeAmount {
        if case .after(let t) = self { return t }
        return .zero
    }
}

/// Honouring `Retry-After` on refused upgrades and POSTs. Event loop only.
extension Session {
    /// Reads `error`'s Retry-After. When the wait exceeds what this turn may still spend (no
    /// attempt left, past its total timeout, or longer than reconnect_max_delay_ms, the most it
    /// ever waits between attempts), the turn ends at once RWS_E_RATE_LIMITED, saying when to
    /// retry: waiting, then failing anyway, would only hold the caller up.
    func retryAfter(_ turn: Turn, _ error: TransportError) -> RetryAfterVerdict {
        guard let header = error.retryAfter else { return .none }
        let now = RetryAfter.now()
        guard let seconds = RetryAfter.seconds(header, now: now) else { return .none }
        let config = client.config
        let wait = TimeAmount.seconds(Int64(clamping: min(seconds, 1 << 40)))
        var overBy: String?
        if turn.reconnects >= config.maxReconnects {
            overBy = "no attempt is left (max_reconnects \(config.maxReconnects))"
        } else if wait > config.reconnectMaxDelay {
            overBy = "longer than reconnect_max_delay_ms (\(config.reconnectMaxDelay.nanoseconds / 1_000_000) ms)"
        } else if let total = config.totalTimeout, NIODeadline.now() + wait >= turn.startedAt + total {
            overBy = "past the turn's total_timeout_ms (\(total.nanoseconds / 1_000_000) ms)"
        }
        guard let overBy else { return .after(wait) }
        guard seconds > 0 else { return .none }   // "now": the ordinary rules decide
        // Beyond ~300 years is no date a person can use (and gmtime's range ends somewhere).
        let when = seconds >= 10_000_000_000 ? "much later" : "at \(RetryAfter.describe(now + seconds))"
        var failure = RWSError(.rateLimited, "\(error.message); the server asks to retry after \(seconds) s (\(when)), \(overBy): try again then")
        failure.httpStatus = Int32(clamping: error.httpStatus ?? 0)
        complete(turn, failure)
        return .ended
    }

    /// A POST refused with 429/503 and a Retry-After is sent again after that wait, within the
    /// reconnect budget: the server refused it, so it did not run it. Returns true when the
    /// turn was rescheduled or ended here.
    func retryRefusedPost(_ turn: Turn, _ error: TransportError) -> Bool {
        guard error.kind == .httpStatus, error.httpStatus == 429 || error.httpStatus == 503 else { return false }
        let asked = retryAfter(turn, error)
        switch asked {
        case .none: return false
        case .ended: return true
        case .after(let wait):
            turn.http = nil
            scheduleRetry(turn, notBefore: wait)
            return true
        }
    }
}
