#if canImport(Glibc)
import Glibc
#endif
import CResponsesWS
import ResponsesJSON
import ResponsesWSCore
import Synchronization

/// The C face of a turn: the core turn plus the memory that must outlive a call — the pulled
/// events (one, or a batch) and the result's strings (valid until rws_turn_free).
final class TurnHandle {
    let turn: Turn
    let session: Session
    /// rws_event structs handed out by the pull calls; grows to the largest batch pulled.
    private(set) var pulled = UnsafeMutablePointer<rws_event>.allocate(capacity: 1)
    private var pulledCapacity = 1
    /// The pulled events' bytes (frames, response ids, unescaped strings).
    let pullStorage = GrowableBuffer()
    /// Events taken from the turn in one lock and not handed out yet: a pull serves from here
    /// first, so pulling one event at a time costs no lock per event. Pulls are "one thread at
    /// a time per turn" (header), so this needs no lock of its own.
    var inbox: [PendingEvent] = []
    var inboxHead = 0
    var scratch: [UInt8] = []
    /// The C form of the final result. rws_turn_get_result may run on several threads at once
    /// (any thread, callbacks included), so it is published once, atomically: the first caller
    /// to see the end stores it and every caller gets those same strings until rws_turn_free.
    /// A plain optional filled on first use let two callers each build one, and the second
    /// store freed the strings the first had handed out.
    let result = AtomicLazyReference<CResult>()
    /// The C form of each steer's states handed out so far (rws_turn_steer_info), kept until
    /// rws_turn_free because callers may hold their strings; one per (steer, version).
    let steerInfos = Mutex<[SteerInfoKey: CSteerInfo]>([:])

    init(turn: Turn, session: Session) {
        self.turn = turn
        self.session = session
        pulled.initialize(to: rws_event())
    }

    /// Room for `n` pulled events (reused across calls: no allocation in steady state).
    func reservePulled(_ n: Int) {
        guard n > pulledCapacity else { return }
        pulled.deinitialize(count: pulledCapacity)
        pulled.deallocate()
        pulled = UnsafeMutablePointer<rws_event>.allocate(capacity: n)
        pulled.initialize(repeating: rws_event(), count: n)
        pulledCapacity = n
    }

    deinit {
        pulled.deinitialize(count: pulledCapacity)
        pulled.deallocate()
    }
}

/// A turn's result as C sees it, and the buffer its strings point into.
final class CResult {
    let value: rws_turn_result
    let storage: GrowableBuffer
    init(_ value: rws_turn_result, _ storage: GrowableBuffer) { self.value = value; self.storage = storage }
}

/// What a callback-mode turn calls: the C function, its user data, and one event struct that
/// is refilled for each event (no allocation per event). Captured by the turn's handler only.
final class CallbackTarget {
    let callback: rws_event_cb
    let userData: UnsafeMutableRawPointer?
    let event = UnsafeMutablePointer<rws_event>.allocate(capacity: 1)

    init(callback: rws_event_cb, userData: UnsafeMutableRawPointer?) {
        self.callback = callback
        self.userData = userData
        event.initialize(to: rws_event())
    }

    deinit { event.deallocate() }

    @inline(__always) func deliver(_ delivered: DeliveredEvent) -> Bool {
        fill(event, from: delivered)
        return callback(userData, event) == Int32(RWS_CONTINUE)
    }
}

