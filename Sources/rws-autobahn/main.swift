// The Autobahn echo client: drives the library's own WebSocket client (WebSocketConnection, the
// code every turn uses) through a fuzzing server's cases. Test-only; Tests/autobahn/run.py starts
// the server (kosoku) and this program, and judges the results.
//
//   rws-autobahn HOST:PORT [AGENT] [--deflate]
//
// --deflate offers permessage-deflate (RFC 7692), for the compression cases (groups 12 and 13);
// --deflate-no-context-takeover also offers client_no_context_takeover (cases 13.2, 13.5, 13.6,
// whose server accepts only that offer).
//
// Protocol of the fuzzing server: /getCaseCount answers with one text message (the count),
// /runCase?case=N&agent=A runs case N (we echo every text message back), /updateReports ends
// the run. Binary messages are not echoed: this library refuses them (close 1003), as the
// Responses API never sends one.
import Foundation
import NIOCore
import NIOPosix
import ResponsesWSCore

/// Echoes text and reports the close. Runs on the connection's event loop.
final class Echo: WebSocketConnectionDelegate {
    let closed: EventLoopPromise<TransportError?>
    private(set) var firstText: String?
    weak var connection: WebSocketConnection?

    init(closed: EventLoopPromise<TransportError?>) { self.closed = closed }

    func webSocket(_ connection: WebSocketConnection, didReceiveText message: ByteBuffer) {
        if firstText == nil { firstText = String(buffer: message) }
        _ = connection.sendText(message)
    }

    func webSocket(_ connection: WebSocketConnection, didCloseWith error: TransportError?) {
        closed.succeed(error)
    }
}

let noContextTakeover = CommandLine.arguments.contains("--deflate-no-context-takeover")
let deflate = noContextTakeover || CommandLine.arguments.contains("--deflate")
let arguments = CommandLine.arguments.filter { !$0.hasPrefix("--deflate") }
guard arguments.count >= 2 else {
    FileHandle.standardError.write("usage: rws-autobahn HOST:PORT [AGENT] [--deflate]\n".data(using: .utf8)!)
    exit(2)
}
let address = arguments[1]
let agent = arguments.count > 2 ? arguments[2] : "responses-ws"
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
let config = {
    var config = ConnectionConfig(connectTimeout: .seconds(30), pingInterval: nil, closeTimeout: .seconds(5))
    config.perMessageDeflate = deflate
    config.deflateOffersClientNoContextTakeover = noContextTakeover
    return config
}()

/// Opens `path`, echoes until the connection ends; returns the first text message and how it ended.
func run(_ path: String) throws -> (firstText: String?, end: TransportError?) {
    let endpoint = try Endpoint(url: "ws://\(address)\(path)")
    let loop = group.next()
    let echo = Echo(closed: loop.makePromise())
    do {
        _ = try WebSocketConnection.connect(to: endpoint, config: config, on: loop, delegate: echo).wait()
    } catch {
        echo.closed.succeed(nil)   // never opened: no close will be reported
        throw error
    }
    let end = try echo.closed.futureResult.wait()
    let first = try loop.submit { echo.firstText }.wait()
    return (first, end)
}

do {
    guard let text = try run("/getCaseCount").firstText, let count = Int(text) else {
        FileHandle.standardError.write("the fuzzing server sent no case count\n".data(using: .utf8)!)
        exit(1)
    }
    for index in 1...max(count, 1) where count > 0 {
        let (_, end) = try run("/runCase?case=\(index)&agent=\(agent)")
        let how = end.map { "\($0.kind) \($0.closeCode.map(String.init) ?? "-"): \($0.message)" } ?? "closed cleanly"
        print("case \(index)/\(count): \(how)")
    }
    // Best effort: a server that ended the run after the last case may no longer listen.
    _ = try? run("/updateReports?agent=\(agent)")
} catch {
    FileHandle.standardError.write("rws-autobahn: \(error)\n".data(using: .utf8)!)
    exit(1)
}
try? group.syncShutdownGracefully()
