#if RWS_FUZZING || DEBUG

import Dispatch
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOWebSocket
@testable import ResponsesWSCore

/// What a connection attempt or request ended with, in a form two runs can compare.
struct Ending: Equatable {
    var kind: TransportError.Kind?
    var httpStatus: Int?
    var closeCode: UInt16?
    var body: String?

    init(_ error: TransportError?) {
        kind = error?.kind
        httpStatus = error?.httpStatus
        closeCode = error?.closeCode
        body = error?.body
    }
}

/// The server's bytes go in as reads of an `EmbeddedChannel`, then the server closes TCP (which
/// ends a close-delimited body). Returns once the channel and its loop are shut down, so each
/// input starts from nothing and leaves nothing behind (the leak check runs per input).
func serve(_ bytes: [UInt8], _ plan: [Range<Int>], to channel: EmbeddedChannel, loop: EmbeddedEventLoop) {
    for range in plan {
        guard channel.isActive else { break }
        var read = channel.allocator.buffer(capacity: range.count)
        read.writeBytes(bytes[range])
        _ = try? channel.writeInbound(read)
        loop.run()
    }
    _ = try? channel.close().wait()
    loop.run()
}

func shutDown(_ channel: EmbeddedChannel, _ loop: EmbeddedEventLoop) {
    _ = try? channel.finish(acceptAlreadyClosed: true)
    try? loop.syncShutdownGracefully()
}

// MARK: - WebSocket upgrade answer

/// The input is the server's answer to the upgrade GET, and whatever frames follow a 101. The
/// pipeline is the one `WebSocketConnection.connect` builds (NIO's HTTP client handlers with
/// `WebSocketUpgrader`, `WebSocketHandshakeHandler`, then `WebSocketFrameHandler`). The request
/// carries a random Sec-WebSocket-Key, so RFC 6455's sample Accept in the input is replaced by
/// the one that key needs: a fuzzed 101 can then pass. The attempt must end exactly once, the
/// same however the bytes are cut, and never as an open connection without that Accept.
enum UpgradeTarget {
    static let sampleAccept = Array("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=".utf8)

    struct Outcome: Equatable {
        var opened = false
        var failure: Ending?
        var texts: [[UInt8]] = []
        var closes: [Ending] = []
    }

    final class Recorder: WebSocketConnectionDelegate {
        let limit: Int
        var outcome = Outcome()
        init(limit: Int) { self.limit = limit }

        func webSocket(_ connection: WebSocketConnection, didReceiveText message: ByteBuffer) {
            require(outcome.closes.isEmpty, "a text message after the close was reported")
            require(message.readableBytes <= limit, "a \(message.readableBytes)-byte message passed the \(limit)-byte limit")
            outcome.texts.append(Array(message.readableBytesView))
        }

        func webSocket(_ connection: WebSocketConnection, didCloseWith error: TransportError?) {
            outcome.closes.append(Ending(error))
        }
    }

