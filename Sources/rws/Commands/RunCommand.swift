import ArgumentParser
import ResponsesJSON
import ResponsesWSCore

/// `rws run TEXT`: one turn, the answer streamed to stdout as it arrives.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Send one turn and stream the answer to stdout.",
        discussion: "Without an API key and a base URL, the turn goes to a simulator started in this process. Exit status 1 when the turn fails (the reason on stderr).")

    @OptionGroup var target: TargetOptions

    @Option(help: "The model.")
    var model = "gpt-5.6"

    @Flag(help: "Print every event as one JSON line instead of the text.")
    var json = false

    @Argument(help: "The user message.")
    var text: String

    func validate() throws {
        try require(!model.isEmpty, "--model must not be empty")
    }

    func run() async throws {
        let target = try await Target.resolve(self.target, command: "run")
        let status: Status
        do {
            status = try streamOneTurn(config: target.clientConfig())
        } catch {
            await target.stop()
            throw error
        }
        await target.stop()
        if status != .ok { throw ExitCode(ExitStatus.turnFailed) }
    }

    private func streamOneTurn(config: ClientConfig) throws -> Status {
        let client = try ResponsesClient(config)
        defer { try? client.shutdown() }
        let session = try client.makeSession(defaults: (["model": .string(model)] as JSONValue).objectValue!)
        let body: JSONValue = ["input": .string(text)]
        let request = try body.serialized.withUnsafeBytes { try session.prepare($0) }
        let turn = try session.start(request, handler: nil)
        let out = StandardOutput()
        pulling: while true {
            switch turn.nextEvent(timeoutMs: -1) {
            case .event(let event):
                event.frame.withUnsafeReadableBytes { frame in
                    if json {
                        out.write(frame)
                        out.write("\n")
                    } else if event.header.type == .outputTextDelta || event.header.type == .refusalDelta {
                        var scratch: [UInt8] = []
                        event.responseID.withUnsafeBytes { rid in
                            DeliveredEvent.with(frame: frame, header: event.header, responseID: rid, scratch: &scratch) { out.write($0.delta) }
                        }
                    }
                }
                out.flush()
            case .done, .timeout:
                break pulling
            }
        }
        let result = turn.wait(timeoutMs: -1) ?? TurnResult(status: .internal)
        if !json { out.write("\n") }
        out.flush()
        if result.status != .ok {
            StandardError.print("rws run: \(result.message)")
        }
        return result.status
    }
}
