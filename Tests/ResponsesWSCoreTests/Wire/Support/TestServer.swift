import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket
import ResponsesTLS
import ResponsesWSCore

/// Event loops for the in-test servers and for the clients under test (separate threads).
let serverGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let clientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
/// Keepalive tests get loops of their own, so a 10 MB test elsewhere cannot delay their pongs.
let quietServerGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let quietClientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)
/// Connect-timeout tests, which check the stage a timeout names, get a client loop of their
/// own: NIO handles a socket's events before due timers, so on an otherwise idle loop the
/// TCP connect is always seen before the deadline; on the shared loop other tests' work
/// (10 MB messages, thousands of TLS round trips) could hold the connect up past it.
let timeoutClientGroup = MultiThreadedEventLoopGroup(numberOfThreads: 1)

/// What the test server saw.
struct ServerRecord: Sendable {
    struct Request: Sendable {
        var path: String
        /// Lower-cased names → values (repeated headers joined with ", ").
        var headers: [String: String]
        var body: String
    }

    var upgrades: [Request] = []
    var httpRequests: [Request] = []
    var textsReceived = 0
    var pingsReceived = 0
    /// Close codes of close frames the server received (0 for an empty close frame).
    var closeCodesReceived: [UInt16] = []
}

/// A WebSocket + HTTP server on 127.0.0.1:<ephemeral>, plain or TLS, whose behaviour is
/// chosen by the request path:
///
/// WebSocket: `/echo` echoes text and answers pings; `/headers` first sends the upgrade request's
/// headers as text; `/binary` sends a binary frame; `/close-1011` closes with 1011;
/// `/drop` drops TCP on the first message; `/big` answers a message "N" with N bytes;
/// `/fragments` answers with "Hello, world" in three fragments; `/fragments-big` answers "N"
/// with three fragments of N bytes each; `/silent` never answers anything (pings, close frames).
///
/// HTTP (anything under `/status/`, `/sse`, `/json`): `/status/NNN` answers NNN with an OpenAI-style
/// JSON error that echoes the Authorization header; `/sse` streams the fixed `sseScript`;
/// `/sse-echo` sends the request body and headers as two events; `/json` answers a JSON body;
/// `/sse-big` sends a 2000-byte event; `/sse-truncated` drops TCP mid-stream; `/sse-hang` sends
/// one event and then nothing.
final class TestServer: Sendable {
    let port: Int
    let probe: Observed<ServerRecord>
    private let channel: Channel

    private init(channel: Channel, port: Int, probe: Observed<ServerRecord>) {
        self.channel = channel
        self.port = port
        self.probe = probe
    }

    static func start(tls: TLSContext? = nil, group: EventLoopGroup = serverGroup) async throws -> TestServer {
        let probe = Observed(ServerRecord())
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try configure(channel: channel, tls: tls, probe: probe)
                }
            }
        let channel = try await bootstrap.bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw TestTimeout(what: "a bound port") }
        return TestServer(channel: channel, port: port, probe: probe)
    }

    func endpoint(_ path: String, scheme: Endpoint.Scheme = .ws, host: String = "127.0.0.1") -> Endpoint {
        Endpoint(scheme: scheme, host: host, port: port, path: path)
    }

    func stop() async {
        try? await channel.close()
    }

    static let httpPaths = ["/status/", "/sse", "/json"]

    private static func configure(channel: Channel, tls: TLSContext?, probe: Observed<ServerRecord>) throws {
        let sync = channel.pipeline.syncOperations
        if let tls {
            try sync.addHandler(tls.makeServerHandler())
        }
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 26,
            automaticErrorHandling: false,
            shouldUpgrade: { channel, head in
                let isHTTP = httpPaths.contains { head.uri.hasPrefix($0) }
                return channel.eventLoop.makeSucceededFuture(isHTTP ? nil : HTTPHeaders())
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    probe.update { $0.upgrades.append(record(head, body: "")) }
                    try channel.pipeline.syncOperations.addHandler(
                        ScriptedWebSocketHandler(path: head.uri, headers: head.headers, probe: probe))
                }
            })
        let httpHandler = ScriptedHTTPHandler(probe: probe)
        let boundHTTPHandler = NIOLoopBound(httpHandler, eventLoop: channel.eventLoop)
        try sync.configureHTTPServerPipeline(withServerUpgrade: (upgraders: [upgrader], completionHandler: { context in
            context.pipeline.syncOperations.removeHandler(boundHTTPHandler.value, promise: nil)
        }))
        try sync.addHandler(httpHandler)
    }

    static func record(_ head: HTTPRequestHead, body: String) -> ServerRecord.Request {
        var headers: [String: String] = [:]
        for (name, value) in head.headers {
            let key = name.lowercased()
            headers[key] = headers[key].map { "\($0), \(value)" } ?? value
        }
        return ServerRecord.Request(path: head.uri, headers: headers, body: body)
    }
}

