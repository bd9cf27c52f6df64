#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ResponsesWSCore

/// `rws`: the command-line face of responses-ws.
///
/// Exit status (also in rws(1)): 0 success, 1 a turn failed or the run could not complete,
/// 2 a usage error (unknown command or option, a value outside what an option allows, a base
/// URL without an API key).
@main
struct RWS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rws",
        abstract: "A warm transport for the OpenAI Responses API WebSocket mode.",
        discussion: """
            Exit status: 0 success, 1 a turn failed, 2 a usage error. Without an API key (--api-key or \
            OPENAI_API_KEY) and without a base URL, demo, run and loop send their turns to a simulator \
            started in the process and say so on stderr.
            """,
        version: Version.string,
        subcommands: [DemoCommand.self, RunCommand.self, LoopCommand.self, SimCommand.self, BenchCommand.self, BenchSimCommand.self]
    )

    /// ArgumentParser's own entry point, with two changes: `--version` also names the library
    /// this rws would load, and usage errors exit 2 with one line (ArgumentParser's default is
    /// 64 and the full usage text).
    static func main() async {
        let arguments = Array(CommandLine.arguments.dropFirst())
        if arguments == ["--version"] {
            printLine(VersionReport.text())
            Glibc.exit(0)
        }
        do {
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch {
            if exitCode(for: error) == .validationFailure {
                let name = arguments.first.flatMap { first in
                    RWS.configuration.subcommands.first { $0.configuration.commandName == first } != nil ? "rws \(first)" : nil
                } ?? "rws"
                StandardError.print("\(name): \(message(for: error)) (see '\(name) --help')")
                Glibc.exit(ExitStatus.usage)
            }
            exit(withError: error)
        }
    }
}

/// The exit statuses every subcommand uses.
enum ExitStatus {
    static let turnFailed: Int32 = 1
    static let usage: Int32 = 2
}

/// `rws --version`: the tool's version and the libresponsesws.so it would load (rws itself
/// links the engine statically; bench and the bindings load the shared library).
enum VersionReport {
    static func text() -> String {
        var lines = ["rws \(Version.string)"]
        do {
            let library = try LoadedLibrary.load(nil)
            lines.append("libresponsesws \(String(cString: library.version()!)) (\(library.path))")
        } catch {
            lines.append("libresponsesws: not loaded (\(error))")
        }
        return lines.joined(separator: "\n")
    }
}