/// Memory the library hands out by pointer: stable until the next `reserve` or deinit.
/// Copies `parts` into one buffer and returns it with a view of each (empty parts: NULL views).
func pack(_ parts: [[UInt8]]) -> (GrowableBuffer, [rws_str]) {
    let storage = GrowableBuffer()
    let base = storage.reserve(parts.reduce(1) { $0 + $1.count })
    var offset = 0
    var views: [rws_str] = []
    for part in parts {
        part.withUnsafeBytes { if $0.count > 0 { (base + offset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
        views.append(part.isEmpty ? rws_str(ptr: nil, len: 0) : rws_str(ptr: (base + offset).assumingMemoryBound(to: CChar.self), len: part.count))
        offset += part.count
    }
    return (storage, views)
}

final class GrowableBuffer {
    private(set) var base: UnsafeMutableRawPointer?
    private var capacity = 0

    func reserve(_ n: Int) -> UnsafeMutableRawPointer {
        if n > capacity || base == nil {
            base?.deallocate()
            capacity = max(n, capacity * 2, 256)
            base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
        }
        return base!
    }

    deinit { base?.deallocate() }
}

@inline(__always)
func fill(_ e: UnsafeMutablePointer<rws_event>, from d: DeliveredEvent) {
    let f = d.frame, h = d.header
    e.pointee.struct_size = MemoryLayout<rws_event>.size
    e.pointee.type = h.type.rawValue
    e.pointee.flags = h.type.isTerminal ? UInt32(RWS_EVENT_FLAG_TERMINAL) : 0
    e.pointee.type_name = cstr(DeliveredEvent.slice(f, h.typeName))
    e.pointee.json = cstr(f)
    e.pointee.response_id = cstr(d.responseID.count > 0 ? d.responseID : DeliveredEvent.slice(f, h.responseID))
    e.pointee.stream_id = cstr(DeliveredEvent.slice(f, h.streamID))
    e.pointee.item_id = cstr(DeliveredEvent.slice(f, h.itemID))
    e.pointee.delta = cstr(d.delta)
    e.pointee.error_code = cstr(DeliveredEvent.slice(f, h.errorCode))
    e.pointee.error_message = cstr(d.errorMessage)
    e.pointee.sequence_number = h.sequenceNumber
    e.pointee.output_index = h.outputIndex
    e.pointee.error_status = h.errorStatus
}

@c @implementation
public func rws_turn_options_init(_ options: UnsafeMutablePointer<rws_turn_options>!) {
    guard let options else { return }
    var o = rws_turn_options()
    o.struct_size = MemoryLayout<rws_turn_options>.size
    options.pointee = o
}

@c @implementation
public func rws_turn_start(
    _ session: OpaquePointer!, _ requestJSON: UnsafePointer<CChar>!, _ requestLen: Int,
    _ options: UnsafePointer<rws_turn_options>!, _ turnOut: UnsafeMutablePointer<OpaquePointer?>!
) -> Int32 {
    guard let turnOut else { return fail(.invalidArgument, "rws_turn_start: turn_out is NULL") }
    turnOut.pointee = nil
    guard let handle = borrow(session, as: SessionHandle.self) else { return fail(.invalidArgument, "rws_turn_start: session is NULL") }
    guard let requestJSON else { return fail(.invalidArgument, "rws_turn_start: request_json is NULL") }
    var o = rws_turn_options()
    rws_turn_options_init(&o)
    if let options {
        let size = options.pointee.struct_size
        guard size >= MemoryLayout<Int>.size, size <= 1 << 16 else {
            return fail(.invalidArgument, "rws_turn_options.struct_size is \(size): call rws_turn_options_init first")
        }
        withUnsafeMutableBytes(of: &o) { dst in
            dst.copyMemory(from: UnsafeRawBufferPointer(start: options, count: min(size, dst.count)))
        }
    }
    do {
        let request = try handle.session.prepare(bytes(requestJSON, requestLen))
        var handler: Turn.EventHandler?
        if let callback = o.on_event {
            let target = CallbackTarget(callback: callback, userData: o.user_data)
            handler = { target.deliver($0) }
        }
        let turn = try handle.session.start(request, handler: handler)
        turnOut.pointee = retained(TurnHandle(turn: turn, session: handle.session))
        return Status.ok.rawValue
    } catch {
        return fail(error)
    }
}

@c @implementation
public func rws_session_prewarm(
    _ session: OpaquePointer!, _ requestJSON: UnsafePointer<CChar>!, _ requestLen: Int, _ turnOut: UnsafeMutablePointer<OpaquePointer?>!
) -> Int32 {
    guard let turnOut else { return fail(.invalidArgument, "rws_session_prewarm: turn_out is NULL") }
    turnOut.pointee = nil
    guard let handle = borrow(session, as: SessionHandle.self) else { return fail(.invalidArgument, "rws_session_prewarm: session is NULL") }
    do {
        let request = try requestJSON.map { json throws(RWSError) in try handle.session.prepare(bytes(json, requestLen)) }
        let turn = try handle.session.prewarm(request)
        turnOut.pointee = retained(TurnHandle(turn: turn, session: handle.session))
        return Status.ok.rawValue
    } catch {
        return fail(error)
    }
}

@c @implementation
public func rws_turn_next_event(_ turn: OpaquePointer!, _ timeoutMs: Int32, _ eventOut: UnsafeMutablePointer<UnsafePointer<rws_event>?>!) -> Int32 {
    guard let eventOut else { return fail(.invalidArgument, "rws_turn_next_event: event_out is NULL") }
    eventOut.pointee = nil
    var count = 0
    return pull(turn, timeoutMs: timeoutMs, into: eventOut, capacity: 1, count: &count, function: "rws_turn_next_event")
}

@c @implementation
public func rws_turn_next_events(
    _ turn: OpaquePointer!, _ timeoutMs: Int32, _ events: UnsafeMutablePointer<UnsafePointer<rws_event>?>!,
    _ capacity: Int, _ countOut: UnsafeMutablePointer<Int>!
) -> Int32 {
    guard let countOut else { return fail(.invalidArgument, "rws_turn_next_events: count_out is NULL") }
    countOut.pointee = 0
    guard let events, capacity > 0 else {
        return fail(.invalidArgument, "rws_turn_next_events: events is NULL or capacity is 0")
    }
    return pull(turn, timeoutMs: timeoutMs, into: events, capacity: capacity, count: &countOut.pointee, function: "rws_turn_next_events")
}

/// Both pull calls: up to `capacity` queued events, copied into the handle's storage so they
/// stay valid until the next pull or rws_turn_free, their pointers written to `events`.
private func pull(
    _ turn: OpaquePointer?, timeoutMs: Int32, into events: UnsafeMutablePointer<UnsafePointer<rws_event>?>,
    capacity: Int, count: inout Int, function: String
) -> Int32 {
    guard let handle = borrow(turn, as: TurnHandle.self) else { return fail(.invalidArgument, "\(function): turn is NULL") }
    guard handle.turn.isPullMode else {
        return fail(.invalidState, "\(function): this turn delivers its events to a callback")
    }
    guard !ResponsesClient.onAnyClientThread else {
        return fail(.invalidState, "\(function) must not be called from a callback")
    }
    if handle.inbox.isEmpty {   // emptied whenever it has been served in full (below)
        switch handle.turn.nextEvents(timeoutMs: timeoutMs, max: .max, into: &handle.inbox) {
        case .timeout:
            return fail(.again, "no event within \(timeoutMs) ms; the turn goes on")
        case .done:
            return Status.done.rawValue
        case .event:
            break
        }
    }
    let served = handle.inboxHead..<min(handle.inbox.count, handle.inboxHead + capacity)
    handle.reservePulled(served.count)
    var base = handle.pullStorage.reserve(handle.inbox[served].reduce(0) { $0 + exposedSize($1) })
    var releasedBytes = 0
    for (i, index) in served.enumerated() {
        base = expose(handle.inbox[index], into: handle.pulled + i, at: base, scratch: &handle.scratch)
        events[i] = UnsafePointer(handle.pulled + i)
        releasedBytes += Turn.queuedSize(of: handle.inbox[index])
    }
    handle.turn.released(bytes: releasedBytes)
    count = served.count
    handle.inboxHead = served.upperBound
    if handle.inboxHead == handle.inbox.count {
        handle.inbox.removeAll(keepingCapacity: true)   // drop the frames' buffers now
        handle.inboxHead = 0
    }
    return Status.ok.rawValue
}

/// Bytes `expose` writes for one pulled event.
private func exposedSize(_ pending: PendingEvent) -> Int {
    let extra = pending.header.deltaEscaped || pending.header.errorMessageEscaped
        ? pending.header.delta.count + pending.header.errorMessage.count : 0
    return pending.frame.readableBytes + pending.responseID.count + extra + 1
}

/// Copies a pulled event's bytes (frame, response id, unescaped strings) to `base`, so its
/// pointers stay valid until the next pull or rws_turn_free, and fills `event` with views of
/// them. Returns the first byte past what it wrote (at most `exposedSize` bytes).
private func expose(
    _ pending: PendingEvent, into event: UnsafeMutablePointer<rws_event>, at base: UnsafeMutableRawPointer,
    scratch: inout [UInt8]
) -> UnsafeMutableRawPointer {
    let frameCount = pending.frame.readableBytes
    pending.frame.withUnsafeReadableBytes { if $0.count > 0 { base.copyMemory(from: $0.baseAddress!, byteCount: frameCount) } }
    let ridBase = base + frameCount
    pending.responseID.withUnsafeBytes { if $0.count > 0 { ridBase.copyMemory(from: $0.baseAddress!, byteCount: $0.count) } }
    let frame = UnsafeRawBufferPointer(start: base, count: frameCount)
    let rid = UnsafeRawBufferPointer(start: ridBase, count: pending.responseID.count)
    var decodedBase = ridBase + pending.responseID.count
    DeliveredEvent.with(frame: frame, header: pending.header, responseID: rid, scratch: &scratch) { d in
        // Unescaped strings live in the scratch array: move them next to the frame.
        func pin(_ s: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
            guard let p = s.baseAddress, s.count > 0, !(p >= frame.baseAddress! && p < frame.baseAddress! + frame.count) else { return s }
            decodedBase.copyMemory(from: p, byteCount: s.count)
            defer { decodedBase += s.count }
            return UnsafeRawBufferPointer(start: decodedBase, count: s.count)
        }
        let pinned = DeliveredEvent(frame: d.frame, header: d.header, responseID: d.responseID,
                                    delta: pin(d.delta), errorMessage: pin(d.errorMessage))
        fill(event, from: pinned)
    }
    return decodedBase
}

@c @implementation
public func rws_turn_notify_fd(_ turn: OpaquePointer!) -> Int32 {
    guard let handle = borrow(turn, as: TurnHandle.self) else { return fail(.invalidArgument, "rws_turn_notify_fd: turn is NULL") }
    guard handle.turn.isPullMode else {
        return fail(.invalidState, "rws_turn_notify_fd: this turn delivers its events to a callback")
    }
    do {
        return try handle.turn.notificationFD()
    } catch {
        return fail(error)
    }
}

@c @implementation
public func rws_turn_wait(_ turn: OpaquePointer!, _ timeoutMs: Int32) -> Int32 {
    guard let handle = borrow(turn, as: TurnHandle.self) else { return fail(.invalidArgument, "rws_turn_wait: turn is NULL") }
    guard !ResponsesClient.onAnyClientThread else {
        return fail(.invalidState, "rws_turn_wait must not be called from a callback")
    }
    guard let result = handle.turn.wait(timeoutMs: timeoutMs) else {
        return fail(.again, "the turn did not end within \(timeoutMs) ms; it goes on")
    }
    if result.status != .ok { _ = fail(result.status, result.message) }
    return result.status.rawValue
}

@c @implementation
public func rws_turn_cancel(_ turn: OpaquePointer!) -> Int32 {
    guard let handle = borrow(turn, as: TurnHandle.self) else { return fail(.invalidArgument, "rws_turn_cancel: turn is NULL") }
    return handle.session.cancel(handle.turn).rawValue
}

@c @implementation
public func rws_turn_get_result(_ turn: OpaquePointer!, _ result: UnsafeMutablePointer<rws_turn_result>!, _ size: Int) -> Int32 {
    guard let handle = borrow(turn, as: TurnHandle.self) else { return fail(.invalidArgument, "rws_turn_get_result: turn is NULL") }
    guard let result else { return fail(.invalidArgument, "rws_turn_get_result: result is NULL") }
    guard size >= MemoryLayout<Int>.size + MemoryLayout<Int32>.size else {
        return fail(.invalidArgument, "result_size is \(size): pass sizeof(rws_turn_result)")
    }
    guard let final = handle.turn.result else {
        var running = rws_turn_result()
        running.struct_size = MemoryLayout<rws_turn_result>.size
        running.status = Status.again.rawValue
        copyOut(running, to: UnsafeMutableRawPointer(result), size: size)
        return Status.again.rawValue
    }
    // A caller that loses the race to publish drops its own copy before handing anything out.
    let published = handle.result.load() ?? handle.result.storeIfNil(makeResult(final))
    copyOut(published.value, to: UnsafeMutableRawPointer(result), size: size)
    return Status.ok.rawValue
}

/// Lays the result's strings out in one buffer owned by the handle.
private func makeResult(_ r: TurnResult) -> CResult {
    let (storage, views) = pack([
        Array(r.response.id.utf8), Array(r.response.status.utf8), r.responseJSON,
        Array((r.errorCode ?? "").utf8), Array(r.message.utf8), Array((r.requestID ?? "").utf8),
    ])
    var out = rws_turn_result()
    out.struct_size = MemoryLayout<rws_turn_result>.size
    out.status = r.status.rawValue
    out.response_id = views[0]
    out.response_status = views[1]
    out.response_json = views[2]
    out.error_code = views[3]
    out.error_message = views[4]
    out.input_tokens = r.response.inputTokens
    out.output_tokens = r.response.outputTokens
    out.cached_input_tokens = r.response.cachedTokens
    out.reasoning_tokens = r.response.reasoningTokens
    out.error_status = r.errorStatus
    out.transport = r.transport.rawValue
    out.bytes_sent = r.bytesSent
    out.bytes_received = r.bytesReceived
    out.elapsed_us = r.elapsedMicros
    out.first_event_us = r.firstEventMicros
    out.flags = r.flags.rawValue
    out.request_id = views[5]
    return CResult(out, storage)
}

@c @implementation
public func rws_turn_free(_ turn: OpaquePointer!) {
    guard let turn, let handle = borrow(turn, as: TurnHandle.self) else { return }
    handle.session.cancel(handle.turn, message: "the turn was freed before it ended")
    handle.turn.closeNotifications()
    _ = release(turn, as: TurnHandle.self)
}
