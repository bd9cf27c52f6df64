import Foundation
import NIOConcurrencyHelpers

struct TestTimeout: Error, CustomStringConvertible {
    let what: String
    var description: String { "timed out waiting for \(what)" }
}

/// A value that changes on some event loop and that tests wait on without polling.
/// The timeout only guards against hangs (generous: the suite runs in parallel on busy cores);
/// no test asserts on timing.
final class Observed<Value: Sendable>: Sendable {
    private struct Waiter {
        let id: UUID
        let predicate: @Sendable (Value) -> Bool
        let continuation: CheckedContinuation<Value, Error>
    }

    private struct Storage {
        var value: Value
        var waiters: [Waiter] = []
    }

    /// A pthread mutex (NIOLockedValueBox), not Synchronization.Mutex: on Linux the latter is a
    /// bare futex that ThreadSanitizer cannot see, so it reported races under the lock.
    private let storage: NIOLockedValueBox<Storage>

    init(_ initial: Value) {
        storage = NIOLockedValueBox(Storage(value: initial))
    }

    var value: Value { storage.withLockedValue { $0.value } }

    func update(_ change: (inout Value) -> Void) {
        let ready: [(CheckedContinuation<Value, Error>, Value)] = storage.withLockedValue { storage in
            change(&storage.value)
            let value = storage.value
            var ready: [(CheckedContinuation<Value, Error>, Value)] = []
            storage.waiters.removeAll { waiter in
                guard waiter.predicate(value) else { return false }
                ready.append((waiter.continuation, value))
                return true
            }
            return ready
        }
        for (continuation, value) in ready { continuation.resume(returning: value) }
    }

    /// Waits until `predicate` holds and returns the value it held for.
    @discardableResult
    func wait(
        _ what: String,
        timeout: Duration = .seconds(60),
        until predicate: @escaping @Sendable (Value) -> Bool
    ) async throws -> Value {
        try await withThrowingTaskGroup(of: Value.self) { group in
            group.addTask { try await self.waitUnbounded(predicate) }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw TestTimeout(what: what)
            }
            defer { group.cancelAll() }
            guard let first = try await group.next() else { throw TestTimeout(what: what) }
            return first
        }
    }

    private func waitUnbounded(_ predicate: @escaping @Sendable (Value) -> Bool) async throws -> Value {
        let id = UUID()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, Error>) in
                let immediate: Value? = storage.withLockedValue { storage in
                    if predicate(storage.value) { return storage.value }
                    storage.waiters.append(Waiter(id: id, predicate: predicate, continuation: continuation))
                    return nil
                }
                if let immediate { continuation.resume(returning: immediate) }
            }
        } onCancel: {
            let cancelled = storage.withLockedValue { storage -> Waiter? in
                guard let index = storage.waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return storage.waiters.remove(at: index)
            }
            cancelled?.continuation.resume(throwing: CancellationError())
        }
    }
}
