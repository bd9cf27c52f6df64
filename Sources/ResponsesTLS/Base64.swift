import COpenSSL

/// Standard Base64 (RFC 4648, with padding) through OpenSSL's EVP_EncodeBlock: the library
/// already links OpenSSL, and NIO keeps its own encoder internal.
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String {
        guard !bytes.isEmpty else { return "" }
        let capacity = (bytes.count + 2) / 3 * 4
        // EVP_EncodeBlock writes a trailing NUL after the 4*ceil(n/3) characters.
        var output = [UInt8](repeating: 0, count: capacity + 1)
        let written = output.withUnsafeMutableBufferPointer { out in
            bytes.withUnsafeBufferPointer { input in
                EVP_EncodeBlock(out.baseAddress, input.baseAddress, Int32(input.count))
            }
        }
        return String(decoding: output[0..<Int(written)], as: UTF8.self)
    }
}