/// Accepts TCP connections and never answers (for connect-timeout tests).
final class SilentTCPServer: Sendable {
    let port: Int
    private let channel: Channel

    private init(channel: Channel, port: Int) {
        self.channel = channel
        self.port = port
    }

    static func start() async throws -> SilentTCPServer {
        let channel = try await ServerBootstrap(group: serverGroup)
            .childChannelInitializer { $0.eventLoop.makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw TestTimeout(what: "a bound port") }
        return SilentTCPServer(channel: channel, port: port)
    }

    func stop() async {
        try? await channel.close()
    }
}

/// A port that refuses connections: bound, then closed.
func closedPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: serverGroup).bind(host: "127.0.0.1", port: 0).get()
    guard let port = channel.localAddress?.port else { throw TestTimeout(what: "a bound port") }
    try await channel.close()
    return port
}

// MARK: - WebSocket behaviours

final class ScriptedWebSocketHandler: ChannelInboundHandler {
    typealias InboundIn = WebSocketFrame
    typealias OutboundOut = WebSocketFrame

    private let path: String
    private let headers: HTTPHeaders
    private let probe: Observed<ServerRecord>
    private var sentClose = false

    init(path: String, headers: HTTPHeaders, probe: Observed<ServerRecord>) {
        self.path = String(path.prefix { $0 != "?" })
        self.headers = headers
        self.probe = probe
    }

    func handlerAdded(context: ChannelHandlerContext) {
        switch path {
        case "/headers":
            let text = headers.map { "\($0.name.lowercased()): \($0.value)" }.joined(separator: "\n")
            send(.text, text, context: context)
        case "/binary":
            send(.binary, "\u{1}\u{2}\u{3}", context: context)
        case "/close-1011":
            var payload = ByteBuffer()
            payload.writeInteger(UInt16(1011))
            payload.writeString("server exploded")
            sentClose = true
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: payload)), promise: nil)
        default:
            break
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch frame.opcode {
        case .text:
            probe.update { $0.textsReceived += 1 }
            let payload = frame.unmaskedData
            let text = String(buffer: payload)
            switch path {
            case "/drop":
                context.close(promise: nil)
            case "/big":
                send(.text, String(repeating: "x", count: Int(text) ?? 0), context: context)
            case "/fragments":
                sendFragments(["Hel", "lo, ", "world"], context: context)
            case "/fragments-big":
                let piece = String(repeating: "y", count: Int(text) ?? 0)
                sendFragments([piece, piece, piece], context: context)
            case "/silent":
                break
            case "/burst":
                // N messages in one write: the client gets them in one socket read.
                for index in 0..<(Int(text) ?? 0) {
                    let frame = WebSocketFrame(fin: true, opcode: .text, data: ByteBuffer(string: "b\(index)"))
                    context.write(wrapOutboundOut(frame), promise: nil)
                }
                context.flush()
            default:
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .text, data: payload)), promise: nil)
            }
        case .ping:
            probe.update { $0.pingsReceived += 1 }
            guard path != "/silent" else { return }
            context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .pong, data: frame.unmaskedData)), promise: nil)
        case .connectionClose:
            var payload = frame.unmaskedData
            let code = payload.readInteger(as: UInt16.self) ?? 0
            probe.update { $0.closeCodesReceived.append(code) }
            if path == "/silent" {
                return  // never answers, not even a close
            } else if sentClose {
                context.close(promise: nil)
            } else {
                sentClose = true
                var echo = ByteBuffer()
                echo.writeInteger(code)
                context.writeAndFlush(wrapOutboundOut(WebSocketFrame(fin: true, opcode: .connectionClose, data: echo)))
                    .assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            }
        default:
            break
        }
    }

    private func send(_ opcode: WebSocketOpcode, _ text: String, context: ChannelHandlerContext) {
        let frame = WebSocketFrame(fin: true, opcode: opcode, data: ByteBuffer(string: text))
        context.writeAndFlush(wrapOutboundOut(frame), promise: nil)
    }

    private func sendFragments(_ pieces: [String], context: ChannelHandlerContext) {
        for (index, piece) in pieces.enumerated() {
            let frame = WebSocketFrame(
                fin: index == pieces.count - 1,
                opcode: index == 0 ? .text : .continuation,
                data: ByteBuffer(string: piece))
            context.write(wrapOutboundOut(frame), promise: nil)
        }
        context.flush()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A path that is not upgraded makes the WebSocket upgrader report an error before
        // the request is passed on to this handler: that is expected.
        if error is NIOWebSocketUpgradeError { return }
        context.close(promise: nil)
    }
}

