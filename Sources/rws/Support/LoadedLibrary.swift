#if canImport(Glibc)
import Glibc
#endif
import CResponsesWS

/// libresponsesws.so loaded with dlopen, as any C program or binding loads it: `rws bench`
/// measures the shipped library, not a Swift-linked copy of the engine. (Linking the export
/// target into `rws` would also hand the executable the library's release-only link flags.)
struct LoadedLibrary {
    typealias ClientOptionsInit = @convention(c) (UnsafeMutablePointer<rws_client_options>?) -> Void
    typealias ClientNew = @convention(c) (UnsafePointer<rws_client_options>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias Free = @convention(c) (OpaquePointer?) -> Void
    typealias SessionOptionsInit = @convention(c) (UnsafeMutablePointer<rws_session_options>?) -> Void
    typealias SessionNew = @convention(c) (OpaquePointer?, UnsafePointer<rws_session_options>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias TurnOptionsInit = @convention(c) (UnsafeMutablePointer<rws_turn_options>?) -> Void
    typealias TurnStart = @convention(c) (OpaquePointer?, UnsafePointer<CChar>?, Int, UnsafePointer<rws_turn_options>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias TurnNextEvent = @convention(c) (OpaquePointer?, Int32, UnsafeMutablePointer<UnsafePointer<rws_event>?>?) -> Int32
    typealias TurnWait = @convention(c) (OpaquePointer?, Int32) -> Int32
    typealias StatusText = @convention(c) (Int32) -> UnsafePointer<CChar>?
    typealias LastError = @convention(c) () -> UnsafePointer<CChar>?
    typealias VersionText = @convention(c) () -> UnsafePointer<CChar>?
    typealias SessionFork = @convention(c) (OpaquePointer?, UnsafePointer<rws_session_options>?, UnsafeMutablePointer<OpaquePointer?>?) -> Int32
    typealias ClientStats = @convention(c) (OpaquePointer?, UnsafeMutablePointer<rws_stats>?, Int) -> Int32

    let path: String
    let clientOptionsInit: ClientOptionsInit
    let clientNew: ClientNew
    let clientFree: Free
    let sessionOptionsInit: SessionOptionsInit
    let sessionNew: SessionNew
    let sessionFree: Free
    let turnOptionsInit: TurnOptionsInit
    let turnStart: TurnStart
    let turnNextEvent: TurnNextEvent
    let turnWait: TurnWait
    let turnFree: Free
    let strerror: StatusText
    let lastError: LastError
    let version: VersionText
    /// Since 0.5.0; nil in an older library (the benchmarks that need them say so).
    let sessionFork: SessionFork?
    let clientStats: ClientStats?

    struct LoadError: Error, CustomStringConvertible { let description: String }

    /// Where `load(nil)` looks, in order: beside this executable (a build tree), the packaged
    /// library relative to it (/usr/bin/rws -> /usr/lib/<multiarch>/), then the loader's search.
    static var defaultCandidates: [String] {
        #if arch(x86_64)
        let multiarch = "x86_64-linux-gnu"
        #else
        let multiarch = "aarch64-linux-gnu"
        #endif
        return [besideExecutable("libresponsesws.so"), besideExecutable("../lib/\(multiarch)/libresponsesws.so.0"), "libresponsesws.so.0"]
    }

    /// Loads `path`, or the first of `defaultCandidates` that exists.
    static func load(_ path: String?) throws -> LoadedLibrary {
        let found = defaultCandidates.first(where: { !$0.hasPrefix("/") || access($0, R_OK) == 0 })
        let candidate: String = path ?? found ?? "libresponsesws.so.0"
        guard let handle = dlopen(candidate, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw LoadError(description: "cannot load \(candidate): \(reason); build it with `swift build -c release` or pass --library")
        }
        func symbol<T>(_ name: String, as _: T.Type) throws -> T {
            guard let p = dlsym(handle, name) else { throw LoadError(description: "\(candidate) has no \(name)") }
            return unsafeBitCast(p, to: T.self)
        }
        return LoadedLibrary(
            path: candidate,
            clientOptionsInit: try symbol("rws_client_options_init", as: ClientOptionsInit.self),
            clientNew: try symbol("rws_client_new", as: ClientNew.self),
            clientFree: try symbol("rws_client_free", as: Free.self),
            sessionOptionsInit: try symbol("rws_session_options_init", as: SessionOptionsInit.self),
            sessionNew: try symbol("rws_session_new", as: SessionNew.self),
            sessionFree: try symbol("rws_session_free", as: Free.self),
            turnOptionsInit: try symbol("rws_turn_options_init", as: TurnOptionsInit.self),
            turnStart: try symbol("rws_turn_start", as: TurnStart.self),
            turnNextEvent: try symbol("rws_turn_next_event", as: TurnNextEvent.self),
            turnWait: try symbol("rws_turn_wait", as: TurnWait.self),
            turnFree: try symbol("rws_turn_free", as: Free.self),
            strerror: try symbol("rws_strerror", as: StatusText.self),
            lastError: try symbol("rws_last_error", as: LastError.self),
            version: try symbol("rws_version", as: VersionText.self),
            sessionFork: try? symbol("rws_session_fork", as: SessionFork.self),
            clientStats: try? symbol("rws_client_stats", as: ClientStats.self))
    }

    /// `name` in the directory of the running executable.
    static func besideExecutable(_ name: String) -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard n > 0 else { return name }
        let exe = String(decoding: buffer[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        guard let slash = exe.lastIndex(of: "/") else { return name }
        return String(exe[..<slash]) + "/" + name
    }

    /// Throws with the library's own words for a negative status.
    func check(_ status: Int32, _ what: String) throws {
        guard status >= 0 else {
            let name = strerror(status).map { String(cString: $0) } ?? "\(status)"
            let detail = lastError().map { String(cString: $0) } ?? ""
            throw LoadError(description: "\(what): \(name): \(detail)")
        }
    }
}
