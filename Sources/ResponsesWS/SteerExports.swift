import CResponsesWS
import ResponsesWSCore
import Synchronization

/// A steer's state as C sees it, and the buffer its strings point into.
final class CSteerInfo: @unchecked Sendable {   // immutable once built
    let value: rws_steer_info
    let storage: GrowableBuffer
    init(_ value: rws_steer_info, _ storage: GrowableBuffer) { self.value = value; self.storage = storage }
}

struct SteerInfoKey: Hashable {
    let index: Int
    let version: Int
}

@c @implementation
public func rws_turn_steer(_ turn: OpaquePointer!, _ input: UnsafePointer<CChar>!, _ inputLen: Int,
                           _ indexOut: UnsafeMutablePointer<UInt32>!) -> Int32 {
    guard let handle = borrow(turn, as: TurnHandle.self) else { return fail(.invalidArgument, "rws_turn_steer: turn is NULL") }
    guard let input else { return fail(.invalidArgument, "rws_turn_steer: input_json is NULL") }
    do {
        let steer = try SteerInput.parse(bytes(input, inputLen))
        let index = try handle.session.steer(handle.turn, steer)
        indexOut?.pointee = UInt32(index)
        return Status.ok.rawValue
    } catch {
        return fail(error)
    }
}

@c @implementation
public func rws_turn_steer_info(_ turn: OpaquePointer!, _ index: UInt32, _ info: UnsafeMutablePointer<rws_steer_info>!,
                                _ size: Int) -> Int32 {
    guard let handle = borrow(turn, as: TurnHandle.self) else { return fail(.invalidArgument, "rws_turn_steer_info: turn is NULL") }
    guard let info else { return fail(.invalidArgument, "rws_turn_steer_info: info is NULL") }
    guard size >= MemoryLayout<Int>.size + MemoryLayout<Int32>.size else {
        return fail(.invalidArgument, "info_size is \(size): pass sizeof(rws_steer_info)")
    }
    guard let status = handle.turn.steerStatus(Int(index)) else {
        return fail(.invalidArgument, "rws_turn_steer_info: the turn has no steer \(index) (it has \(handle.turn.steerCount))")
    }
    let key = SteerInfoKey(index: Int(index), version: status.version)
    let published = handle.steerInfos.withLock { infos in
        if let known = infos[key] { return known }
        let made = makeSteerInfo(status)
        infos[key] = made
        return made
    }
    copyOut(published.value, to: UnsafeMutableRawPointer(info), size: size)
    return Status.ok.rawValue
}

private func makeSteerInfo(_ s: SteerStatus) -> CSteerInfo {
    let (storage, views) = pack([
        Array((s.id ?? "").utf8), Array((s.target ?? "").utf8), Array((s.errorCode ?? "").utf8), Array(s.message.utf8),
        s.returnedInput, s.requiredInput,
    ])
    var out = rws_steer_info()
    out.struct_size = MemoryLayout<rws_steer_info>.size
    out.state = s.state.rawValue
    out.steer_id = views[0]
    out.target_response_id = views[1]
    out.error_code = views[2]
    out.error_message = views[3]
    out.input_json = views[4]
    out.required_input_json = views[5]
    return CSteerInfo(out, storage)
}
