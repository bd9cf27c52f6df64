import ResponsesJSON
import Testing
@testable import ResponsesWSCore

/// The chain state machine alone: no sockets, no loop. Each test feeds it what a session would
/// (completed turns, lost connections, cache misses, a standby taking over) and checks what the
/// next turn would send.
@Suite struct ChainTests {
    private func request(_ json: String, defaults: JSONObject = defaults) throws -> TurnRequest {
        try Array(json.utf8).withUnsafeBytes { try TurnRequest.prepare($0, defaults: defaults, streamID: nil, maxRequestBytes: 1 << 20) }
    }

    private func item(_ text: String) -> [UInt8] {
        Array(#"{"type":"message","role":"user","content":"\#(text)"}"#.utf8)
    }

    private func output(_ text: String) -> [UInt8] {
        Array(#"{"type":"message","role":"assistant","content":[{"type":"output_text","text":"\#(text)"}]}"#.utf8)
    }

    /// Completes `request` as the session would after the terminal event of `responseID`.
    private func complete(_ chain: inout Chain, _ request: TurnRequest, as responseID: String, on connection: ConnectionID?,
                          outputs: [[UInt8]] = []) -> Bool {
        let plan = chain.plan(request, on: connection, afterMissingParent: false)
        return chain.apply(.completed(Chain.Completion(request: request, sentItems: plan.newItems, sentChaining: plan.chaining,
                                                       responseID: responseID, outputItems: outputs, connection: connection)))
    }

    @Test func aNewChainSendsItsItemsWithoutAParent() throws {
        let chain = Chain(inputMode: .incremental)
        let plan = chain.plan(try request(#"{"input":"hi"}"#), on: 1, afterMissingParent: false)
        #expect(plan.previousResponseID == nil)
        #expect(plan.chaining == .session)
        #expect(plan.items.count == 1)
        #expect(!plan.fullResend)
    }

    @Test func onTheConnectionThatHoldsTheHeadOnlyNewItemsGo() throws {
        var chain = Chain(inputMode: .incremental)
        let changed1 = complete(&chain, try request(#"{"input":"one"}"#), as: "resp_1", on: 7, outputs: [output("a")])
        #expect(changed1)
        #expect(chain.head == "resp_1")
        #expect(chain.cachedOn == 7)
        #expect(chain.transcript.items.count == 2)
        let plan = chain.plan(try request(#"{"input":"two"}"#), on: 7, afterMissingParent: false)
        #expect(plan.previousResponseID == "resp_1")
        #expect(plan.items.count == 1)
        #expect(!plan.fullResend)
    }

    @Test func elsewhereAStoreFalseChainResendsItsWholeContext() throws {
        var chain = Chain(inputMode: .incremental)
        _ = complete(&chain, try request(#"{"input":"one"}"#), as: "resp_1", on: 7, outputs: [output("a")])
        let plan = chain.plan(try request(#"{"input":"two"}"#), on: 8, afterMissingParent: false)
        #expect(plan.previousResponseID == nil)
        #expect(plan.fullResend)
        #expect(plan.items.count == 3)   // one, its output, two
        #expect(plan.newItems.count == 1)
    }

    @Test func elsewhereAStoredChainIsLoadedFromStorage() throws {
        let stored = (["model": "gpt-5.6", "store": true] as JSONValue).objectValue!
        var chain = Chain(inputMode: .incremental)
        _ = complete(&chain, try request(#"{"input":"one"}"#, defaults: stored), as: "resp_1", on: 7)
        let plan = chain.plan(try request(#"{"input":"two"}"#, defaults: stored), on: 8, afterMissingParent: false)
        #expect(plan.previousResponseID == "resp_1")
        #expect(!plan.fullResend)
    }

    @Test func aLostConnectionTakesTheCacheWithIt() throws {
        var chain = Chain(inputMode: .incremental)
        _ = complete(&chain, try request(#"{"input":"one"}"#), as: "resp_1", on: 7)
        let changed2 = chain.apply(.connectionGone(9))
        #expect(!changed2)   // another connection: nothing changes
        #expect(chain.cachedOn == 7)
        let changed3 = chain.apply(.connectionGone(7))
        #expect(!changed3)
        #expect(chain.cachedOn == nil)
        #expect(chain.head == "resp_1")            // the head stays; only where it is cached is gone
        #expect(chain.plan(try request(#"{"input":"two"}"#), on: 7, afterMissingParent: false).fullResend)
    }

    @Test func aMissedCacheIsRecoveredOnceWithTheFullContext() throws {
        var chain = Chain(inputMode: .incremental)
        _ = complete(&chain, try request(#"{"input":"one"}"#), as: "resp_1", on: 7)
        #expect(chain.canRecoverMissingParent(sentChaining: .session, wasIncremental: true, alreadyRecovered: false))
        #expect(!chain.canRecoverMissingParent(sentChaining: .session, wasIncremental: true, alreadyRecovered: true))
        #expect(!chain.canRecoverMissingParent(sentChaining: .explicit("resp_x"), wasIncremental: false, alreadyRecovered: false))
        chain.apply(.cacheMissed)
        let plan = chain.plan(try request(#"{"input":"two"}"#), on: 7, afterMissingParent: true)
        #expect(plan.fullResend)
        #expect(plan.previousResponseID == nil)
    }

    @Test func anExplicitParentIsSentAsGivenAndLeavesTheTranscriptIncomplete() throws {
        var chain = Chain(inputMode: .incremental)
        _ = complete(&chain, try request(#"{"input":"one"}"#), as: "resp_1", on: 7)
        let explicit = try request(#"{"input":"branch","previous_response_id":"resp_other"}"#)
        let plan = chain.plan(explicit, on: 8, afterMissingParent: false)
        #expect(plan.previousResponseID == "resp_other")
        _ = complete(&chain, explicit, as: "resp_2", on: 8)
        #expect(!chain.transcript.isComplete)
        // Nothing to rebuild from: the next turn continues by id even on another connection.
        let next = chain.plan(try request(#"{"input":"three"}"#), on: 9, afterMissingParent: false)
        #expect(next.previousResponseID == "resp_2")
        #expect(!next.fullResend)
        #expect(!chain.canRecoverMissingParent(sentChaining: .session, wasIncremental: true, alreadyRecovered: false))
    }

    @Test func aNullParentStartsANewChain() throws {
        var chain = Chain(inputMode: .incremental)
        _ = complete(&chain, try request(#"{"input":"one"}"#), as: "resp_1", on: 7, outputs: [output("a")])
        let fresh = try request(#"{"input":"again","previous_response_id":null}"#)
        #expect(chain.plan(fresh, on: 7, afterMissingParent: false).previousResponseID == nil)
        _ = complete(&chain, fresh, as: "resp_2", on: 7)
        #expect(chain.transcript.items.count == 1)
    }

    @Test func overHTTPNoCacheIsKept() throws {
        var chain = Chain(inputMode: .incremental)
        _ = complete(&chain, try request(#"{"input":"one"}"#), as: "resp_1", on: nil)
        #expect(chain.cachedOn == nil)
        #expect(chain.plan(try request(#"{"input":"two"}"#), on: 7, afterMissingParent: false).fullResend)
    }

    @Test func aStandbyThatTakesOverHoldsAWarmupHead() throws {
        var chain = Chain(inputMode: .incremental)
        _ = complete(&chain, try request(#"{"input":"one"}"#), as: "resp_1", on: 7)
        #expect(chain.wantsStandby(on: 7))
        #expect(!chain.wantsStandby(on: 8))
        let changed4 = chain.apply(.tookOverStandby(connection: 8, head: "resp_warm"))
        #expect(changed4)
        #expect(chain.headIsWarmup)
        let plan = chain.plan(try request(#"{"input":"two"}"#), on: 8, afterMissingParent: false)
        #expect(plan.previousResponseID == "resp_warm")
        #expect(!plan.fullResend)
    }

    @Test func storedChainsNeedNoStandby() throws {
        let stored = (["model": "gpt-5.6", "store": true] as JSONValue).objectValue!
        var chain = Chain(inputMode: .incremental)
        _ = complete(&chain, try request(#"{"input":"one"}"#, defaults: stored), as: "resp_1", on: 7)
        #expect(!chain.wantsStandby(on: 7))
    }

    @Test func fullHistoryRequestsSendOnlyTheirExtension() throws {
        var chain = Chain(inputMode: .fullHistory)
        let first = try request(#"{"input":[{"type":"message","role":"user","content":"one"}]}"#)
        _ = complete(&chain, first, as: "resp_1", on: 7, outputs: [output("a")])
        let extended = try request(#"{"input":[{"type":"message","role":"user","content":"one"},"#
            + #"{"type":"message","role":"assistant","content":[{"type":"output_text","text":"a"}]},"#
            + #"{"type":"message","role":"user","content":"two"}]}"#)
        let plan = chain.plan(extended, on: 7, afterMissingParent: false)
        #expect(plan.previousResponseID == "resp_1")
        #expect(plan.items == [item("two")])
        // A history that does not extend the chain starts a new one with everything it holds.
        let other = try request(#"{"input":[{"type":"message","role":"user","content":"else"}]}"#)
        let fresh = chain.plan(other, on: 7, afterMissingParent: false)
        #expect(fresh.chaining == .none)
        #expect(fresh.previousResponseID == nil)
    }

    @Test func resetForgetsEverything() throws {
        var chain = Chain(inputMode: .incremental)
        _ = complete(&chain, try request(#"{"input":"one"}"#), as: "resp_1", on: 7)
        let changed5 = chain.apply(.reset)
        #expect(changed5)
        #expect(chain.head == nil && chain.cachedOn == nil && chain.lastRequest == nil)
        #expect(chain.transcript.items.isEmpty)
        let changed6 = chain.apply(.reset)
        #expect(!changed6)   // nothing left to change
    }
}
