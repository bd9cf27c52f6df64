import NIOCore
import ResponsesJSON
import Testing
@testable import ResponsesWSSim

/// §1.3 handshake answers, §5.7 lifetime, ping/pong, close.
@Suite struct HandshakeTests {
    @Test func upgradeWithoutAuthorizationIs401() async throws {
        try await withSimulator { sim in
            await #expect {
                _ = try await TestWebSocket.connect(port: sim.port, headers: [])
            } throws: { error in
                guard let rejected = error as? UpgradeRejected, rejected.status == 401,
                      let body = try? JSONValue.parse(rejected.body) else { return false }
                return body["error"]?["type"] == "invalid_request_error" && body["error"]?["message"]?.stringValue?.contains("API key") == true
            }
            await #expect {
                _ = try await TestWebSocket.connect(port: sim.port, headers: [("Authorization", "Bearer ")])
            } throws: { ($0 as? UpgradeRejected)?.status == 401 }
            #expect(sim.stats().websocketUpgrades == 0)
        }
    }

    @Test func apiKeyFlagChecksTheKey() async throws {
        try await withSimulator({ $0.apiKey = "sk-right" }) { sim in
            await #expect {
                _ = try await TestWebSocket.connect(port: sim.port, headers: [("Authorization", "Bearer sk-wrong")])
            } throws: { error in
                guard let rejected = error as? UpgradeRejected else { return false }
                return rejected.status == 401 && (try? JSONValue.parse(rejected.body))?["error"]?["code"] == "invalid_api_key"
            }
            let ws = try await TestWebSocket.connect(port: sim.port, headers: [("Authorization", "Bearer sk-right")])
            #expect(try await ws.create(["input": "hi"]).terminal["type"] == "response.completed")
            await ws.close()
            let post = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "hi"],
                                               headers: [("Authorization", "Bearer sk-wrong")])
            #expect(post.status == 401)
            #expect(post.json?["error"]?["code"] == "invalid_api_key")
        }
    }

    @Test func postWithoutAuthorizationIs401() async throws {
        try await withSimulator { sim in
            let result = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "hi"], headers: [])
            #expect(result.status == 401)
            #expect(result.json?["error"]?["message"]?.stringValue?.isEmpty == false)
            #expect(result.json?["error"]?["type"] == "invalid_request_error")
            #expect(result.headers["Content-Type"].first == "application/json")
            #expect(sim.stats().httpPosts == 0)
        }
    }

    @Test(arguments: [426, 404])
    func rejectUpgradeAnswersEveryUpgradeButPostWorks(_ status: Int) async throws {
        try await withSimulator({ $0.rejectUpgradeStatus = status }) { sim in
            await #expect {
                _ = try await TestWebSocket.connect(port: sim.port)
            } throws: { ($0 as? UpgradeRejected)?.status == status }
            let post = try await TestHTTP.post(port: sim.port, ["model": "m", "input": "hi"])
            #expect(post.status == 200)
            #expect(post.json?["status"] == "completed")
        }
    }

    @Test func otherPathsAndMethods() async throws {
        try await withSimulator { sim in
            await #expect {
                _ = try await TestWebSocket.connect(port: sim.port, path: "/v1/realtime")
            } throws: { ($0 as? UpgradeRejected)?.status == 404 }
            let get = try await TestHTTP.request(port: sim.port, method: .GET)
            #expect(get.status == 405)
            let other = try await TestHTTP.request(port: sim.port, method: .POST, path: "/v1/chat/completions", body: "{}")
            #expect(other.status == 404)
            #expect(other.json?["error"] != nil)
        }
    }

    @Test func requireBetaHeaderFlag() async throws {
        try await withSimulator({ $0.requireBetaHeader = true }) { sim in
            await #expect {
                _ = try await TestWebSocket.connect(port: sim.port)
            } throws: { ($0 as? UpgradeRejected)?.status == 400 }
            let ws = try await TestWebSocket.connect(port: sim.port, headers: [
                ("Authorization", "Bearer k"), ("OpenAI-Beta", "responses_websockets=2026-02-06"),
            ])
            #expect(try await ws.create(["input": "beta"]).terminal["type"] == "response.completed")
            await ws.close()
        }
    }

    @Test func queryStringOnTheUpgradeIsAccepted() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port, path: "/v1/responses?foo=bar")
            #expect(try await ws.create(["input": "q"]).terminal["type"] == "response.completed")
            await ws.close()
        }
    }
}

@Suite struct LifetimeTests {
    @Test func pingGetsPongWithThePayload() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.sendPing([1, 2, 3, 4])
            guard case .pong(let payload) = try await ws.next() else { Issue.record("expected a pong"); return }
            #expect(payload == [1, 2, 3, 4])
            await ws.close()
        }
    }

    @Test func clientCloseIsEchoed() async throws {
        try await withSimulator { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            ws.sendClose(code: .normalClosure)
            let result = try await ws.closeCode()
            #expect(result.code == 1000)
            // The session is counted as closed (waits for the server's side of the close).
            let stats = try await sim.waitForStats { $0.websocketConnections.first?.isOpen == false }
            #expect(stats.websocketConnections.count == 1)
        }
    }

    @Test func agedConnectionGetsTheLimitErrorOnTheNextCreateThenAClose() async throws {
        // The default limit (60 min), reached by advancing the simulator's clock.
        let clock = TestClock()
        try await withSimulator({ $0.now = clock.function }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            #expect(try await ws.create(["input": "young"]).terminal["type"] == "response.completed")
            clock.advance(by: .seconds(3600))
            ws.send(createEvent(["input": "old"]))
            let result = try await ws.closeCode()
            #expect(result.events.count == 1)
            let error = try #require(result.events.first)
            #expect(error["type"] == "error")
            #expect(error["error"]?["code"] == "websocket_connection_limit_reached")
            #expect(error["error"]?["param"] == nil)
            #expect(error["stream_id"] == nil)
            #expect(result.code == 1000)
            #expect(result.reason == "connection limit reached")
        }
    }

    @Test func pushLimitWhenIdleSendsItUnsolicited() async throws {
        try await withSimulator({ $0.maxConnectionAge = 0.2; $0.pushLimitWhenIdle = true; $0.limitCloseCode = 4000 }) { sim in
            let ws = try await TestWebSocket.connect(port: sim.port)
            let result = try await ws.closeCode()
            #expect(result.events.first?["error"]?["code"] == "websocket_connection_limit_reached")
            #expect(result.code == 4000)
        }
    }

    @Test func shutdownClosesSessionsWithGoingAway() async throws {
        var config = SimulatorConfig()
        config.threads = 1
        let sim = try await Simulator.start(config)
        let ws = try await TestWebSocket.connect(port: sim.port)
        async let closing: Void = sim.shutdown()
        let result = try await ws.closeCode()
        await closing
        #expect(result.code == 1001)
    }
}
