import PaddockCore

/// Encodes and decodes JSON-RPC 2.0 messages; one message (or one batch)
/// per frame of newline-delimited JSON.
public enum RPCCodec {
    /// Decodes one frame: a message, or a batch (a JSON array of messages).
    /// - Throws: ``RPCError`` -32700 for bad JSON and -32600 for JSON that is
    ///   not a JSON-RPC 2.0 message, both carrying catalog code 202.
    public static func decode(_ frame: UnsafeRawBufferPointer) throws(RPCError) -> (messages: [RPCMessage], isBatch: Bool) {
        var start = 0
        while start < frame.count, [0x20, 0x09, 0x0D, 0x0A].contains(frame[start]) { start += 1 }
        guard start < frame.count else { throw invalid("empty frame") }
        if frame[start] == UInt8(ascii: "[") {
            let value: JSONValue
            do { value = try JSONParser.parse(frame) } catch { throw RPCError(error, code: RPCError.parseError) }
            guard case .array(let items) = value, !items.isEmpty else { throw invalid("an empty batch") }
            var messages: [RPCMessage] = []
            for item in items {
                messages.append(try withBytes(item.jsonBytes) { buffer throws(RPCError) in try message(buffer) })
            }
            return (messages, true)
        }
        return ([try message(frame)], false)
    }

    private static func message(_ buffer: UnsafeRawBufferPointer) throws(RPCError) -> RPCMessage {
        let members: [String: JSONValue]
        let raw: [String: Range<Int>]
        do {
            (members, raw) = try JSONParser.parseObject(buffer, keepingRaw: ["params", "result"])
        } catch {
            // Valid JSON that is not an object is an invalid request; anything else a parse error.
            let isJSON = (try? JSONParser.validate(buffer)) != nil
            throw RPCError(error, code: isJSON ? RPCError.invalidRequest : RPCError.parseError)
        }
        guard members["jsonrpc"] == .string("2.0") else { throw invalid("\"jsonrpc\" must be \"2.0\"") }
        let bytes = { (key: String) in raw[key].map { Array(buffer[$0]) } }
        let id = members["id"].flatMap(RPCID.init)
        if members["id"] != nil, members["id"] != .null, id == nil { throw invalid("\"id\" must be a number or a string") }

        if let method = members["method"] {
            guard case .string(let name) = method else { throw invalid("\"method\" must be a string") }
            if let params = bytes("params"), let first = params.first, first != UInt8(ascii: "{"), first != UInt8(ascii: "[") {
                throw invalid("\"params\" must be an object or an array")
            }
            if let id { return .request(id: id, method: name, params: bytes("params") ?? []) }
            return .notification(method: name, params: bytes("params") ?? [])
        }
        if let result = bytes("result") {
            guard let id else { throw invalid("a response needs an id") }
            return .response(id: id, result: result)
        }
        if case .object(let error)? = members["error"] {
            guard case .int(let code)? = error["code"], case .string(let message)? = error["message"] else {
                throw invalid("an error needs a numeric code and a message")
            }
            return .failure(id: id, error: RPCError(code: code, message: message, data: error["data"]))
        }
        throw invalid("neither a request, a notification nor a response")
    }

    /// `withUnsafeBytes` keeping the typed error, which the standard library's rethrows loses.
    static func withBytes<T>(
        _ bytes: [UInt8],
        _ body: (UnsafeRawBufferPointer) throws(RPCError) -> T
    ) throws(RPCError) -> T {
        let result: Result<T, RPCError> = bytes.withUnsafeBytes { buffer in
            do throws(RPCError) { return .success(try body(buffer)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    private static func invalid(_ reason: String) -> RPCError {
        RPCError(PaddockError(.unparsableData, "invalid JSON-RPC message: \(reason)"), code: RPCError.invalidRequest)
    }

    /// The frame of one message, newline included.
    public static func encode(_ message: RPCMessage) -> [UInt8] {
        var bytes: [UInt8] = []
        func append(_ text: StaticString) {
            bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
        }
        func append(_ id: RPCID?) {
            switch id {
            case .number(let number)?: bytes.append(contentsOf: String(number).utf8)
            case .string(let text)?: JSONValue.quote(text, into: &bytes)
            case nil: append("null")
            }
        }
        switch message {
        case .request(let id, let method, let params):
            bytes.reserveCapacity(48 + method.utf8.count + params.count)
            append(#"{"jsonrpc":"2.0","id":"#)
            append(id)
            append(#","method":"#)
            JSONValue.quote(method, into: &bytes)
            if !params.isEmpty {
                append(#","params":"#)
                bytes.append(contentsOf: params)
            }
        case .notification(let method, let params):
            bytes.reserveCapacity(40 + method.utf8.count + params.count)
            append(#"{"jsonrpc":"2.0","method":"#)
            JSONValue.quote(method, into: &bytes)
            if !params.isEmpty {
                append(#","params":"#)
                bytes.append(contentsOf: params)
            }
        case .response(let id, let result):
            bytes.reserveCapacity(40 + result.count)
            append(#"{"jsonrpc":"2.0","id":"#)
            append(id)
            append(#","result":"#)
            if result.isEmpty { append("null") } else { bytes.append(contentsOf: result) }
        case .failure(let id, let error):
            var object: [String: JSONValue] = ["code": .int(error.code), "message": .string(error.message)]
            if let data = error.data { object["data"] = data }
            append(#"{"jsonrpc":"2.0","id":"#)
            append(id)
            append(#","error":"#)
            JSONValue.object(object).write(to: &bytes)
        }
        append("}\n")
        return bytes
    }
}
