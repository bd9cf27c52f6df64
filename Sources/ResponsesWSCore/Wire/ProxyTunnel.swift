import NIOCore
import NIOHTTP1
import NIOSOCKS
#if canImport(Glibc)
import Glibc
#endif

/// The first stage of a connection made through a proxy: the handlers that ask the proxy for a
/// tunnel to the destination. When the tunnel is open they leave the pipeline and `established`
/// runs on the event loop, which then adds TLS (to the destination: its name for SNI and
/// certificate verification) and the WebSocket or HTTP handlers, exactly as for a direct
/// connection. Any failure reaches `failed` once, as a `.proxy` error naming the proxy without
/// its credentials.
enum ProxyTunnel {
    typealias Established = (Channel) -> Void
    typealias Failed = (TransportError) -> Void

    /// `resolved`: for `socks5://`, the destination's address, looked up by the caller.
    static func add(to channel: Channel, proxy: Proxy, source: String, destination: Endpoint,
                    resolved: SocketAddress?, established: @escaping Established, failed: @escaping Failed) throws {
        let report = ProxyReport(proxy: proxy, source: source, destination: destination, failed: failed)
        let pipeline = channel.pipeline.syncOperations
        switch proxy.kind {
        case .httpConnect:
            let encoder = HTTPRequestEncoder()
            let decoder = ByteToMessageHandler(HTTPResponseDecoder(leftOverBytesStrategy: .forwardBytes))
            try pipeline.addHandler(encoder)
            try pipeline.addHandler(decoder)
            try pipeline.addHandler(HTTPConnectHandler(
                proxy: proxy, destination: destination, codec: [encoder, decoder], report: report, established: established))
        case .socks5, .socks5h:
            let target: SOCKSAddress = resolved.map { .address($0) } ?? .domain(destination.host, port: destination.port)
            let socks = SOCKSClientHandler(targetAddress: target)
            try pipeline.addHandler(socks)
            try pipeline.addHandler(SOCKSWatcher(socks: socks, report: report, established: established))
        }
    }

    /// A TCP connect failure to the proxy itself, said as such.
    static func unreachable(_ proxy: Proxy, source: String, cause: TransportError) -> TransportError {
        TransportError(.proxy, "cannot reach the proxy \(proxy) (from \(source)): \(cause.message); the connection is not made directly instead (fail closed): fix or unset \(source)")
    }
}

/// What a tunnel handler needs to word its failure.
struct ProxyReport {
    let proxy: Proxy
    let source: String
    let destination: Endpoint
    let failed: ProxyTunnel.Failed

    func fail(_ why: String, httpStatus: Int? = nil) {
        failed(TransportError(.proxy, "proxy \(proxy) (from \(source)) could not open a tunnel to \(destination.hostAndPort): \(why)",
                              httpStatus: httpStatus))
    }
}

