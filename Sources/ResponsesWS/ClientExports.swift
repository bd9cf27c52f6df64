import CResponsesWS
import ResponsesWSCore

/// The body of rws_client_options_init, whose exported versions live in C
/// (Sources/CResponsesWSCompat): the full struct of this header.
@_cdecl("rwsi_client_options_init")
public func rwsi_client_options_init(_ options: UnsafeMutablePointer<rws_client_options>!) {
    guard let options else { return }
    let defaults = ClientConfig()
    var o = rws_client_options()
    o.struct_size = MemoryLayout<rws_client_options>.size
    o.verify_peer = 1
    o.connect_timeout_ms = defaults.connectTimeoutMs
    o.first_event_timeout_ms = defaults.firstEventTimeoutMs
    o.idle_timeout_ms = defaults.idleTimeoutMs
    o.total_timeout_ms = defaults.totalTimeoutMs
    o.ping_interval_ms = defaults.pingIntervalMs
    o.max_message_bytes = defaults.maxMessageBytes
    o.max_request_bytes = defaults.maxRequestBytes
    o.transport = Int32(RWS_TRANSPORT_WEBSOCKET)
    o.max_connection_age_ms = defaults.maxConnectionAgeMs
    o.rotation_margin_ms = defaults.rotationMarginMs
    o.warm_standby = defaults.warmStandby ? 1 : 0
    o.max_reconnects = defaults.maxReconnects
    o.reconnect_delay_ms = defaults.reconnectDelayMs
    o.reconnect_max_delay_ms = defaults.reconnectMaxDelayMs
    o.fallback = Int32(RWS_FALLBACK_AUTO)
    o.fallback_after_failures = defaults.fallbackAfterFailures
    o.fallback_memory_ms = defaults.fallbackMemoryMs
    o.max_queued_bytes = defaults.maxQueuedBytes
    o.log_level = Int32(RWS_LOG_INFO)
    o.lanes = Int32(RWS_LANES_SHARED)
    o.max_sessions_per_connection = defaults.maxSessionsPerConnection
    options.pointee = o
}

/// Where a field of rws_client_options ends (the struct_size that covers it).
private func fieldEnd<T>(_ field: KeyPath<rws_client_options, T>) -> Int {
    MemoryLayout<rws_client_options>.offset(of: field)! + MemoryLayout<T>.size
}

/// Reads a caller's options struct, honouring its struct_size (older, shorter structs get
/// defaults for the fields they do not have).
func clientConfig(from options: UnsafePointer<rws_client_options>?) throws(RWSError) -> ClientConfig {
    var defaults = rws_client_options()
    rwsi_client_options_init(&defaults)
    var o = defaults
    if let options {
        let size = options.pointee.struct_size
        guard size >= MemoryLayout<Int>.size, size <= 1 << 16 else {
            throw RWSError(.invalidArgument, "rws_client_options.struct_size is \(size): call rws_client_options_init first")
        }
        withUnsafeMutableBytes(of: &o) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: options, count: min(size, dst.count)))
        }
        // A struct of 0.4.0 ends in padding where `lanes` now is: those bytes are the caller's
        // garbage, not a choice. The 0.5.0 fields count only when struct_size covers them all.
        if size < Int(fieldEnd(\rws_client_options.max_sessions_per_connection)) {
            o.lanes = defaults.lanes
            o.max_sessions_per_connection = defaults.max_sessions_per_connection
        }
    }
    var config = ClientConfig()
    config.apiKey = string(o.api_key)
    config.baseURL = string(o.base_url)
    config.webSocketURL = string(o.websocket_url)
    config.organization = string(o.organization)
    config.project = string(o.project)
    config.beta = string(o.beta)
    config.caFile = string(o.ca_file)
    config.tlsClientCertFile = string(o.tls_client_cert)
    config.tlsClientKeyFile = string(o.tls_client_key)
    config.tlsClientKeyPassphrase = string(o.tls_client_key_passphrase)
    config.proxy = string(o.proxy)
    config.noProxy = string(o.no_proxy)
    guard o.permessage_deflate == 0 || o.permessage_deflate == 1 else {
        throw RWSError(.invalidArgument, "rws_client_options.permessage_deflate is \(o.permessage_deflate): use 0 (off) or 1 (offer)")
    }
    config.perMessageDeflate = o.permessage_deflate == 1
    config.verifyPeer = o.verify_peer != 0
    config.connectTimeoutMs = o.connect_timeout_ms
    config.firstEventTimeoutMs = o.first_event_timeout_ms
    config.idleTimeoutMs = o.idle_timeout_ms
    config.totalTimeoutMs = o.total_timeout_ms
    config.pingIntervalMs = o.ping_interval_ms
    config.maxMessageBytes = o.max_message_bytes
    config.maxRequestBytes = o.max_request_bytes
    guard let transport = Transport(rawValue: o.transport) else {
        throw RWSError(.invalidArgument, "rws_client_options.transport is \(o.transport): use RWS_TRANSPORT_WEBSOCKET or RWS_TRANSPORT_HTTP")
    }
    config.transport = transport
    config.maxConnectionAgeMs = o.max_connection_age_ms
    config.rotationMarginMs = o.rotation_margin_ms
    config.warmStandby = o.warm_standby != 0
    config.maxReconnects = o.max_reconnects
    config.reconnectDelayMs = o.reconnect_delay_ms
    config.reconnectMaxDelayMs = o.reconnect_max_delay_ms
    guard let fallback = FallbackPolicy(rawValue: o.fallback) else {
        throw RWSError(.invalidArgument, "rws_client_options.fallback is \(o.fallback): use RWS_FALLBACK_AUTO or RWS_FALLBACK_NEVER")
    }
    config.fallback = fallback
    config.fallbackAfterFailures = o.fallback_after_failures
    config.fallbackMemoryMs = o.fallback_memory_ms
    config.maxQueuedBytes = o.max_queued_bytes
    guard let lanes = LaneSharing(rawValue: o.lanes) else {
        throw RWSError(.invalidArgument, "rws_client_options.lanes is \(o.lanes): use RWS_LANES_SHARED or RWS_LANES_PER_SESSION")
    }
    config.lanes = lanes
    config.maxSessionsPerConnection = o.max_sessions_per_connection
    if var header = o.headers {
        while let line = header.pointee {
            let text = String(cString: line)
            guard let colon = text.firstIndex(of: ":") else {
                // Not echoed: a malformed line may well hold a credential.
                throw RWSError(.invalidArgument, "extra header #\(config.extraHeaders.count + 1) has no ':'; use \"Name: value\"")
            }
            let name = String(text[..<colon])
            let value = String(text[text.index(after: colon)...].drop { $0 == " " || $0 == "\t" })
            config.extraHeaders.append((name, value))
            header += 1
        }
    }
    if let callback = o.log_callback {
        guard (Int32(RWS_LOG_OFF)...Int32(RWS_LOG_DEBUG)).contains(o.log_level) else {
            throw RWSError(.invalidArgument, "rws_client_options.log_level is \(o.log_level): use RWS_LOG_OFF (0) to RWS_LOG_DEBUG (4)")
        }
        if let level = LogLevel(rawValue: o.log_level) {
            config.logHook = CLogHook.make(level: level, callback: callback, userData: o.log_user_data)
        }
    }
    if config.connectTimeoutMs == 0 {
        throw RWSError(.invalidArgument, "connect_timeout_ms must be greater than 0")
    }
    if config.maxMessageBytes < 1024 || config.maxRequestBytes < 1024 {
        throw RWSError(.invalidArgument, "max_message_bytes and max_request_bytes must be at least 1024")
    }
    return config
}

