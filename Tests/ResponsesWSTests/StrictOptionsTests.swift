import CResponsesWS
import Testing

/// Options and defaults checked through the C API at creation, before any connection.
@Suite struct StrictOptionsTests {
    /// A client that never connects (nothing listens on port 9; no test here starts a turn).
    static func client() -> OpaquePointer? {
        var o = rws_client_options()
        rws_client_options_init(&o)
        var client: OpaquePointer?
        let rc = "http://127.0.0.1:9/v1".withCString { url in
            "sk-test".withCString { key in
                o.base_url = url
                o.api_key = key
                return rws_client_new(&o, &client)
            }
        }
        #expect(rc == RWS_OK)
        return client
    }

    static func lastError() -> String { String(cString: rws_last_error()) }

    @Test func defaultsWithInvalidStringsAreRefusedWithTheOffset() {
        guard let client = Self.client() else { return }
        defer { rws_client_free(client) }
        let cases: [([UInt8], Int)] = [
            (Array(#"{"instructions":"a\qb"}"#.utf8), 18),
            (Array(#"{"instructions":"\ud800"}"#.utf8), 17),
            (Array(#"{"instructions":"x"#.utf8) + [0xFF] + Array(#""}"#.utf8), 18),
        ]
        for (json, offset) in cases {
            var so = rws_session_options()
            rws_session_options_init(&so)
            var session: OpaquePointer?
            let rc = json.withUnsafeBufferPointer { b in
                b.withMemoryRebound(to: CChar.self) { c in
                    so.defaults_json = c.baseAddress
                    so.defaults_len = c.count
                    return rws_session_new(client, &so, &session)
                }
            }
            #expect(rc == RWS_E_INVALID_JSON && session == nil, "\(String(decoding: json, as: UTF8.self))")
            #expect(Self.lastError().contains("byte \(offset)"), "\(Self.lastError())")
            if let session { rws_session_free(session) }
        }
    }
}
