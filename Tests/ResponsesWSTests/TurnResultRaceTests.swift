#if canImport(Glibc)
import Glibc
#endif
import CResponsesWS
import ResponsesWS
import ResponsesWSSim
import Testing

// rws_turn_get_result is callable from any thread, so several threads may read the result of
// a turn as it ends: pollers, and the thread that pulled the last event. All must get the same
// result (strings at the same address, valid until rws_turn_free), and under ThreadSanitizer
// (`swift test --sanitize=thread`) none may race another. The address check is what catches a
// result built twice (the second copy freed the first one's strings): TSan does not see that
// race, because the handle's optional was copied by uninstrumented outlined value witnesses.

/// A C handle carried to another thread (the C API allows that for these calls).
private struct Handle: @unchecked Sendable { let pointer: OpaquePointer }

/// What a thread saw: its status and the result's response id (pointer and bytes).
private struct Seen: Equatable, @unchecked Sendable {
    var status: Int32 = 1
    var idPointer: UnsafePointer<CChar>?
    var id: [UInt8] = []
}

private func readResult(_ turn: OpaquePointer) -> Seen {
    var r = rws_turn_result()
    let status = rws_turn_get_result(turn, &r, MemoryLayout<rws_turn_result>.size)
    let id = r.response_id.ptr.map { Array(UnsafeRawBufferPointer(start: $0, count: r.response_id.len)) } ?? []
    return Seen(status: status, idPointer: r.response_id.ptr, id: id)
}

/// A pthread running `body`; join it with `pthread_join`. (No Foundation in the tests.)
private final class ThreadBody { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
private func spawn(_ body: @escaping @Sendable () -> Void) -> pthread_t {
    var thread = pthread_t()
    let context = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
    let rc = pthread_create(&thread, nil, { context in
        Unmanaged<ThreadBody>.fromOpaque(context!).takeRetainedValue().body()
        return nil
    }, context)
    precondition(rc == 0, "pthread_create failed: \(rc)")
    return thread
}

/// What a polling thread saw, read by the test after pthread_join (which orders the two).
private final class Slot: @unchecked Sendable { var seen = Seen() }

@Suite(.serialized) struct TurnResultRaceTests {
    @Test func getResultFromThreeThreadsAsTheTurnEnds() async throws {
        var config = SimulatorConfig()
        config.tokensPerSecond = 0
        let sim = try await Simulator.start(config)
        do { try Self.raceRounds(sim) } catch { await sim.shutdown(); throw error }
        await sim.shutdown()
    }

    private static func raceRounds(_ sim: Simulator) throws {
        var options = rws_client_options()
        rws_client_options_init(&options)
        var client: OpaquePointer?
        let created = sim.baseURL.withCString { url in
            "sk-test".withCString { key in
                options.base_url = url
                options.api_key = key
                return rws_client_new(&options, &client)
            }
        }
        try #require(created == Int32(RWS_OK), "rws_client_new: \(String(cString: rws_last_error()))")
        defer { rws_client_free(client) }
        var session: OpaquePointer?
        try #require(rws_session_new(client, nil, &session) == Int32(RWS_OK))
        defer { rws_session_free(session) }

        for round in 0..<20 {
            var turnOut: OpaquePointer?
            let request = #"{"model":"gpt-5.6","store":false,"input":"race \#(round)"}"#
            try #require(rws_turn_start(session, request, 0, nil, &turnOut) == Int32(RWS_OK))
            let turn = Handle(pointer: try #require(turnOut))

            // Two threads poll for the result while the turn runs, so that as it ends they
            // read it at the same moment as each other and as this thread.
            let slots = [Slot(), Slot()]
            let pollers = slots.map { slot in
                spawn {
                    repeat {
                        slot.seen = readResult(turn.pointer)
                        if slot.seen.status == Int32(RWS_E_AGAIN) { sched_yield() }
                    } while slot.seen.status == Int32(RWS_E_AGAIN)
                }
            }
            // This thread pulls every event, then reads the result as soon as the turn is done.
            var event: UnsafePointer<rws_event>?
            var pulled: Int32
            repeat { pulled = rws_turn_next_event(turn.pointer, 10_000, &event) } while pulled == Int32(RWS_OK)
            let mine = readResult(turn.pointer)
            for thread in pollers { pthread_join(thread, nil) }

            #expect(pulled == Int32(RWS_DONE))
            #expect(mine.status == Int32(RWS_OK))
            #expect(!mine.id.isEmpty)
            // One result per turn: the same strings, at the same address, for every thread.
            for slot in slots { #expect(slot.seen == mine) }
            rws_turn_free(turn.pointer)
        }
    }
}
