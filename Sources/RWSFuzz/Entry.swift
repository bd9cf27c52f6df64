// One libFuzzer binary for every harness: RWS_FUZZ_TARGET picks the harness, so CI builds once.
//
// Built by Tests/fuzz.sh with -sanitize=fuzzer and -DRWS_FUZZING: libFuzzer then provides
// `main` and calls LLVMFuzzerTestOneInput. In a normal debug build the harnesses still compile
// (so an API change breaks `swift build`, not only the fuzz run) and a small `main` replays files
// through one harness. Release builds cannot `@testable import`, so there it is only a stub.

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

#if RWS_FUZZING || DEBUG

/// The names RWS_FUZZ_TARGET (or the replay main's first argument) takes.
let harnessNames = ["frames", "events", "request", "sse", "http-upgrade", "http-post", "proxy"]

func harness(named name: String) -> ((UnsafeRawBufferPointer) -> Void)? {
    switch name {
    case "frames": return FrameTarget.run
    case "events": return EventTarget.run
    case "request": return RequestTarget.run
    case "sse": return SSETarget.run
    case "http-upgrade": return UpgradeTarget.run
    case "http-post": return PostTarget.run
    case "proxy": return ProxyTarget.run
    default: return nil
    }
}

#endif

/// To stderr (the C global `stderr` is not concurrency-safe in Swift 6 mode).
func printError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}

#if RWS_FUZZING

/// Chosen once: libFuzzer calls the entry point millions of times.
nonisolated(unsafe) private var selected: ((UnsafeRawBufferPointer) -> Void)?

@_cdecl("LLVMFuzzerInitialize")
public func fuzzerInitialize(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> CInt {
    let name = getenv("RWS_FUZZ_TARGET").map { String(cString: $0) } ?? ""
    guard let run = harness(named: name) else {
        printError("set RWS_FUZZ_TARGET to one of: \(harnessNames.joined(separator: " "))\n")
        exit(2)
    }
    selected = run
    return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzerTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    selected!(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

#else

@main
struct ReplayMain {
    static func main() {
        #if DEBUG
        let args = CommandLine.arguments.dropFirst()
        guard let name = args.first, let run = harness(named: name) else {
            printError("usage: RWSFuzz <\(harnessNames.joined(separator: "|"))> FILE...\n"
                + "  replays inputs through one harness; Tests/fuzz.sh builds the libFuzzer version\n")
            exit(2)
        }
        for path in args.dropFirst() {
            guard let bytes = readFile(path) else {
                printError("cannot read \(path)\n")
                exit(1)
            }
            bytes.withUnsafeBytes(run)
            print("ok \(path)")
        }
        #else
        printError("RWSFuzz: build with Tests/fuzz.sh (libFuzzer), or in debug to replay inputs\n")
        exit(2)
        #endif
    }
}

#if DEBUG
func readFile(_ path: String) -> [UInt8]? {
    guard let file = fopen(path, "rb") else { return nil }
    defer { fclose(file) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = fread(&chunk, 1, chunk.count, file)
        if n == 0 { break }
        bytes += chunk[..<n]
    }
    return bytes
}
#endif

#endif
