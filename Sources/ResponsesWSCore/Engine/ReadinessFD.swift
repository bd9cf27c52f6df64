#if canImport(Glibc)
import Glibc
#endif
import CLinuxShims

/// A file descriptor an event loop can watch for "this turn has something to pull"
/// (rws_turn_notify_fd): an eventfd kept readable while the condition holds. Level-triggered
/// by construction: raised once when the condition starts, lowered once when a pull finds it
/// over, so a busy stream costs two system calls per drained batch, not one per event.
/// Not thread-safe: its owner calls it under its own lock.
final class ReadinessFD {
    let fd: Int32
    private var raised = false

    init() throws(RWSError) {
        let fd = rws_system_eventfd()
        guard fd >= 0 else {
            let reason = String(cString: strerror(errno))
            throw RWSError(.internal, "cannot create the turn's notification eventfd: \(reason)")
        }
        self.fd = fd
    }

    func raise() {
        guard !raised else { return }
        raised = true
        _ = rws_system_eventfd_signal(fd)
    }

    func lower() {
        guard raised else { return }
        raised = false
        _ = rws_system_eventfd_reset(fd)
    }

    deinit { close(fd) }
}
