import CResponsesWS
import Foundation
import ResponsesWSCore
import Testing

/// The Swift enums whose raw values cross the C ABI agree with include/responses_ws.h: each
/// case is paired with the header's constant (a renamed or removed constant does not compile),
/// and the header's enum blocks are read as text so that a value added on one side only fails.
@Suite struct HeaderValuesTests {
    static let statuses: [(Status, Int32)] = [
        (.ok, Int32(RWS_OK)), (.done, Int32(RWS_DONE)),
        (.invalidArgument, Int32(RWS_E_INVALID_ARGUMENT)), (.invalidState, Int32(RWS_E_INVALID_STATE)),
        (.noMemory, Int32(RWS_E_NO_MEMORY)), (.invalidJSON, Int32(RWS_E_INVALID_JSON)),
        (.again, Int32(RWS_E_AGAIN)), (.internal, Int32(RWS_E_INTERNAL)),
        (.unsupported, Int32(RWS_E_UNSUPPORTED)), (.url, Int32(RWS_E_URL)), (.dns, Int32(RWS_E_DNS)),
        (.connect, Int32(RWS_E_CONNECT)), (.tls, Int32(RWS_E_TLS)), (.tlsVerify, Int32(RWS_E_TLS_VERIFY)),
        (.auth, Int32(RWS_E_AUTH)), (.upgradeRefused, Int32(RWS_E_UPGRADE_REFUSED)),
        (.timeout, Int32(RWS_E_TIMEOUT)), (.closed, Int32(RWS_E_CLOSED)),
        (.outcomeUnknown, Int32(RWS_E_OUTCOME_UNKNOWN)), (.messageTooBig, Int32(RWS_E_MESSAGE_TOO_BIG)),
        (.requestTooBig, Int32(RWS_E_REQUEST_TOO_BIG)), (.protocolViolation, Int32(RWS_E_PROTOCOL)),
        (.cancelled, Int32(RWS_E_CANCELLED)), (.aborted, Int32(RWS_E_ABORTED)), (.proxy, Int32(RWS_E_PROXY)),
        (.server, Int32(RWS_E_SERVER)), (.previousResponseNotFound, Int32(RWS_E_PREVIOUS_RESPONSE_NOT_FOUND)),
        (.connectionLimit, Int32(RWS_E_CONNECTION_LIMIT)), (.streamLimit, Int32(RWS_E_STREAM_LIMIT)),
        (.invalidStreamID, Int32(RWS_E_INVALID_STREAM_ID)), (.rateLimited, Int32(RWS_E_RATE_LIMITED)),
        (.responseFailed, Int32(RWS_E_RESPONSE_FAILED)), (.invalidRequest, Int32(RWS_E_INVALID_REQUEST)),
    ]

    static let events: [(EventType, Int32)] = [
        (.other, Int32(RWS_EVENT_OTHER)), (.responseCreated, Int32(RWS_EVENT_RESPONSE_CREATED)),
        (.responseQueued, Int32(RWS_EVENT_RESPONSE_QUEUED)), (.responseInProgress, Int32(RWS_EVENT_RESPONSE_IN_PROGRESS)),
        (.responseCompleted, Int32(RWS_EVENT_RESPONSE_COMPLETED)), (.responseFailed, Int32(RWS_EVENT_RESPONSE_FAILED)),
        (.responseIncomplete, Int32(RWS_EVENT_RESPONSE_INCOMPLETE)), (.error, Int32(RWS_EVENT_ERROR)),
        (.outputItemAdded, Int32(RWS_EVENT_OUTPUT_ITEM_ADDED)), (.outputItemDone, Int32(RWS_EVENT_OUTPUT_ITEM_DONE)),
        (.contentPartAdded, Int32(RWS_EVENT_CONTENT_PART_ADDED)), (.contentPartDone, Int32(RWS_EVENT_CONTENT_PART_DONE)),
        (.outputTextDelta, Int32(RWS_EVENT_OUTPUT_TEXT_DELTA)), (.outputTextDone, Int32(RWS_EVENT_OUTPUT_TEXT_DONE)),
        (.functionCallArgumentsDelta, Int32(RWS_EVENT_FUNCTION_CALL_ARGUMENTS_DELTA)),
        (.functionCallArgumentsDone, Int32(RWS_EVENT_FUNCTION_CALL_ARGUMENTS_DONE)),
        (.reasoningSummaryTextDelta, Int32(RWS_EVENT_REASONING_SUMMARY_TEXT_DELTA)),
        (.reasoningSummaryTextDone, Int32(RWS_EVENT_REASONING_SUMMARY_TEXT_DONE)),
        (.reasoningTextDelta, Int32(RWS_EVENT_REASONING_TEXT_DELTA)), (.reasoningTextDone, Int32(RWS_EVENT_REASONING_TEXT_DONE)),
        (.refusalDelta, Int32(RWS_EVENT_REFUSAL_DELTA)), (.refusalDone, Int32(RWS_EVENT_REFUSAL_DONE)),
        (.responseDone, Int32(RWS_EVENT_RESPONSE_DONE)),
        (.steerAccepted, Int32(RWS_EVENT_STEER_ACCEPTED)), (.steerPending, Int32(RWS_EVENT_STEER_PENDING)),
        (.steerFailed, Int32(RWS_EVENT_STEER_FAILED)),
    ]

