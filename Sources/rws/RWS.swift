import ArgumentParser

/// `rws`: the command-line face of responses-ws.
@main
struct RWS: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rws",
        abstract: "A warm transport for the OpenAI Responses API WebSocket mode.",
        subcommands: [DemoCommand.self, RunCommand.self, LoopCommand.self, SimCommand.self, BenchCommand.self, BenchSimCommand.self]
    )
}
