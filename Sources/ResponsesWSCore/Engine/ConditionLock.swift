#if canImport(Glibc)
import Glibc
#endif

/// A mutex with one condition variable and timed waits on the monotonic clock.
/// Why not `Synchronization.Mutex`: it has no condition variable, and the pull API must sleep
/// until an event arrives or a timeout passes (no busy waiting).
final class ConditionLock: @unchecked Sendable {   // pthread objects are thread-safe by design
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let cond = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attr = pthread_condattr_t()
        pthread_condattr_init(&attr)
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)
        pthread_cond_init(cond, &attr)
        pthread_condattr_destroy(&attr)
    }

    deinit {
        pthread_cond_destroy(cond)
        pthread_mutex_destroy(mutex)
        cond.deallocate()
        mutex.deallocate()
    }

    @inline(__always) func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// Wakes every waiter. Call with or without the lock held.
    @inline(__always) func broadcast() { pthread_cond_broadcast(cond) }

    /// Waits until `ready()` holds or `timeoutMs` passes (-1: forever). Returns `ready()`'s final
    /// value. `ready` runs with the lock held.
    func wait(timeoutMs: Int32, until ready: () -> Bool) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if ready() { return true }
        if timeoutMs == 0 { return false }
        if timeoutMs < 0 {
            while !ready() { pthread_cond_wait(cond, mutex) }
            return true
        }
        var deadline = timespec()
        clock_gettime(CLOCK_MONOTONIC, &deadline)
        deadline.tv_sec += Int(timeoutMs / 1000)
        deadline.tv_nsec += Int(timeoutMs % 1000) * 1_000_000
        if deadline.tv_nsec >= 1_000_000_000 { deadline.tv_sec += 1; deadline.tv_nsec -= 1_000_000_000 }
        while !ready() {
            if pthread_cond_timedwait(cond, mutex, &deadline) == ETIMEDOUT { return ready() }
        }
        return true
    }
}