    /// The Sec-WebSocket-Accept a server computes for the key in the request the channel sent.
    static func accept(forRequestSentOn channel: EmbeddedChannel) -> [UInt8] {
        var request = ""
        while let part = try? channel.readOutbound(as: IOData.self) {
            if case .byteBuffer(let bytes) = part { request += String(buffer: bytes) }
        }
        let prefix = "sec-websocket-key:"
        guard let line = request.split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix(prefix) }) else {
            require(false, "the upgrade request has no Sec-WebSocket-Key: \(request)")
            return []
        }
        let key = line.dropFirst(prefix.count).trimmingPrefix(while: { $0 == " " })
        let server = NIOWebSocketServerUpgrader(
            shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
            upgradePipelineHandler: { channel, _ in channel.eventLoop.makeSucceededVoidFuture() })
        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: "/", headers: [
            "Sec-WebSocket-Key": String(key), "Sec-WebSocket-Version": "13",
        ])
        let headers = try? server.buildUpgradeResponse(channel: channel, upgradeRequest: head, initialResponseHeaders: [:]).wait()
        return Array((headers?.first(name: "Sec-WebSocket-Accept") ?? "").utf8)
    }

    /// `bytes` with every occurrence of `old` replaced by `new` (same length).
    static func replacing(_ old: [UInt8], with new: [UInt8], in bytes: [UInt8]) -> [UInt8] {
        guard old.count == new.count, bytes.count >= old.count else { return bytes }
        var out = bytes
        var i = 0
        while i + old.count <= out.count {
            if out[i..<(i + old.count)].elementsEqual(old) {
                out.replaceSubrange(i..<(i + old.count), with: new)
                i += old.count
            } else {
                i += 1
            }
        }
        return out
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        var choices = Choices(data)
        let limit = choices.pick([16, 4096, 1 << 20])
        let bytes = Array(data)
        var first: Outcome?
        for plan in choices.readPlans(count: bytes.count, random: 1, bytewiseUpTo: 24) {
            let outcome = upgrade(bytes, plan, limit: limit)
            if outcome.opened {
                require(contains(bytes, sampleAccept), "upgraded without the right Sec-WebSocket-Accept")
            }
            if let first {
                require(outcome == first, "reads \(plan.map(\.count)) gave \(outcome), one read gave \(first)")
            } else {
                first = outcome
                if verbose { print(outcome) }
            }
        }
    }

    static func upgrade(_ bytes: [UInt8], _ plan: [Range<Int>], limit: Int) -> Outcome {
        let loop = EmbeddedEventLoop()
        let channel = EmbeddedChannel(loop: loop)
        let endpoint = Endpoint(scheme: .ws, host: "127.0.0.1", port: 8080, path: "/v1/responses")
        let config = ConnectionConfig(maxMessageBytes: limit, pingInterval: nil)
        let recorder = Recorder(limit: limit)
        let attempt = ConnectAttempt<WebSocketConnection>(
            endpoint: endpoint, tls: nil, timeout: .seconds(10), finalPhase: .upgrade, eventLoop: loop)
        attempt.channel = channel
        var completions = 0
        attempt.futureResult.assumeIsolated().whenComplete { result in
            completions += 1
            switch result {
            case .success: recorder.outcome.opened = true
            case .failure(let error): recorder.outcome.failure = Ending(error as? TransportError)
            }
        }
        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: endpoint.path, headers: ["Host": "127.0.0.1:8080"])
        do {
            // The production pipeline (UpgradeEndHold, NIO's HTTP client handlers with our
            // upgrader, the handshake handler, then the frame handler).
            try WebSocketConnection.addUpgradeHandlers(
                to: channel, request: request, endpoint: endpoint, tls: nil, config: config,
                attempt: attempt, delegate: recorder, redactor: CredentialRedactor(headers: []),
                // RFC 6455's sample key: its Accept is the seeds' sampleAccept, the same every run.
                requestKey: "dGhlIHNhbXBsZSBub25jZQ==")
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        } catch {
            require(false, "setting up the pipeline failed: \(error)")
        }
        attempt.tcpConnected()
        let accept = accept(forRequestSentOn: channel)
        serve(replacing(sampleAccept, with: accept, in: bytes), plan, to: channel, loop: loop)
        require(completions == 1, "the upgrade attempt completed \(completions) times")
        // The Accept differs per run: where it comes back (an error body, a text message),
        // put the sample back so that runs compare.
        var outcome = recorder.outcome
        outcome.texts = outcome.texts.map { replacing(accept, with: sampleAccept, in: $0) }
        if let body = outcome.failure?.body {
            outcome.failure?.body = String(decoding: replacing(accept, with: sampleAccept, in: Array(body.utf8)), as: UTF8.self)
        }
        require(outcome.closes.count == (outcome.opened ? 1 : 0), "\(outcome.closes.count) close reports for \(outcome.opened ? "an open" : "a refused") connection")
        shutDown(channel, loop)
        return outcome
    }
}

// MARK: - HTTP POST answer

/// The input is the server's answer to `POST /v1/responses`: SSE, a JSON body, or an error
/// status, with Content-Length, chunked or close-delimited bodies. `HTTPResponseStreamHandler`
/// behind NIO's HTTP client handlers must report the same events and the same ending however
/// the bytes are cut, exactly one ending, and no event over the limit.
enum PostTarget {
    struct Outcome: Equatable {
        var events: [[UInt8]] = []
        var endings: [Ending] = []
    }

    final class Recorder: HTTPStreamDelegate {
        let limit: Int
        var outcome = Outcome()
        init(limit: Int) { self.limit = limit }

        func httpStream(_ stream: HTTPSSEConnection, didReceiveEvent data: ByteBuffer) {
            require(outcome.endings.isEmpty, "an event after the request finished")
            require(data.readableBytes <= limit, "a \(data.readableBytes)-byte event passed the \(limit)-byte limit")
            outcome.events.append(Array(data.readableBytesView))
        }

        func httpStream(_ stream: HTTPSSEConnection, didFinishWith error: TransportError?) {
            outcome.endings.append(Ending(error))
        }
    }

