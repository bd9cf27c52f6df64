import NIOCore
import Synchronization

/// A clock for tests: real time plus an offset that only `advance(by:)` changes. Set `now` in
/// `SimulatorConfig` (and `ClientConfig`) to it, and a test ages connections by advancing it
/// instead of sleeping. Real time still passes, so give real limits room (e.g. the defaults).
public final class TestClock: Sendable {
    private let offsetNanoseconds = Atomic<Int64>(0)

    public init() {}

    public func advance(by amount: TimeAmount) {
        offsetNanoseconds.wrappingAdd(amount.nanoseconds, ordering: .relaxed)
    }

    public func now() -> NIODeadline {
        .now() + .nanoseconds(offsetNanoseconds.load(ordering: .relaxed))
    }

    /// For the configs' `now` fields.
    public var function: @Sendable () -> NIODeadline { { self.now() } }
}