// MARK: - HTTP behaviours

/// The `/sse` script: comments, `event:` lines, multi-line data, CRLF and LF line ends, a line
/// end split across chunks, and `[DONE]`.
let sseScript: [String] = [
    ": keepalive comment\r\n\r\n",
    "event: response.created\r\ndata: {\"a\":1}\r\n\r\n",
    "event: response.output_text.delta\ndata: {\"multi\":\ndata: 2}\nid: 7\n\n",
    "data: {\"split\":tr",
    "ue}\r",
    "\n\r\n",
    "retry: 1000\ndata:{\"nospace\":true}\n\n",
    "data: [DONE]\n\n",
]
let sseExpectedEvents = ["{\"a\":1}", "{\"multi\":\n2}", "{\"split\":true}", "{\"nospace\":true}"]

final class ScriptedHTTPHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let probe: Observed<ServerRecord>
    private var head: HTTPRequestHead?
    private var body = ByteBuffer()

    init(probe: Observed<ServerRecord>) {
        self.probe = probe
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
            body.clear()
        case .body(var chunk):
            body.writeBuffer(&chunk)
        case .end:
            guard let head else { return }
            let request = TestServer.record(head, body: String(buffer: body))
            probe.update { $0.httpRequests.append(request) }
            respond(to: request, context: context)
        }
    }

    private func respond(to request: ServerRecord.Request, context: ChannelHandlerContext) {
        let path = request.path
        if path.hasPrefix("/status/"), let code = Int(path.dropFirst("/status/".count)) {
            let auth = request.headers["authorization"] ?? ""
            let json = "{\"error\":{\"message\":\"Incorrect API key provided: \(auth)\",\"type\":\"invalid_request_error\",\"code\":\"status_\(code)\"}}"
            respond(status: HTTPResponseStatus(statusCode: code), contentType: "application/json", chunks: [json], context: context)
            return
        }
        switch path {
        case "/sse":
            respond(status: .ok, contentType: "text/event-stream", chunks: sseScript, context: context)
        case "/sse-echo":
            let headerLines = request.headers.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            let chunks = ["data: \(request.body)\n\n", "data: " + headerLines.joined(separator: "\ndata: ") + "\n\n"]
            respond(status: .ok, contentType: "text/event-stream", chunks: chunks, context: context)
        case "/json":
            respond(status: .ok, contentType: "application/json", chunks: ["{\"id\":\"resp_1\",", "\"status\":\"completed\"}"], context: context)
        case "/sse-big":
            respond(status: .ok, contentType: "text/event-stream", chunks: ["data: " + String(repeating: "z", count: 2000) + "\n\n"], context: context)
        case "/sse-truncated", "/sse-hang":
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: "text/event-stream")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .ok, headers: headers))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "data: {\"n\":1}\n\n")))), promise: nil)
            if path == "/sse-truncated" { context.close(promise: nil) }
        default:
            respond(status: .notFound, contentType: "text/plain", chunks: ["no such path"], context: context)
        }
    }

    private func respond(status: HTTPResponseStatus, contentType: String, chunks: [String], context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: contentType)
        if chunks.count == 1 { headers.add(name: "Content-Length", value: "\(chunks[0].utf8.count)") }
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))), promise: nil)
        for chunk in chunks {
            context.writeAndFlush(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: chunk)))), promise: nil)
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        // A path that is not upgraded makes the WebSocket upgrader report an error before
        // the request is passed on to this handler: that is expected.
        if error is NIOWebSocketUpgradeError { return }
        context.close(promise: nil)
    }
}