@c @implementation
public func rws_client_new(_ options: UnsafePointer<rws_client_options>!, _ clientOut: UnsafeMutablePointer<OpaquePointer?>!) -> Int32 {
    guard let clientOut else { return fail(.invalidArgument, "rws_client_new: client_out is NULL") }
    clientOut.pointee = nil
    do {
        let client = try ResponsesClient(try clientConfig(from: options))
        clientOut.pointee = retained(ClientHandle(client))
        return Status.ok.rawValue
    } catch {
        return fail(error)
    }
}

@c @implementation
public func rws_client_free(_ client: OpaquePointer!) {
    guard let handle = borrow(client, as: ClientHandle.self) else { return }
    do {
        try handle.client.shutdown()
        _ = release(client, as: ClientHandle.self)
    } catch {
        _ = fail(error)   // called from a callback: nothing is freed
    }
}

@c @implementation
public func rws_client_stats(_ client: OpaquePointer!, _ stats: UnsafeMutablePointer<rws_stats>!, _ statsSize: Int) -> Int32 {
    guard let handle = borrow(client, as: ClientHandle.self) else { return fail(.invalidArgument, "rws_client_stats: client is NULL") }
    let gauges = handle.client.gauges
    return fillStats(handle.client.counters, connections: gauges.connections, lanes: gauges.lanes, connectionID: 0, stats, statsSize)
}

/// rws_stats from counters plus the gauges of the moment.
func fillStats(_ counters: Counters, connections: Int, lanes: Int, connectionID: UInt64,
               _ stats: UnsafeMutablePointer<rws_stats>?, _ size: Int) -> Int32 {
    guard let stats else { return fail(.invalidArgument, "stats is NULL") }
    guard size >= MemoryLayout<Int>.size else {
        return fail(.invalidArgument, "stats_size is \(size): pass sizeof(rws_stats)")
    }
    let s = counters.snapshot
    var out = rws_stats()
    out.struct_size = MemoryLayout<rws_stats>.size
    out.turns = s.turns
    out.turns_ok = s.turnsOK
    out.events = s.events
    out.bytes_sent = s.bytesSent
    out.bytes_received = s.bytesReceived
    out.connects = s.connects
    out.reconnects = s.reconnects
    out.incremental_sends = s.incrementalSends
    out.full_resends = s.fullResends
    out.fallbacks = s.fallbacks
    out.rotations = s.rotations
    out.unknown_outcomes = s.unknownOutcomes
    out.read_pauses = s.readPauses
    out.connections_open = UInt64(connections)
    out.lanes_in_use = UInt64(lanes)
    out.connection_id = connectionID
    copyOut(out, to: UnsafeMutableRawPointer(stats), size: size)
    return Status.ok.rawValue
}
