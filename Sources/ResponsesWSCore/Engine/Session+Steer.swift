import NIOCore
import ResponsesJSON

/// Steering a running turn (§3.2, §4.6, §5.6): `response.steer` for the turn's response, sent
/// once its `response.created` has arrived, its acknowledgements delivered as events of the
/// turn, and the automatic successor followed until the turn's last response ends. A steer is
/// never replayed. The ledger (SteerLedger) decides; this file sends and reads.
extension Session {
    /// Adds a steer to `turn` and returns its index (for `Turn.steerStatus`). Never blocks.
    public func steer(_ turn: Turn, _ input: SteerInput) throws(RWSError) -> Int {
        guard let index = turn.withSteers({ $0.add(input) }) else {
            throw RWSError(.invalidState, "the turn has ended, so there is no running response to steer: send the input with a new turn")
        }
        guard client.executeOnLoop({ [self] in steerOnLoop(turn, index) }) else {
            throw RWSError(.invalidState, "the client was freed")
        }
        return index
    }

    private func steerOnLoop(_ turn: Turn, _ index: Int) {
        turn.hasSteers = true
        guard !turn.isFinished else { return }   // its end already settled the steer
        if turn.transport == .http {
            turn.withSteers { $0.refuse(index, "steering needs WebSocket mode, and this turn went over HTTP/SSE; the steer was not sent") }
            return
        }
        if turn.phase >= .created { sendHeldSteers(turn) }
    }

    /// The turn's response exists (its response.created, or a successor's): held steers go out.
    func sendHeldSteers(_ turn: Turn) {
        guard let c = turn.connection, !turn.responseID.isEmpty else { return }
        let target = String(decoding: turn.responseID, as: UTF8.self)
        for (index, input) in turn.withSteers({ $0.release(target: target) }) {
            // §3.2: exactly these three fields; the target's lane applies, so no stream_id.
            var body = ByteBuffer()
            body.writeStaticString(#"{"type":"response.steer","previous_response_id":"#)
            var id: [UInt8] = []
            JSONValue.writeString(target, to: &id)
            body.writeBytes(id)
            body.writeStaticString(#","input":"#)
            body.writeBytes(input.json)
            body.writeStaticString("}")
            count.add(.bytesSent, UInt64(body.readableBytes))
            c.sendText(body).whenFailure { error in
                turn.withSteers { $0.lost(index, "the steer could not be written (\(error)); the server may have it, so it was not replayed") }
            }
        }
    }

    /// An acknowledgement (§4.6), read in full: they are rare, and their ids and inputs are
    /// not in the event header.
    func noteSteer(_ header: EventHeader, frame: UnsafeRawBufferPointer, of turn: Turn) {
        guard let event = try? JSONValue.parse(frame) else { return }
        let steer = event["steer"]
        let id = steer?["id"]?.stringValue
        switch header.type {
        case .steerAccepted:
            if let id { turn.withSteers { $0.accepted(id: id) } }
        case .steerPending:
            let stubs = event["required_input"]?.serialized ?? []
            if let id { turn.withSteers { $0.pending(id: id, requiredInput: stubs) } }
        default:
            let error = event["error"]
            let code = error?["code"]?.stringValue
            let message = client.redactor.redact(error?["message"]?.stringValue ?? "the server did not apply the steer")
            let input = steer?["input"]?.serialized ?? []
            turn.withSteers { $0.failed(id: id, code: code, message: message, input: input) }
        }
    }

    /// After a steered response's terminal event the turn waits; the next response.created on
    /// its lane is the automatic successor (§5.6), which the turn follows from here on.
    func adoptSuccessor(_ turn: Turn, header: EventHeader, frame: UnsafeRawBufferPointer) {
        turn.heldResult = nil
        turn.responseID = Array(frame[header.responseID.start..<header.responseID.end])
        turn.sentItems = turn.withSteers { $0.successorCreated() }
        turn.sentChaining = .session
        client.log(.debug, "a steered response continues as \(String(decoding: turn.responseID, as: UTF8.self))")
    }

    /// Whether `result`, of the turn's response, must wait for its steers' outcome.
    func holdsForSteers(_ turn: Turn, _ result: TurnResult) -> Bool {
        guard turn.hasSteers, result.status == .ok, turn.withSteers({ $0.awaitingOutcome }) else { return false }
        turn.heldResult = result
        return true
    }

    /// A held turn whose steers have all been answered ends with its response's result.
    func endIfSteersSettled(_ turn: Turn) {
        guard let held = turn.heldResult, !turn.withSteers({ $0.awaitingOutcome }) else { return }
        complete(turn, held)
    }
}
