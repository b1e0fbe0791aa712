public import Hummingbird
public import PaddockCore

/// An error as the gateway answers it: an HTTP status from one mapping
/// table, and the JSON body `{"code", "message", "details"}`.
public struct GatewayError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var error: PaddockError
    /// Seconds after which a retry may succeed (206, 306).
    public var retryAfter: Int?

    /// The status for a catalog error. 202 is the client's fault (400)
    /// when the gateway found it in the request, else the plugin's (502).
    public init(_ error: PaddockError, fromRequest: Bool = false) {
        self.error = error
        switch error.code {
        case .configurationMissing, .wrongFormat: status = .badRequest
        case .forbiddenCombination, .dependencyUnavailable: status = .unprocessableContent
        case .permissionDenied: status = .forbidden
        case .upstreamFailed: status = .badGateway
        case .unparsableData: status = fromRequest ? .badRequest : .badGateway
        case .handlerFailed, .internalError: status = .internalServerError
        case .timedOut: status = .gatewayTimeout
        case .storageQuotaExceeded: status = .init(code: 507, reasonPhrase: "Insufficient Storage")
        case .rateLimited:
            status = .tooManyRequests
            retryAfter = Self.retryAfter(error)
        case .pluginUnavailable where error.reason == .notInstalled:
            status = .notFound
        case .pluginUnavailable:
            status = .serviceUnavailable
            retryAfter = Self.retryAfter(error)
        default: status = .serviceUnavailable  // 301–305: the plugin died
        }
    }

    /// `details.retry_after` in whole seconds, 1 to 3600 whatever a plugin put there.
    static func retryAfter(_ error: PaddockError) -> Int {
        min(max(Int(error.details["retry_after"] ?? "") ?? 1, 1), 3600)
    }

    /// An error with a status of its own (401, 404, 405, 413).
    public init(status: HTTPResponse.Status, _ error: PaddockError) {
        self.status = status
        self.error = error
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    /// The answer's headers: the content type, and `Retry-After` when there is one.
    var headers: HTTPFields {
        var headers: HTTPFields = [.contentType: "application/json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        return headers
    }

    /// The answer's body: `{"code", "message", "details"}`, the field among the details.
    var body: [UInt8] {
        let details = error.details.mapValues(JSONValue.string).merging(error.field.map { ["field": .string($0)] } ?? [:]) { a, _ in a }
        let body: JSONValue = ["code": .int(error.code.rawValue), "message": .string(error.message), "details": .object(details)]
        return body.jsonBytes
    }
}
