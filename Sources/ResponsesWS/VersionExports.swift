import CResponsesWS
import ResponsesWSCore

private let versionString: StaticString = "0.5.0"

@c @implementation
public func rws_version() -> UnsafePointer<CChar>! {
    UnsafeRawPointer(versionString.utf8Start).assumingMemoryBound(to: CChar.self)
}

@c @implementation
public func rws_version_number() -> UInt32 {
    Version.number
}

@c @implementation
public func rws_features() -> UInt32 {
    UInt32(RWS_FEATURE_TLS) | UInt32(RWS_FEATURE_PULL) | UInt32(RWS_FEATURE_HTTP_SSE)
        | UInt32(RWS_FEATURE_NOTIFY_FD) | UInt32(RWS_FEATURE_QUEUE_LIMIT) | UInt32(RWS_FEATURE_FORK_SAFE)
        | UInt32(RWS_FEATURE_REQUEST_ID) | UInt32(RWS_FEATURE_LOG_HOOK)
        | UInt32(RWS_FEATURE_CLIENT_CERT) | UInt32(RWS_FEATURE_PROXY) | UInt32(RWS_FEATURE_DEFLATE)
        | UInt32(RWS_FEATURE_LANES) | UInt32(RWS_FEATURE_STEER)
}
