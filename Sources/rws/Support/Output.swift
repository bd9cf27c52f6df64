#if canImport(Glibc)
import Glibc
#endif

/// Buffered stdout for streamed text: bytes go out as they arrive, without String round trips.
final class StandardOutput {
    private var buffer: [UInt8] = []

    func write(_ bytes: UnsafeRawBufferPointer) { buffer.append(contentsOf: bytes) }
    func write(_ text: String) { buffer.append(contentsOf: text.utf8) }

    func flush() {
        guard !buffer.isEmpty else { return }
        buffer.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(1, raw.baseAddress! + offset, raw.count - offset)
                if n <= 0 { break }
                offset += n
            }
        }
        buffer.removeAll(keepingCapacity: true)
    }

    deinit { flush() }
}

enum StandardError {
    static func print(_ line: String) {
        var text = line + "\n"
        text.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }
}

/// Writes one line to stdout at once (Swift's print buffers when stdout is a pipe).
func printLine(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { raw in
        var offset = 0
        while offset < raw.count {
            let n = Glibc.write(1, raw.baseAddress! + offset, raw.count - offset)
            if n <= 0 { break }
            offset += n
        }
    }
}

/// A one-line progress indicator on stderr, shown only when stderr is a terminal (never in a
/// pipe or a log file); `finish` erases it so the real output starts on a clean line.
struct Progress {
    let enabled: Bool

    /// `alsoWhenStdoutIsTerminal: false` for commands that print as they go: their lines show
    /// progress on a terminal already.
    init(alsoWhenStdoutIsTerminal: Bool = true) {
        enabled = isatty(2) != 0 && (alsoWhenStdoutIsTerminal || isatty(1) == 0)
    }

    func show(_ text: String) {
        guard enabled else { return }
        var line = "\r\u{1B}[K" + text
        line.withUTF8 { _ = Glibc.write(2, $0.baseAddress, $0.count) }
    }

    func finish() { show("") }
}