/// HTTP CONNECT (RFC 9110 §9.3.6) over NIO's request encoder and response decoder, which sit in
/// front of this handler until the proxy's answer head has arrived.
private final class HTTPConnectHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let proxy: Proxy
    private let destination: Endpoint
    private let codec: [any RemovableChannelHandler]
    private let report: ProxyReport
    private let established: ProxyTunnel.Established
    private var sent = false
    private var accepted = false
    private var done = false

    init(proxy: Proxy, destination: Endpoint, codec: [any RemovableChannelHandler], report: ProxyReport,
         established: @escaping ProxyTunnel.Established) {
        self.proxy = proxy
        self.destination = destination
        self.codec = codec
        self.report = report
        self.established = established
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { sendConnect(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendConnect(context: context)
        context.fireChannelActive()
    }

    private func sendConnect(context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        let authority = destination.hostAndPort
        var headers = HTTPHeaders([("Host", authority), ("User-Agent", ClientConfig.userAgent)])
        if let authorization = proxy.basicAuthorization { headers.add(name: "Proxy-Authorization", value: authorization) }
        let head = HTTPRequestHead(version: .http1_1, method: .CONNECT, uri: authority, headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            let status = Int(head.status.code)
            guard (200..<300).contains(status) else {
                done = true
                report.fail(Self.refusal(head), httpStatus: status)
                return
            }
            accepted = true
        case .body:
            break   // a 2xx CONNECT answer has none (the decoder knows the method); a refusal's is ignored
        case .end:
            guard accepted else { return }
            done = true
            openTunnel(context: context)
        }
    }

    /// Takes the HTTP codec and this handler out: from here on the bytes are the destination's.
    /// NIO removes a decoder on a later loop tick, so the next stage is added once both are gone.
    private func openTunnel(context: ChannelHandlerContext) {
        let channel = context.channel
        let loop = context.eventLoop
        let pipeline = context.pipeline.syncOperations
        let removals = codec.map { handler -> EventLoopFuture<Void> in
            let removed = loop.makePromise(of: Void.self)
            pipeline.removeHandler(handler, promise: removed)
            return removed.futureResult
        }
        pipeline.removeHandler(context: context, promise: nil)
        let report = self.report
        let established = self.established
        EventLoopFuture.andAllSucceed(removals, on: loop).assumeIsolated().whenComplete { result in
            switch result {
            case .success: established(channel)
            case .failure(let error): report.fail("could not remove the HTTP codec after the tunnel opened: \(error)")
            }
        }
    }

    private static func refusal(_ head: HTTPResponseHead) -> String {
        let status = "\(head.status.code) \(head.status.reasonPhrase)"
        switch head.status.code {
        case 407, 401:
            // 401: what some proxies send instead of 407 (tinyproxy 1.11 does, measured).
            return "\(status): the proxy wants credentials, or refused the ones given; put them in the proxy URL as http://user:password@host:port (percent-encode special characters)"
        case 403:
            return "\(status): the proxy does not allow this destination or port; ask its administrator, or add the host to no_proxy if it should be reached directly"
        case 502, 503, 504:
            return "\(status): the proxy could not reach the server"
        default:
            return "the proxy answered \(status) instead of 2xx"
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            report.fail("the proxy closed the connection before answering the CONNECT request")
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !done else { return context.fireErrorCaught(error) }
        done = true
        if error is HTTPParserError {
            report.fail("the proxy's answer is not HTTP (\(error)); is it an HTTP proxy? For a SOCKS proxy use socks5:// or socks5h://")
        } else {
            report.fail("\(error)")
        }
    }
}

/// Watches NIOSOCKS's client handler: its established event, its errors, an early close.
private final class SOCKSWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let socks: SOCKSClientHandler
    private let report: ProxyReport
    private let established: ProxyTunnel.Established
    private var done = false

    init(socks: SOCKSClientHandler, report: ProxyReport, established: @escaping ProxyTunnel.Established) {
        self.socks = socks
        self.report = report
        self.established = established
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is SOCKSProxyEstablishedEvent, !done else { return context.fireUserInboundEventTriggered(event) }
        done = true
        let channel = context.channel
        let pipeline = context.pipeline.syncOperations
        pipeline.removeHandler(socks, promise: nil)
        pipeline.removeHandler(context: context, promise: nil)
        established(channel)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !done {
            done = true
            report.fail("the SOCKS proxy closed the connection during its handshake")
        }
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !done else { return context.fireErrorCaught(error) }
        done = true
        report.fail(Self.describe(error))
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case let failed as SOCKSError.ConnectionFailed:
            return "SOCKS5 reply \(failed.reply.value): \(Self.reply(failed.reply.value))"
        case is SOCKSError.NoValidAuthenticationMethod, is SOCKSError.InvalidAuthenticationSelection:
            return "the SOCKS proxy requires authentication; this library's SOCKS5 client offers none (use a proxy without authentication, or an http:// proxy with Basic auth)"
        case is SOCKSError.InvalidProtocolVersion:
            return "the proxy does not speak SOCKS5; for an HTTP proxy use http://"
        default:
            return "SOCKS5 handshake failed: \(error)"
        }
    }

    /// RFC 1928 §6 reply codes.
    private static func reply(_ code: UInt8) -> String {
        switch code {
        case 1: return "general SOCKS server failure"
        case 2: return "connection not allowed by the proxy's rules"
        case 3: return "network unreachable from the proxy"
        case 4: return "host unreachable from the proxy"
        case 5: return "connection refused by the server (as seen from the proxy)"
        case 6: return "TTL expired"
        case 7: return "command not supported by the proxy"
        case 8: return "address type not supported by the proxy (for a host name, try socks5:// so that it is resolved here)"
        default: return "unknown reply code"
        }
    }
}

/// Through a proxy, every read is ACKed at once (TCP_QUICKACK; Linux clears it again, so it is
/// set after each read). Why: proxies that relay without TCP_NODELAY (tinyproxy and microsocks
/// do) hold each small segment until the previous one is ACKed, and Linux delays an ACK by up
/// to 40 ms. Measured with `rws loop --turns 20 --sim-tokens-per-second 0 --proxy ...`: 88 ms
/// per WebSocket turn through tinyproxy without it. One setsockopt per read, not per event;
/// direct connections do not have this handler.
final class QuickAckHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private static let option = ChannelOptions.Types.SocketOption(level: .tcp, name: NIOBSDSocket.Option(rawValue: TCP_QUICKACK))

    func handlerAdded(context: ChannelHandlerContext) {
        quickAck(context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        quickAck(context)
        context.fireChannelReadComplete()
    }

    private func quickAck(_ context: ChannelHandlerContext) {
        // Best effort: a socket that refuses it only loses the speed-up.
        try? context.channel.syncOptions?.setOption(Self.option, value: 1)
    }
}

/// RWS_NO_QUICKACK=1 turns QuickAckHandler off, to measure what it buys in the same build.
enum ProcessEnvironment {
    static let quickAckThroughProxies = getenv("RWS_NO_QUICKACK") == nil
}
