/// A TLS failure, classified so callers can tell "the peer's certificate is not trusted" from
/// "the TLS conversation broke".
public struct TLSError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// Building a context failed: unreadable CA/cert/key file, bad key, OpenSSL refused a setting.
        case configuration
        /// The handshake failed for a reason other than certificate verification
        /// (protocol mismatch, alert from the peer, peer closed mid-handshake, not a TLS server…).
        case handshake
        /// The peer's certificate chain or name did not verify; `message` carries OpenSSL's reason,
        /// e.g. "self-signed certificate" or "hostname mismatch".
        case verification
        /// A record-layer failure after the handshake (bad MAC, unexpected message…).
        case io
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}
