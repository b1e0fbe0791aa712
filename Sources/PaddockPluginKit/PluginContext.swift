public import PaddockCore
import NIOCore
import PaddockRPC
import Synchronization

/// What a handler gets besides its arguments: settings, logging, streaming,
/// cancellation, and calls into the host.
public struct PluginContext: Sendable {
    public let settings: JSONValue
    public let credentials: JSONValue
    /// The tenant the call is made for, if any.
    public let tenant: String?
    /// The id of the host's request being served.
    public let callID: String
    /// The outside request the call serves (the gateway's `X-Request-Id`),
    /// when there is one; ``log(_:level:metadata:)`` sends it with each line.
    public let requestID: String?
    let id: JSONValue
    let peer: RPCPeer
    let cancelled: CancellationFlag

    /// True once the host cancelled this call (its deadline passed).
    public var isCancelled: Bool { cancelled.isSet }

    /// Throws 204 when the host cancelled this call.
    public func checkCancellation() throws {
        if cancelled.isSet { throw PaddockError(.timedOut, "the call was cancelled") }
    }

    /// Sends a log line to the host, tied to this call and the outside request it serves.
    public func log(_ message: String, level: String = "info", metadata: [String: String] = [:]) {
        var params: [String: JSONValue] = [
            "level": .string(level), "message": .string(message), "call": id,
            "fields": .object(metadata.mapValues(JSONValue.string)),
        ]
        if let requestID { params[RequestID.parameter] = .string(requestID) }
        peer.notify("log", params: JSONValue.object(params).jsonBytes)
    }

    /// Sends a partial result now.
    public func stream(_ chunk: JSONValue) async throws {
        peer.notify("stream.chunk", params: (["id": id, "chunk": chunk] as JSONValue).jsonBytes)
    }

    /// Calls the host (`storage.get`, `tool.invoke`, `model.invoke`, ...);
    /// the host checks the manifest's permissions first (104 when missing).
    public func host(_ method: String, _ params: JSONValue = [:]) async throws -> JSONValue {
        try JSONValue(parsing: try await peer.call(method, params: params.jsonBytes, timeout: .seconds(30)).get())
    }
}

/// Set once by `$/cancel`.
final class CancellationFlag: Sendable {
    private let flag = Mutex(false)
    var isSet: Bool { flag.withLock { $0 } }
    func set() { flag.withLock { $0 = true } }
}

/// An HTTP request to an endpoint.
public struct EndpointRequest: Sendable {
    public var method: String
    public var path: String
    public var query: JSONValue
    public var headers: JSONValue
    public var body: [UInt8]
    /// The endpoint's parameters, validated by the host.
    public var params: JSONValue
}

/// What an endpoint answers.
public struct EndpointResponse: Sendable {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]

    public init(status: Int = 200, headers: [String: String] = [:], body: [UInt8] = []) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// A JSON body, with its content type.
    public init(status: Int = 200, json: JSONValue) {
        self.init(status: status, headers: ["content-type": "application/json"], body: json.jsonBytes)
    }
}
