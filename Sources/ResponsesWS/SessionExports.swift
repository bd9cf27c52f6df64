import CResponsesWS
import ResponsesJSON
import ResponsesWSCore

@c @implementation
public func rws_session_options_init(_ options: UnsafeMutablePointer<rws_session_options>!) {
    guard let options else { return }
    var o = rws_session_options()
    o.struct_size = MemoryLayout<rws_session_options>.size
    options.pointee = o
}

/// A caller's session options, honouring struct_size, with defaults_json parsed.
private func sessionOptions(_ options: UnsafePointer<rws_session_options>?) throws(RWSError) -> (rws_session_options, JSONObject?) {
    var o = rws_session_options()
    rws_session_options_init(&o)
    if let options {
        let size = options.pointee.struct_size
        guard size >= MemoryLayout<Int>.size, size <= 1 << 16 else {
            throw RWSError(.invalidArgument, "rws_session_options.struct_size is \(size): call rws_session_options_init first")
        }
        withUnsafeMutableBytes(of: &o) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: options, count: min(size, dst.count)))
        }
    }
    guard let json = o.defaults_json else { return (o, nil) }
    let value: JSONValue
    do {
        value = try JSONValue.parse(bytes(json, o.defaults_len))
    } catch {
        throw RWSError(.invalidJSON, "defaults_json is not valid JSON: \(error.description)")
    }
    guard case .object(let object) = value else {
        throw RWSError(.invalidJSON, "defaults_json must be a JSON object (e.g. {\"model\":\"gpt-5.6\"})")
    }
    return (o, object)
}

@c @implementation
public func rws_session_new(
    _ client: OpaquePointer!, _ options: UnsafePointer<rws_session_options>!, _ sessionOut: UnsafeMutablePointer<OpaquePointer?>!
) -> Int32 {
    guard let sessionOut else { return fail(.invalidArgument, "rws_session_new: session_out is NULL") }
    sessionOut.pointee = nil
    guard let handle = borrow(client, as: ClientHandle.self) else { return fail(.invalidArgument, "rws_session_new: client is NULL") }
    do {
        let (o, defaults) = try sessionOptions(options)
        guard let mode = InputMode(rawValue: o.input_mode) else {
            throw RWSError(.invalidArgument, "rws_session_options.input_mode is \(o.input_mode): use RWS_INPUT_INCREMENTAL or RWS_INPUT_FULL_HISTORY")
        }
        let session = try handle.client.makeSession(defaults: defaults ?? JSONObject(), streamID: string(o.stream_id), inputMode: mode)
        sessionOut.pointee = retained(SessionHandle(session))
        return Status.ok.rawValue
    } catch {
        return fail(error)
    }
}

@c @implementation
public func rws_session_free(_ session: OpaquePointer!) {
    guard let handle = borrow(session, as: SessionHandle.self) else { return }
    do {
        try handle.session.close()
        _ = release(session, as: SessionHandle.self)
    } catch {
        _ = fail(error)   // called from a callback: nothing is freed
    }
}

@c @implementation
public func rws_session_last_response_id(_ session: OpaquePointer!, _ buf: UnsafeMutablePointer<CChar>!, _ bufLen: Int) -> Int32 {
    copyOut(sessionString: { $0.lastResponse }, session, buf, bufLen, function: "rws_session_last_response_id")
}

@c @implementation
public func rws_session_stream_id(_ session: OpaquePointer!, _ buf: UnsafeMutablePointer<CChar>!, _ bufLen: Int) -> Int32 {
    copyOut(sessionString: { $0.placement.lane }, session, buf, bufLen, function: "rws_session_stream_id")
}

@c @implementation
public func rws_session_fork_parent_id(_ session: OpaquePointer!, _ buf: UnsafeMutablePointer<CChar>!, _ bufLen: Int) -> Int32 {
    copyOut(sessionString: { $0.placement.forkParent }, session, buf, bufLen, function: "rws_session_fork_parent_id")
}

/// Copies a string of the session into the caller's buffer (NUL-terminated, truncated to
/// buf_len - 1 bytes) and returns its full length; 0 when it has none.
private func copyOut(sessionString read: (Session) -> String?, _ session: OpaquePointer?, _ buf: UnsafeMutablePointer<CChar>?,
                     _ bufLen: Int, function: String) -> Int32 {
    guard let handle = borrow(session, as: SessionHandle.self) else { return fail(.invalidArgument, "\(function): session is NULL") }
    guard bufLen == 0 || buf != nil else { return fail(.invalidArgument, "\(function): buf is NULL but buf_len is \(bufLen)") }
    guard var text = read(handle.session) else {
        if let buf, bufLen > 0 { buf[0] = 0 }
        return 0
    }
    return text.withUTF8 { utf8 in
        if let buf, bufLen > 0 {
            let n = min(utf8.count, bufLen - 1)
            if n > 0 { UnsafeMutableRawPointer(buf).copyMemory(from: utf8.baseAddress!, byteCount: n) }
            buf[n] = 0
        }
        return Int32(clamping: utf8.count)
    }
}

@c @implementation
public func rws_session_fork(
    _ parent: OpaquePointer!, _ options: UnsafePointer<rws_session_options>!, _ childOut: UnsafeMutablePointer<OpaquePointer?>!
) -> Int32 {
    guard let childOut else { return fail(.invalidArgument, "rws_session_fork: child_out is NULL") }
    childOut.pointee = nil
    guard let handle = borrow(parent, as: SessionHandle.self) else { return fail(.invalidArgument, "rws_session_fork: parent is NULL") }
    do {
        let (o, defaults) = try sessionOptions(options)
        let child = try handle.session.fork(extraDefaults: defaults ?? JSONObject(), streamID: string(o.stream_id))
        childOut.pointee = retained(SessionHandle(child))
        return Status.ok.rawValue
    } catch {
        return fail(error)
    }
}

@c @implementation
public func rws_session_reset(_ session: OpaquePointer!) -> Int32 {
    guard let handle = borrow(session, as: SessionHandle.self) else { return fail(.invalidArgument, "rws_session_reset: session is NULL") }
    do {
        try handle.session.reset()
        return Status.ok.rawValue
    } catch {
        return fail(error)
    }
}

@c @implementation
public func rws_session_stats(_ session: OpaquePointer!, _ stats: UnsafeMutablePointer<rws_stats>!, _ statsSize: Int) -> Int32 {
    guard let handle = borrow(session, as: SessionHandle.self) else { return fail(.invalidArgument, "rws_session_stats: session is NULL") }
    let placement = handle.session.placement
    let holds = placement.connectionID == 0 ? 0 : 1
    return fillStats(handle.session.counters, connections: holds, lanes: holds, connectionID: placement.connectionID, stats, statsSize)
}
