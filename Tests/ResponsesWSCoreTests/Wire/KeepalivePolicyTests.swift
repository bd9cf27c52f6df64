import NIOCore
import Testing

@testable import ResponsesWSCore

@Suite struct KeepalivePolicyTests {
    private let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
    private let interval = TimeAmount.seconds(30)

    @Test func pingsAfterSilenceAndDeclaresDeathAfterAnother() {
        var policy = KeepalivePolicy(interval: interval, now: start)
        #expect(policy.firstCheck == start + interval)
        #expect(policy.check(now: start + .seconds(10)) == .checkAgainAt(start + interval))
        #expect(policy.check(now: start + interval) == .sendPing(checkAgainAt: start + interval + interval))
        #expect(policy.check(now: start + .seconds(45)) == .checkAgainAt(start + interval + interval))
        #expect(policy.check(now: start + interval + interval) == .peerIsDead)
    }

    @Test func anyFrameCountsAsLiveness() {
        var policy = KeepalivePolicy(interval: interval, now: start)
        policy.frameReceived(at: start + .seconds(20))
        #expect(policy.check(now: start + interval) == .checkAgainAt(start + .seconds(50)))
        #expect(policy.check(now: start + .seconds(50)) == .sendPing(checkAgainAt: start + .seconds(80)))
        policy.frameReceived(at: start + .seconds(51))  // the pong
        #expect(policy.check(now: start + .seconds(80)) == .checkAgainAt(start + .seconds(81)))
        #expect(policy.check(now: start + .seconds(81)) == .sendPing(checkAgainAt: start + .seconds(111)))
    }

    @Test func aLateCheckConfirmsBeforeDeclaringDeath() {
        var policy = KeepalivePolicy(interval: interval, now: start)
        #expect(policy.check(now: start + interval) == .sendPing(checkAgainAt: start + .seconds(60)))
        // Our loop was stalled: the check runs 10 s late. Re-check after 3 s (interval / 10).
        #expect(policy.check(now: start + .seconds(70)) == .checkAgainAt(start + .seconds(73)))
        policy.frameReceived(at: start + .seconds(71))  // the pong was waiting in the socket
        #expect(policy.check(now: start + .seconds(73)) == .checkAgainAt(start + .seconds(101)))

        #expect(policy.check(now: start + .seconds(101)) == .sendPing(checkAgainAt: start + .seconds(131)))
        #expect(policy.check(now: start + .seconds(140)) == .checkAgainAt(start + .seconds(143)))
        #expect(policy.check(now: start + .seconds(143)) == .peerIsDead)
    }
}