    /// `NAME = value` entries of the header's enum constants whose names start with `prefix`.
    static func headerConstants(prefix: String) throws -> [String: Int32] {
        let header = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("include/responses_ws.h")
        let text = try String(contentsOf: header, encoding: .utf8)
        var found: [String: Int32] = [:]
        for line in text.split(separator: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix(prefix), let equals = trimmed.firstIndex(of: "=") else { continue }
            let name = trimmed[..<equals].trimmingCharacters(in: .whitespaces)
            let value = trimmed[trimmed.index(after: equals)...].prefix { $0 == "-" || $0 == " " || $0.isNumber }
            if let number = Int32(value.trimmingCharacters(in: .whitespaces)) { found[name] = number }
        }
        return found
    }

    @Test func statusCodesMatchTheHeader() throws {
        for (status, c) in Self.statuses { #expect(status.rawValue == c, "\(status)") }
        let header = try Self.headerConstants(prefix: "RWS_E_").merging(["RWS_OK": 0, "RWS_DONE": 1]) { a, _ in a }
        #expect(Set(header.values) == Set(Self.statuses.map(\.1)), "a status added on one side only")
        #expect(header.count == Self.statuses.count)
        // Every value Swift can produce is in the header, and no Swift case is left out here.
        let swiftValues = (-200...200).compactMap { Status(rawValue: Int32($0))?.rawValue }
        #expect(Set(swiftValues) == Set(header.values))
    }

    @Test func eventTypesMatchTheHeader() throws {
        for (type, c) in Self.events { #expect(type.rawValue == c, "\(type)") }
        let header = try Self.headerConstants(prefix: "RWS_EVENT_")
        #expect(Set(header.values) == Set(Self.events.map(\.1)))
        #expect(header.count == Self.events.count)
        let swiftValues = (0...255).compactMap { EventType(rawValue: Int32($0))?.rawValue }
        #expect(Set(swiftValues) == Set(header.values))
    }

    @Test func steerStatesAndLaneModesMatchTheHeader() {
        let states: [(SteerState, Int32)] = [
            (.unknown, Int32(RWS_STEER_UNKNOWN)), (.accepted, Int32(RWS_STEER_ACCEPTED)), (.committed, Int32(RWS_STEER_COMMITTED)),
            (.pending, Int32(RWS_STEER_PENDING)), (.failed, Int32(RWS_STEER_FAILED)), (.lost, Int32(RWS_STEER_LOST)),
        ]
        for (state, value) in states { #expect(state.rawValue == value, "\(state)") }
        #expect(LaneSharing.shared.rawValue == Int32(RWS_LANES_SHARED))
        #expect(LaneSharing.perSession.rawValue == Int32(RWS_LANES_PER_SESSION))
    }

    @Test func turnFlagsMatchTheHeader() {
        #expect(TurnFlags.incremental.rawValue == RWS_TURN_INCREMENTAL)
        #expect(TurnFlags.fullResend.rawValue == RWS_TURN_FULL_RESEND)
        #expect(TurnFlags.reconnected.rawValue == RWS_TURN_RECONNECTED)
        #expect(TurnFlags.fallback.rawValue == RWS_TURN_FALLBACK)
        #expect(TurnFlags.rotated.rawValue == RWS_TURN_ROTATED)
    }

    @Test func everyStatusHasItsOwnName() {
        var names: Set<String> = []
        for (_, c) in Self.statuses {
            let name = String(cString: rws_strerror(c))
            #expect(!name.isEmpty && !name.lowercased().contains("unknown status"), "\(c): \(name)")
            names.insert(name)
        }
        #expect(names.count == Self.statuses.count, "two codes share a description")
    }
}
