import COpenSSL
import Foundation
import NIOCore
import NIOPosix
@testable import ResponsesWSCore

/// A server that answers the WebSocket upgrade with bytes a test writes by hand, in ONE write,
/// then (optionally) closes TCP: for answers a well-behaved server library will not produce
/// (frames glued to the 101, extensions nobody offered). Records every byte the client sent.
final class RawUpgradeServer: Sendable {
    let port: Int
    struct Log: Sendable {
        /// Everything each client sent, by connection.
        var bytes: [[UInt8]] = []
        /// Connections that have closed.
        var closed = 0
    }

    let received: Observed<Log>
    private let channel: Channel

    /// `answer` gets the upgrade's `Sec-WebSocket-Accept` value and returns the bytes to write.
    /// With `reply`, the connection stays open and `reply` is written once when the client's
    /// first bytes after the upgrade (its request) arrive.
    static func start(closeAfterAnswer: Bool = true, reply: [UInt8]? = nil,
                      answer: @escaping @Sendable (_ accept: String) -> [UInt8]) async throws -> RawUpgradeServer {
        let received = Observed(Log())
        let channel = try await ServerBootstrap(group: serverGroup)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        Handler(answer: answer, reply: reply, closeAfterAnswer: closeAfterAnswer && reply == nil, received: received))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return RawUpgradeServer(channel: channel, port: channel.localAddress!.port!, received: received)
    }

    private init(channel: Channel, port: Int, received: Observed<Log>) {
        self.channel = channel
        self.port = port
        self.received = received
    }

    func stop() async { try? await channel.close() }

    /// RFC 6455 §4.2.2: base64(SHA-1(key + GUID)).
    static func accept(forKey key: String) -> String {
        let input = Array((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").utf8)
        var digest = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        _ = EVP_Digest(input, input.count, &digest, &length, EVP_sha1(), nil)
        return Data(digest).base64EncodedString()
    }

    /// "HTTP/1.1 101" with the headers a valid upgrade needs, plus `extra` header lines.
    static func switchingProtocols(accept: String, extra: [String] = []) -> [UInt8] {
        let lines = ["HTTP/1.1 101 Switching Protocols", "Upgrade: websocket", "Connection: Upgrade",
                     "Sec-WebSocket-Accept: \(accept)"] + extra
        return Array((lines.joined(separator: "\r\n") + "\r\n\r\n").utf8)
    }

    /// An unmasked server frame (payloads under 64 KiB).
    static func frame(_ opcode: UInt8, _ payload: [UInt8]) -> [UInt8] {
        if payload.count < 126 { return [0x80 | opcode, UInt8(payload.count)] + payload }
        return [0x80 | opcode, 126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] + payload
    }

    /// Runs `count` turns, each on a new session of one client whose base URL is this server,
    /// configured further by `configure`; returns their results in order.
    func turns(_ count: Int = 1, configure: (inout ClientConfig) -> Void) throws -> [(TurnResult, [PendingEvent])] {
        var config = ClientConfig()
        config.baseURL = "http://127.0.0.1:\(port)/v1"
        configure(&config)
        let client = try ResponsesClient(config)
        defer { try? client.shutdown() }
        return try (0..<count).map { _ in
            let session = try client.makeSession(defaults: defaults)
            defer { try? session.close() }
            return try session.run(#"{"input":"hi"}"#)
        }
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let answer: @Sendable (String) -> [UInt8]
        var reply: [UInt8]?
        let closeAfterAnswer: Bool
        let received: Observed<Log>
        var request: [UInt8] = []
        var index: Int?
        var answered = false

        init(answer: @escaping @Sendable (String) -> [UInt8], reply: [UInt8]?, closeAfterAnswer: Bool, received: Observed<Log>) {
            self.answer = answer
            self.reply = reply
            self.closeAfterAnswer = closeAfterAnswer
            self.received = received
        }

        func channelActive(context: ChannelHandlerContext) {
            received.update { log in
                index = log.bytes.count
                log.bytes.append([])
            }
        }

        func channelInactive(context: ChannelHandlerContext) {
            received.update { $0.closed += 1 }
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let bytes = Array(unwrapInboundIn(data).readableBytesView)
            let slot = index!
            received.update { $0.bytes[slot] += bytes }
            if answered, let bytes = reply {
                reply = nil
                context.writeAndFlush(NIOAny(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
                return
            }
            guard !answered else { return }
            request += bytes
            let text = String(decoding: request, as: UTF8.self)
            guard text.contains("\r\n\r\n") else { return }
            answered = true
            let key = text.split(separator: "\r\n")
                .first { $0.lowercased().hasPrefix("sec-websocket-key:") }
                .map { $0.dropFirst("sec-websocket-key:".count).trimmingCharacters(in: .whitespaces) } ?? ""
            let out = context.channel.allocator.buffer(bytes: answer(RawUpgradeServer.accept(forKey: key)))
            let write = context.writeAndFlush(NIOAny(out))
            if closeAfterAnswer {
                write.whenComplete { _ in context.close(promise: nil) }
            }
        }
    }
}
