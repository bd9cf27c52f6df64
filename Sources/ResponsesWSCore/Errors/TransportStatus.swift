extension RWSError {
    /// Maps a wire failure to the status a caller acts on. Whether the request may have reached
    /// the server decides between "closed" (safe to send again) and "outcome unknown" (§5.10).
    init(transport error: TransportError?, phase: TurnPhase, fallback: String? = nil) {
        self.init(mapping: error, phase: phase, fallback: fallback)
        httpStatus = Int32(clamping: error?.httpStatus ?? 0)
        requestID = error?.requestID
    }

    private init(mapping error: TransportError?, phase: TurnPhase, fallback: String?) {
        guard let error else {
            if let fallback {
                self.init(phase < .sending ? .connect : .outcomeUnknown, fallback)
                return
            }
            if phase < .sending {
                self.init(.closed, "the connection closed before the request was written; nothing was sent, so it is safe to send again")
            } else {
                self.init(.outcomeUnknown, "the connection closed after the request was sent and before its terminal event; the server may have run it, so it was not replayed")
            }
            return
        }
        switch error.kind {
        case .url: self.init(.url, error.message)
        case .dns: self.init(.dns, error.message)
        case .connect: self.init(.connect, error.message)
        case .proxy: self.init(.proxy, error.message)
        case .tls: self.init(.tls, error.message)
        case .tlsVerify: self.init(.tlsVerify, error.message)
        case .auth: self.init(.auth, error.message)
        case .upgradeRefused:
            switch error.httpStatus {
            case 429?: self.init(.rateLimited, error.message)
            case 400?, 413?, 422?: self.init(.invalidRequest, error.message)
            default: self.init(.upgradeRefused, error.message)
            }
        case .httpStatus:
            switch error.httpStatus ?? 0 {
            case 429: self.init(.rateLimited, error.message)
            case 400..<500: self.init(.invalidRequest, error.message)
            default: self.init(.server, error.message)
            }
        case .configuration: self.init(.invalidArgument, error.message)
        case .timeout: self.init(.timeout, error.message)
        case .messageTooBig: self.init(.messageTooBig, error.message)
        case .protocolViolation: self.init(.protocolViolation, error.message)
        case .cancelled: self.init(.cancelled, error.message)
        case .closed:
            if phase < .sending {
                self.init(.closed, "\(error.message); nothing was sent, so it is safe to send again")
            } else {
                self.init(.outcomeUnknown, "\(error.message), after the request was sent and before its terminal event; the server may have run it, so it was not replayed")
            }
        }
    }
}