    /// `HTTPSSEConnection` can only be made by `post`, which connects at once when called on
    /// its loop. This loop says "not on the loop" during `post`, so the connect is queued
    /// here instead, and run only after the request finished (it then returns at once); then
    /// it says "on the loop" and the harness stands in for the socket.
    final class DeferringLoop: EventLoop, @unchecked Sendable {
        let base: EmbeddedEventLoop
        var onLoop = false
        private var queued: [@Sendable () -> Void] = []
        init(_ base: EmbeddedEventLoop) { self.base = base }

        var inEventLoop: Bool { onLoop }
        func execute(_ task: @escaping @Sendable () -> Void) { queued.append(task) }
        func runQueued() {
            let tasks = queued
            queued = []
            for task in tasks { task() }
        }
        func scheduleTask<T>(deadline: NIODeadline, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
            base.scheduleTask(deadline: deadline, task)
        }
        func scheduleTask<T>(in delay: TimeAmount, _ task: @escaping @Sendable () throws -> T) -> Scheduled<T> {
            base.scheduleTask(in: delay, task)
        }
        func shutdownGracefully(queue: DispatchQueue, _ callback: @escaping @Sendable (Error?) -> Void) {
            base.shutdownGracefully(queue: queue, callback)
        }
    }

    static func run(_ data: UnsafeRawBufferPointer) {
        var choices = Choices(data)
        let limit = choices.pick([8, 4096, 1 << 20])
        let bytes = Array(data)
        var first: Outcome?
        for plan in choices.readPlans(count: bytes.count, random: 1, bytewiseUpTo: 24) {
            let outcome = post(bytes, plan, limit: limit)
            guard let first else {
                first = outcome
                if verbose { print(outcome) }
                continue
            }
            // As in SSETarget: an unterminated SSE line over the limit is refused as soon as it
            // is too long, so cut reads may end in messageTooBig where one read ends otherwise.
            let tooBig = [outcome, first].filter { $0.endings.first?.kind == .messageTooBig }
            if tooBig.isEmpty || tooBig.count == 2 {
                let same = tooBig.isEmpty ? outcome == first
                    : (outcome.events.starts(with: first.events) || first.events.starts(with: outcome.events))
                require(same, "reads \(plan.map(\.count)) gave \(outcome), one read gave \(first)")
            } else {
                let other = tooBig[0] == outcome ? first : outcome
                require(other.events.starts(with: tooBig[0].events), "reads \(plan.map(\.count)) gave \(outcome), one read gave \(first)")
            }
        }
    }

    static func post(_ bytes: [UInt8], _ plan: [Range<Int>], limit: Int) -> Outcome {
        let loop = EmbeddedEventLoop()
        let deferring = DeferringLoop(loop)
        let endpoint = Endpoint(scheme: .http, host: "127.0.0.1", port: 8080, path: "/v1/responses")
        let body = ByteBuffer(string: #"{"stream":true,"input":[]}"#)
        let recorder = Recorder(limit: limit)
        let connection = HTTPSSEConnection.post(
            to: endpoint, body: body, config: ConnectionConfig(maxMessageBytes: limit, pingInterval: nil),
            on: deferring, delegate: recorder)
        deferring.onLoop = true

        let channel = EmbeddedChannel(loop: loop)
        let attempt = ConnectAttempt<Void>(endpoint: endpoint, tls: nil, timeout: .seconds(10), finalPhase: .request, eventLoop: loop)
        attempt.channel = channel
        let request = HTTPRequestHead(version: .http1_1, method: .POST, uri: endpoint.path, headers: ["Host": "127.0.0.1:8080"])
        do {
            try channel.pipeline.syncOperations.addHTTPClientHandlers()
            try channel.pipeline.syncOperations.addHandler(HTTPResponseStreamHandler(
                connection: connection, attempt: attempt, request: request, body: body,
                maxMessageBytes: limit, redactor: CredentialRedactor(headers: [])))
            try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8080)).wait()
        } catch {
            require(false, "setting up the pipeline failed: \(error)")
        }
        attempt.tcpConnected()
        require(attempt.isComplete, "the request was written but the attempt did not complete")
        serve(bytes, plan, to: channel, loop: loop)
        require(recorder.outcome.endings.count == 1, "the request finished \(recorder.outcome.endings.count) times")
        connection.cancel()   // no-op once finished
        deferring.runQueued()  // the connect `post` queued: returns at once, the request is finished
        shutDown(channel, loop)
        return recorder.outcome
    }
}

#endif
