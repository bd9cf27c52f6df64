import NIOCore
import NIOHTTP1
import NIOPosix
import ResponsesJSON
import ResponsesWSSim

/// One HTTP exchange's result. `complete` is false when the server closed the connection before
/// the end of the response.
struct HTTPResult: Sendable {
    var status: Int
    var headers: HTTPHeaders
    var body: String
    var complete: Bool

    var json: JSONValue? { try? JSONValue.parse(body) }

    /// SSE records as (event name, parsed data).
    var sseEvents: [(event: String, data: JSONValue)] {
        body.split(separator: "\n\n").compactMap { record in
            var name = "", data = ""
            for line in record.split(separator: "\n") {
                if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
                if line.hasPrefix("data: ") { data += line.dropFirst(6) }
            }
            guard let value = try? JSONValue.parse(data) else { return nil }
            return (name, value)
        }
    }
}

/// A one-request HTTP/1.1 client (`Connection: close`).
enum TestHTTP {
    static func request(
        port: Int, method: HTTPMethod = .POST, path: String = "/v1/responses",
        headers: [(String, String)] = [("Authorization", "Bearer test-key"), ("Content-Type", "application/json")],
        body: String? = nil
    ) async throws -> HTTPResult {
        let loop = clientGroup.next()
        let done = loop.makePromise(of: HTTPResult.self)
        let bootstrap = ClientBootstrap(group: loop).channelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                try channel.pipeline.syncOperations.addHandler(ResponseCollector(done: done))
            }
        }
        let channel = try await bootstrap.connect(host: "127.0.0.1", port: port).get()
        var h = HTTPHeaders()
        h.add(name: "Host", value: "127.0.0.1:\(port)")
        h.add(name: "Connection", value: "close")
        for (name, value) in headers { h.add(name: name, value: value) }
        if let body { h.add(name: "Content-Length", value: String(body.utf8.count)) }
        channel.write(HTTPClientRequestPart.head(HTTPRequestHead(version: .http1_1, method: method, uri: path, headers: h)), promise: nil)
        if let body {
            channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(string: body))), promise: nil)
        }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
        let timeout = loop.scheduleTask(in: TestWebSocket.defaultTimeout) { done.fail(TestTimeout(description: "HTTP response timed out")) }
        defer { timeout.cancel() }
        let result = try await done.futureResult.get()
        try? await channel.close()
        return result
    }

    static func post(port: Int, _ body: JSONValue, headers: [(String, String)]? = nil) async throws -> HTTPResult {
        try await request(port: port, headers: headers ?? [("Authorization", "Bearer test-key"), ("Content-Type", "application/json")],
                          body: body.serializedString)
    }
}

private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    let done: EventLoopPromise<HTTPResult>
    private var result = HTTPResult(status: 0, headers: HTTPHeaders(), body: "", complete: false)

    init(done: EventLoopPromise<HTTPResult>) { self.done = done }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            result.status = Int(head.status.code)
            result.headers = head.headers
        case .body(let buffer):
            result.body += String(buffer: buffer)
        case .end:
            result.complete = true
            done.succeed(result)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        done.succeed(result)  // no-op when already completed
        context.fireChannelInactive()
    }
}

/// Starts a simulator for one test (loopback, port 0, as fast as possible unless `configure`
/// says otherwise), runs `body`, and always shuts it down.
func withSimulator<T>(
    _ configure: (inout SimulatorConfig) -> Void = { _ in },
    _ body: (Simulator) async throws -> T
) async throws -> T {
    var config = SimulatorConfig()
    config.tokensPerSecond = 0
    config.threads = 1
    configure(&config)
    let simulator = try await Simulator.start(config)
    do {
        let result = try await body(simulator)
        await simulator.shutdown()
        return result
    } catch {
        await simulator.shutdown()
        throw error
    }
}

extension Array where Element == JSONValue {
    var types: [String] { map { $0["type"]?.stringValue ?? "?" } }
    /// The terminal event of an `eventsUntilTerminal()` list.
    var terminal: JSONValue { self[count - 1] }

    func deltas(_ type: String = "response.output_text.delta") -> [String] {
        filter { $0["type"]?.stringValue == type }.compactMap { $0["delta"]?.stringValue }
    }
}

extension JSONValue {
    /// `response.output_text` as the SDKs compute it: all output_text parts of message items.
    var outputText: String {
        var text = ""
        for item in self["output"]?.arrayValue ?? [] where item["type"]?.stringValue == "message" {
            for part in item["content"]?.arrayValue ?? [] where part["type"]?.stringValue == "output_text" {
                text += part["text"]?.stringValue ?? ""
            }
        }
        return text
    }
}
