public import PaddockCore

/// The id of a JSON-RPC request: a number or a string.
public enum RPCID: Hashable, Sendable, CustomStringConvertible {
    case number(Int)
    case string(String)

    init?(_ value: JSONValue) {
        switch value {
        case .int(let number): self = .number(number)
        case .string(let text): self = .string(text)
        default: return nil
        }
    }

    /// The id as JSON.
    public var jsonValue: JSONValue {
        switch self {
        case .number(let number): .int(number)
        case .string(let text): .string(text)
        }
    }

    public var description: String {
        switch self {
        case .number(let number): String(number)
        case .string(let text): text
        }
    }
}

/// One JSON-RPC 2.0 message. `params` and `result` stay raw JSON bytes:
/// the envelope is routed on a cheap parse and the payload is decoded
/// only where it is used.
public enum RPCMessage: Sendable, Equatable {
    case request(id: RPCID, method: String, params: [UInt8])
    case notification(method: String, params: [UInt8])
    case response(id: RPCID, result: [UInt8])
    case failure(id: RPCID?, error: RPCError)
}

/// A JSON-RPC error object. Protocol-level errors use the standard codes
/// (-32700 parse error, -32600 invalid request, -32601 method not found,
/// -32602 invalid params, -32603 internal error); application errors use
/// -32000. Either way `data.code` carries Paddock's catalog code and
/// `data.details` its evidence.
public struct RPCError: Error, Sendable, Equatable {
    public static let parseError = -32700
    public static let invalidRequest = -32600
    public static let methodNotFound = -32601
    public static let invalidParams = -32602
    public static let internalError = -32603
    public static let applicationError = -32000

    public var code: Int
    public var message: String
    public var data: JSONValue?

    public init(code: Int, message: String, data: JSONValue? = nil) {
        self.code = code
        self.message = message
        self.data = data
    }

    /// The JSON-RPC form of a catalog error.
    public init(_ error: PaddockError, code: Int = RPCError.applicationError) {
        var data: [String: JSONValue] = ["code": .int(error.code.rawValue)]
        if !error.details.isEmpty { data["details"] = .object(error.details.mapValues(JSONValue.string)) }
        if let field = error.field { data["field"] = .string(field) }
        self.init(code: code, message: error.message, data: .object(data))
    }

    /// The catalog error it carries: `data.code` when present, else one
    /// derived from the JSON-RPC code (202 for protocol errors, 203 otherwise).
    public var paddockError: PaddockError {
        let catalog = data?["code"].flatMap { if case .int(let number) = $0 { number } else { nil } }
        let code =
            catalog.flatMap(PaddockError.Code.init(rawValue:))
            ?? (self.code <= -32600 && self.code >= -32700 ? .unparsableData : .handlerFailed)
        var details: [String: String] = [:]
        if case .object(let members)? = data?["details"] {
            for (key, value) in members { details[key] = value.stringValue ?? value.jsonText }
        }
        return PaddockError(code, message, field: data?["field"]?.stringValue, details: details)
    }
}
