import Foundation
import ResponsesTLS

/// Self-signed certificates made once per test run with the openssl CLI in a temp dir.
struct TestCertificates: Sendable {
    /// CN=localhost, SAN DNS:localhost + IP:127.0.0.1.
    let localhostCert: String
    let localhostKey: String
    /// SAN DNS:other.invalid only: wrong for localhost and 127.0.0.1.
    let otherCert: String
    let otherKey: String

    static let shared: Result<TestCertificates, Error> = Result { try make() }

    static func get() throws -> TestCertificates { try shared.get() }

    private static func make() throws -> TestCertificates {
        let dir = FileManager.default.temporaryDirectory
            .appendingPathComponent("rws-wire-tests-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        func generate(_ name: String, subject: String, san: String) throws -> (String, String) {
            let cert = dir.appendingPathComponent("\(name)-cert.pem").path
            let key = dir.appendingPathComponent("\(name)-key.pem").path
            try openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", subject,
                         "-addext", "subjectAltName=\(san)", "-days", "2", "-keyout", key, "-out", cert])
            return (cert, key)
        }
        let localhost = try generate("localhost", subject: "/CN=localhost", san: "DNS:localhost,IP:127.0.0.1")
        let other = try generate("other", subject: "/CN=other.invalid", san: "DNS:other.invalid")
        return TestCertificates(localhostCert: localhost.0, localhostKey: localhost.1, otherCert: other.0, otherKey: other.1)
    }

    /// Runs the openssl CLI with `arguments`, quietly; throws when it fails.
    static func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["openssl"] + arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestTimeout(what: "openssl \(arguments[0]) (exit \(process.terminationStatus))")
        }
    }

    func serverContext(other: Bool = false) throws -> TLSContext {
        try TLSContext.server(
            certificateFile: other ? otherCert : localhostCert,
            privateKeyFile: other ? otherKey : localhostKey)
    }
}
