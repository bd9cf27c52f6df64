#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// Host name lookups for one client, each run by `getaddrinfo` on a short-lived thread of the
/// library's own.
///
/// Why not NIO's default resolver: it runs `getaddrinfo` on a Dispatch queue, and libdispatch's
/// worker threads do not survive `fork()`. A child process that creates a client after its
/// parent looked a name up (Python multiprocessing, gunicorn and celery prefork workers) then
/// waits forever for a lookup nobody runs. A detached thread per lookup leaves nothing behind
/// that a child could inherit half-alive, and lookups happen once per connection, where a thread
/// start (tens of microseconds) is noise next to the TCP and TLS handshakes.
///
/// Results reach the event loop through `execute`, which must not be called once the loop is
/// shut down: `close()` (on the loop, before the client stops it) fails every lookup still
/// running, and a lookup that finishes later is dropped.
public final class HostLookups: Sendable {
    private struct State {
        var closed = false
        var nextID = 0
        /// Lookups in flight: how to fail each one's futures (loop only).
        var running: [Int: @Sendable (any Error) -> Void] = [:]
    }
    private let state = NIOLockedValueBox(State())
    /// The blocking lookup a thread runs: getaddrinfo, or a fixed answer in tests.
    typealias Lookup = @Sendable (_ host: String, _ port: Int) -> Result<([SocketAddress], [SocketAddress]), any Error>
    private let resolve: Lookup

    public init() { resolve = HostLookups.getaddrinfo }

    /// Tests answer names themselves (e.g. one name with an IPv4 and an IPv6 address).
    init(resolve: @escaping Lookup) { self.resolve = resolve }

    /// A resolver for one connection attempt on `loop` (NIO asks it for AAAA, then A records,
    /// and runs Happy Eyeballs on the answers).
    func resolver(on loop: EventLoop) -> any Resolver & Sendable {
        ThreadedResolver(lookups: self, loop: loop)
    }

    /// Fails the lookups in flight and refuses new ones. On the client's event loop.
    public func close() {
        let running = state.withLockedValue { state in
            state.closed = true
            defer { state.running.removeAll() }
            return Array(state.running.values)
        }
        let error = TransportError(.cancelled, "the client was freed during a host name lookup")
        for fail in running { fail(error) }
    }

    /// Runs `getaddrinfo(host, port)` on a new thread; `deliver` runs on `loop` with the result,
    /// unless `close()` came first (then `fail` ran instead).
    fileprivate func lookUp(
        host: String, port: Int, loop: EventLoop,
        fail: @escaping @Sendable (any Error) -> Void,
        deliver: @escaping @Sendable (Result<([SocketAddress], [SocketAddress]), any Error>) -> Void
    ) {
        let id: Int? = state.withLockedValue { state in
            guard !state.closed else { return nil }
            state.nextID += 1
            state.running[state.nextID] = fail
            return state.nextID
        }
        guard let id else {
            fail(TransportError(.cancelled, "the client was freed before the host name lookup started"))
            return
        }
        let started = LookupThread.start {
            let result = self.resolve(host, port)
            self.state.withLockedValue { state in
                // Under the lock: close() cannot stop the loop between this check and execute.
                guard state.running.removeValue(forKey: id) != nil else { return }
                loop.execute { deliver(result) }
            }
        }
        if !started {
            state.withLockedValue { _ = $0.running.removeValue(forKey: id) }
            fail(TransportError(.dns, "cannot start a thread to look up \(host): \(String(cString: strerror(errno)))"))
        }
    }

    /// The blocking lookup: IPv4 and IPv6 stream addresses, in the system's preferred order.
    static func getaddrinfo(host: String, port: Int) -> Result<([SocketAddress], [SocketAddress]), any Error> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        var info: UnsafeMutablePointer<addrinfo>?
        let rc = Glibc.getaddrinfo(host, String(port), &hints, &info)
        guard rc == 0 else {
            let reason = String(cString: gai_strerror(rc))
            return .failure(TransportError(.dns,
                "cannot resolve host '\(host)' (\(reason)): check the host name in the URL and the DNS settings"))
        }
        defer { freeaddrinfo(info) }
        var v4: [SocketAddress] = [], v6: [SocketAddress] = []
        var next = info
        while let entry = next {
            if let address = entry.pointee.ai_addr {
                switch entry.pointee.ai_family {
                case AF_INET:
                    v4.append(SocketAddress(UnsafeRawPointer(address).load(as: sockaddr_in.self), host: host))
                case AF_INET6:
                    v6.append(SocketAddress(UnsafeRawPointer(address).load(as: sockaddr_in6.self), host: host))
                default:
                    break
                }
            }
            next = entry.pointee.ai_next
        }
        return .success((v4, v6))
    }
}

/// One connection attempt's resolver: a single `getaddrinfo` answers both of NIO's queries.
/// Loop-confined state behind `@unchecked Sendable` (NIO calls it on the loop).
private final class ThreadedResolver: Resolver, @unchecked Sendable {
    private let lookups: HostLookups
    private let loop: EventLoop
    /// Made at the first query: a resolver NIO never asks (an IP literal) holds no promise.
    private var promises: (v4: EventLoopPromise<[SocketAddress]>, v6: EventLoopPromise<[SocketAddress]>)?
    private var completed = false

    init(lookups: HostLookups, loop: EventLoop) {
        self.lookups = lookups
        self.loop = loop
    }

    func initiateAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        start(host: host, port: port).v4.futureResult
    }

    func initiateAAAAQuery(host: String, port: Int) -> EventLoopFuture<[SocketAddress]> {
        start(host: host, port: port).v6.futureResult
    }

    func cancelQueries() {
        finish(.failure(TransportError(.cancelled, "host name lookup cancelled")))
    }

    private func start(host: String, port: Int) -> (v4: EventLoopPromise<[SocketAddress]>, v6: EventLoopPromise<[SocketAddress]>) {
        if let promises { return promises }
        let made = (v4: loop.makePromise(of: [SocketAddress].self), v6: loop.makePromise(of: [SocketAddress].self))
        promises = made
        lookUp(host: host, port: port)
        return made
    }

    private func lookUp(host: String, port: Int) {
        lookups.lookUp(
            host: host, port: port, loop: loop,
            fail: { error in self.finish(.failure(error)) },
            deliver: { result in self.finish(result) })
    }

    /// Completes both futures in one go, once (loop only).
    private func finish(_ result: Result<([SocketAddress], [SocketAddress]), any Error>) {
        loop.preconditionInEventLoop()
        guard !completed, let (v4, v6) = promises else { return }
        completed = true
        switch result {
        case .success(let (v4Addresses, v6Addresses)):
            v6.succeed(v6Addresses)
            v4.succeed(v4Addresses)
        case .failure(let error):
            v6.fail(error)
            v4.fail(error)
        }
    }
}

/// Starts a detached pthread running `body` (no Foundation, no Dispatch).
enum LookupThread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    static func start(_ body: @escaping () -> Void) -> Bool {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var thread = pthread_t()
        let rc = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        guard rc == 0 else {
            Unmanaged<Box>.fromOpaque(box).release()
            errno = rc
            return false
        }
        pthread_detach(thread)
        return true
    }
}
