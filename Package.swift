// swift-tools-version:6.0
//
// responses-ws: a warm transport for the OpenAI Responses API WebSocket mode.
//
// Targets, bottom-up (see README "Layout"):
//   ResponsesJSON     zero-dependency JSON scanner, value tree and writer (core + simulator)
//   COpenSSL          system OpenSSL 3
//   CZlib             system zlib (raw deflate for permessage-deflate)
//   ResponsesDeflate  permessage-deflate (RFC 7692): negotiation text, message deflate/inflate
//   ResponsesTLS      a NIO TLS handler on system OpenSSL memory BIOs (client for wss/https,
//                     server for the simulator's --tls mode)
//   ResponsesWSCore   the engine: wire (WebSocket, TLS, HTTP/SSE), events, client, session, turn
//   ResponsesWSSim    the local Responses API simulator (WebSocket + HTTP/SSE)
//   CResponsesWS      the public C header include/responses_ws.h (+ the C-side thread-local error)
//   CResponsesWSCompat older symbol versions of exported functions (options_init_compat.c)
//   ResponsesWS       thin @c @implementation exports of that header → libresponsesws.so
//   rws               the command-line tool (sim, run, loop, demo, bench)
//   rws-autobahn      test-only: the Autobahn echo client (Tests/autobahn)
//   RWSFuzz           libFuzzer harnesses for the hand-written parsers (test-only, Tests/fuzz.sh)
import PackageDescription

let versionScript = Context.packageDirectory + "/packaging/responses_ws.map"

let nio: [Target.Dependency] = [
    .product(name: "NIOCore", package: "swift-nio"),
    .product(name: "NIOPosix", package: "swift-nio"),
    .product(name: "NIOHTTP1", package: "swift-nio"),
    .product(name: "NIOWebSocket", package: "swift-nio"),
    // NIOLockedValueBox: a pthread mutex, which ThreadSanitizer sees (Synchronization.Mutex
    // takes a contended lock inside uninstrumented libswiftSynchronization, so TSan reports
    // the state it guards as racing).
    .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
]

// The hot path (frame → event header → caller) runs on one event-loop thread and its types are
// loop-confined, so the run-time exclusivity checks buy nothing there and cost ~8% of the
// per-event CPU (measured with `perf record` on `rws bench`). Release only: debug builds and
// tests keep them.
let hotPath: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

let package = Package(
    name: "responses-ws",
    products: [
        .library(name: "responsesws", type: .dynamic, targets: ["ResponsesWS"]),
        .library(name: "ResponsesWSCore", targets: ["ResponsesWSCore"]),
        .library(name: "ResponsesWSSim", targets: ["ResponsesWSSim"]),
        .executable(name: "rws", targets: ["rws"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        // NIOSOCKS only (SOCKS5 proxies): it depends on NIOCore alone.
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
    ],
    targets: [
        .target(name: "ResponsesJSON", swiftSettings: hotPath),
        .systemLibrary(name: "COpenSSL", pkgConfig: "openssl", providers: [.apt(["libssl-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),
        .target(name: "ResponsesDeflate", dependencies: ["CZlib", .product(name: "NIOCore", package: "swift-nio")], swiftSettings: hotPath),
        .target(name: "ResponsesTLS", dependencies: ["COpenSSL", .product(name: "NIOCore", package: "swift-nio")]),
        .target(name: "CLinuxShims"),
        .target(
            name: "ResponsesWSCore",
            dependencies: ["ResponsesJSON", "ResponsesTLS", "ResponsesDeflate", "CLinuxShims",
                           .product(name: "NIOSOCKS", package: "swift-nio-extras")] + nio,
            swiftSettings: hotPath),
        .target(name: "ResponsesWSSim", dependencies: ["ResponsesJSON", "ResponsesTLS", "ResponsesDeflate"] + nio),
        .target(name: "CResponsesWS"),
        // Older versions of exported functions, bound to their symbol version nodes in release
        // builds, where the version script defines the nodes.
        .target(name: "CResponsesWSCompat", dependencies: ["CResponsesWS"],
                cSettings: [.define("RWS_SYMBOL_VERSIONS", .when(configuration: .release))]),
        .target(
            name: "ResponsesWS",
            dependencies: ["CResponsesWS", "CResponsesWSCompat", "ResponsesWSCore"],
            swiftSettings: hotPath,
            linkerSettings: [
                .unsafeFlags(["-use-ld=lld"]),
                // Release only (BUILDING.md §1, §6): in debug these would reach the `swift test`
                // runner's link, which has no static libTesting and whose sanitizer interceptors a
                // `local: *` version script would hide.
                .unsafeFlags([
                    "-static-stdlib",
                    "-Xlinker", "--version-script=\(versionScript)",
                    "-Xlinker", "-soname=libresponsesws.so.0",
                    "-Xlinker", "-z", "-Xlinker", "now",
                    // The library owns an I/O thread: never unmap its code on dlclose().
                    "-Xlinker", "-z", "-Xlinker", "nodelete",
                ], .when(configuration: .release)),
            ]
        ),
        .executableTarget(
            name: "rws",
            dependencies: [
                // CResponsesWS for the header's types only: `rws bench` dlopens the built
                // libresponsesws.so rather than linking the export target (whose release-only
                // link flags would reach this executable).
                "CResponsesWS", "ResponsesWSCore", "ResponsesWSSim", "ResponsesJSON",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ] + nio,
            // Release only, like the library: the packaged `rws` (responses-ws-tools) runs
            // without the Swift toolchain. Debug builds and sanitizer runs link it dynamically.
            // ArgumentParser pulls in FoundationEssentials, whose static archive needs its two
            // helper archives named explicitly; lld resolves them in any order.
            linkerSettings: [
                .unsafeFlags([
                    "-static-stdlib", "-use-ld=lld",
                    "-Xlinker", "-l_FoundationCShims", "-Xlinker", "-l_FoundationCollections",
                    "-Xlinker", "-z", "-Xlinker", "now", // full RELRO, as Debian hardens executables
                ], .when(configuration: .release)),
            ]
        ),
        // Test-only: the Autobahn echo client over the core's WebSocket client (Tests/autobahn).
        .executableTarget(name: "rws-autobahn", dependencies: ["ResponsesWSCore"] + nio),
        // libFuzzer harnesses (Tests/fuzz.sh builds them with -sanitize=fuzzer and -DRWS_FUZZING).
        // Not a product: a normal build links a small stand-in main instead of libFuzzer's.
        .executableTarget(
            name: "RWSFuzz",
            dependencies: [
                "ResponsesWSCore", "ResponsesJSON", "ResponsesDeflate",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "ResponsesJSONTests", dependencies: ["ResponsesJSON"]),
        .testTarget(name: "ResponsesWSSimTests", dependencies: ["ResponsesWSSim", "ResponsesJSON"] + nio),
        .testTarget(
            name: "ResponsesWSCoreTests",
            dependencies: ["ResponsesWSCore", "ResponsesTLS", "ResponsesDeflate", "COpenSSL", "ResponsesWSSim", "ResponsesJSON",
                           .product(name: "NIOEmbedded", package: "swift-nio")] + nio
        ),
        .testTarget(name: "ResponsesWSTests", dependencies: ["ResponsesWS", "CResponsesWS", "ResponsesWSCore", "ResponsesWSSim"]),
    ]
)
