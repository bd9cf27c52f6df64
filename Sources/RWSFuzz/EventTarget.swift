#if RWS_FUZZING || DEBUG

import ResponsesJSON
@testable import ResponsesWSCore

/// The input is one text frame's payload. `EventHeader.decode` must agree with the full JSON
/// parser about what is an event, every span it returns must lie inside the frame, and the
/// fields it reads must equal what the tree says.
enum EventTarget {
    static func run(_ data: UnsafeRawBufferPointer) {
        let tree = Result { () throws(JSONSyntaxError) in try JSONValue.parse(data) }
        let header = Result { try EventHeader.decode(data) }

        // The tree parser counts nesting from the document root, the header decoder restarts
        // inside `response` and `error`: only compare documents that are not nested near the limit.
        if case .failure(let error) = tree, error.message.contains("nesting") { return }

        switch (header, tree) {
        case (.success, .failure(let error)):
            // The tree parser refuses invalid string contents (it reads requests); server events
            // are read leniently by design. Any other disagreement is a bug.
            require(isStrictStringError(error), "decode accepted what the JSON parser rejects (\(error))")
        case (.failure(let error), .success(let value)):
            require(!hasStringType(value), "decode rejected an object with a string \"type\": \(error)")
        case (.success(let header), .success(let value)):
            require(hasStringType(value), "decode accepted an event without a string \"type\"")
            check(header, against: value, in: data)
        case (.failure, .failure):
            break
        }
    }

    private static func hasStringType(_ value: JSONValue) -> Bool {
        guard case .object(let object) = value else { return false }
        return object.members.contains { $0.key == "type" && $0.value.stringValue != nil }
    }

    private static func check(_ header: EventHeader, against value: JSONValue, in data: UnsafeRawBufferPointer) {
        let spans = [
            header.typeName, header.responseID, header.responseStatus, header.response, header.streamID,
            header.itemID, header.delta, header.errorCode, header.errorMessage,
        ]
        for span in spans {
            require(span.start >= 0 && span.start <= span.end && span.end <= data.count,
                    "span \(span.start)..<\(span.end) outside the \(data.count)-byte frame")
        }
        let scanner = JSONScanner(data)
        _ = scanner.string(header.delta, escaped: header.deltaEscaped)
        _ = scanner.string(header.errorMessage, escaped: header.errorMessageEscaped)

        guard case .object(let object) = value else { return }
        // Only unique keys have one right answer (the decoder and the tree may pick different duplicates).
        func unique(_ key: String) -> JSONValue? {
            let matches = object.members.filter { $0.key == key }
            return matches.count == 1 ? matches[0].value : nil
        }
        if let type = unique("type")?.stringValue {
            let raw = UnsafeRawBufferPointer(rebasing: data[header.typeName.start..<header.typeName.end])
            require(scanner.string(header.typeName, escaped: raw.contains(UInt8(ascii: "\\"))) == type,
                    "type name differs from the tree's \(type)")
        }
        // Non-negative only: the scanner reads magnitudes, so Int64.min alone does not fit
        // (sequence numbers count up from 0; noted, not worth a branch on the hot path).
        if case .number(let literal)? = unique("sequence_number"), let n = Int64(literal), n >= 0 {
            require(header.sequenceNumber == n, "sequence_number \(header.sequenceNumber), the tree says \(literal)")
        }
        if let delta = unique("delta")?.stringValue {
            require(scanner.string(header.delta, escaped: header.deltaEscaped) == delta, "delta differs from the tree's")
        }
        if header.type.carriesResponse, header.response.count > 0 {
            // The span covers exactly one object.
            let slice = UnsafeRawBufferPointer(rebasing: data[header.response.start..<header.response.end])
            let response = Result { () throws(JSONSyntaxError) in try JSONValue.parse(slice) }
            guard case .success(.object) = response else {
                require(false, "the response span is not one JSON object")
                return
            }
        }
    }
}

#endif
