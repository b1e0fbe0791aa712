import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PaddockCore

/// The outermost layer: gives each request its id (`X-Request-Id`, the
/// client's when valid, else a new one) and returns it on every response;
/// turns every error into the gateway's JSON error (unknown routes
/// included); records each request in the metrics and the log.
struct EdgeMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let metrics: GatewayMetrics
    let logger: Logger

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        var context = context
        context.requestID = Self.requestID(request.headers[.requestID])
        var response: Response
        var code: Int?
        do {
            response = try await next(request, context)
        } catch {
            let coded = Self.gatewayError(error)
            if coded.error.code == .internalError {
                logger.error("request failed", metadata: ["request_id": .string(context.requestID), "error": .string("\(error)")])
            }
            code = coded.error.code.rawValue
            response = try coded.response(from: request, context: context)
        }
        response.headers[.requestID] = context.requestID
        Self.record(
            metrics, logger, route: context.endpointPath ?? "unmatched", request.method, path: request.uri.path,
            requestID: context.requestID, status: response.status.code, code: code, since: started,
            caller: context.seenCaller.value, namedTenant: request.headers[.paddockTenant])
        return response
    }

    /// Records an answered request, whichever path answered it: in the
    /// metrics, and as one line, before the answer leaves (whoever has the
    /// answer finds the line written): `request_id`, `method`, `path` (not
    /// the query), `status`, `code` for an error, `duration_ms` (for an
    /// event stream, until its head), and who called: `tenant`, `key_id` (never a key).
    static func record(
        _ metrics: GatewayMetrics, _ logger: Logger, route: String, _ method: HTTPRequest.Method, path: String, requestID: String,
        status: Int, code: Int?, since started: ContinuousClock.Instant, caller: Caller?, namedTenant: String?
    ) {
        let duration = started.duration(to: .now)
        metrics.request(route: route, method: method.rawValue, status: status, duration: duration)
        guard logger.logLevel <= .info else { return }
        let elapsed = duration.components
        var metadata: Logger.Metadata = [
            "request_id": .string(requestID), "method": .string(method.rawValue), "path": .string(path),
            "status": .stringConvertible(status),
            "duration_ms": .stringConvertible(Double(elapsed.seconds * 1_000_000 + elapsed.attoseconds / 1_000_000_000_000) / 1000),
        ]
        if let code { metadata["code"] = .stringConvertible(code) }
        if let caller {
            metadata["key_id"] = .string(caller.keyID)
            let named = namedTenant.flatMap { (try? Tenant.check($0)) != nil ? $0 : nil }
            if let tenant = caller.kind == .tenant ? caller.tenant : named { metadata["tenant"] = .string(tenant) }
        }
        logger.info("request", metadata: metadata)
    }

    /// The client's request id when it is a valid one (``RequestID``), else
    /// a new one: 32 random hex digits.
    static func requestID(_ given: String?) -> String {
        if let given, RequestID.isValid(given) { return given }
        var random = SystemRandomNumberGenerator()
        return hex(random.next()) + hex(random.next())
    }

    private static func hex(_ value: UInt64) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 16 - digits.count) + digits
    }

    /// 413 for a body over `limit` bytes.
    static func bodyTooLarge(limit: Int) -> GatewayError {
        GatewayError(
            status: .contentTooLarge,
            PaddockError(.wrongFormat, "the request body is larger than \(limit) bytes", details: ["limit": String(limit)]))
    }

    static func gatewayError(_ error: any Error) -> GatewayError {
        switch error {
        case let error as GatewayError: return error
        case let error as PaddockError: return GatewayError(error)
        case let error as NIOTooManyBytesError: return bodyTooLarge(limit: error.maxBytes ?? 0)
        case let error as HTTPError:
            let code: PaddockError.Code = error.status == .methodNotAllowed ? .permissionDenied : .wrongFormat
            let message =
                switch error.status {
                case .notFound: "there is no such route"
                case .contentTooLarge: "the request body is too large"
                default: error.body ?? error.status.reasonPhrase
                }
            return GatewayError(status: error.status, PaddockError(code, message))
        default:
            return GatewayError(status: .internalServerError, PaddockError(.internalError, "the gateway failed: \(error)"))
        }
    }
}

/// CORS from the configuration: nothing is allowed by default. A preflight
/// from an allowed origin is answered 204 with the allowed methods and
/// headers; from any other origin it is refused (403, no CORS headers).
struct CORSPolicy: RouterMiddleware {
    typealias Context = GatewayContext
    let cors: GatewayConfiguration.CORS

    func allows(_ origin: String) -> Bool {
        cors.origins.contains(origin) || cors.origins.contains("*")
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin] else { return try await next(request, context) }
        let preflight = request.method == .options && request.headers[.accessControlRequestMethod] != nil
        guard allows(origin) else {
            if preflight {
                throw GatewayError(status: .forbidden, PaddockError(.permissionDenied, "the origin \(origin) is not allowed"))
            }
            return try await next(request, context)
        }
        var headers: HTTPFields = [.accessControlAllowOrigin: cors.origins.contains(origin) ? origin : "*", .vary: "Origin"]
        if !preflight { headers[.accessControlExposeHeaders] = "X-Request-Id, X-Paddock-Cache, Retry-After" }
        if preflight {
            headers[.accessControlAllowMethods] = cors.methods.joined(separator: ", ")
            headers[.accessControlAllowHeaders] = cors.headers.joined(separator: ", ")
            headers[.accessControlMaxAge] = String(cors.maxAge)
            return Response(status: .noContent, headers: headers)
        }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            response = try EdgeMiddleware.gatewayError(error).response(from: request, context: context)
        }
        response.headers.append(contentsOf: headers)
        return response
    }
}

/// Requires an API key (`Authorization: Bearer KEY` or `X-Api-Key: KEY`):
/// 401 without a valid one, 403 for a tenant key on admin routes; then the
/// key's rate limit (429).
struct KeyMiddleware: RouterMiddleware {
    typealias Context = GatewayContext
    let authenticator: Authenticator
    let limits: TokenBuckets
    let adminOnly: Bool

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await next(request, try await authenticated(request, context))
    }

    /// The context with its caller, checked.
    func authenticated(_ request: Request, _ context: Context) async throws -> Context {
        var context = context
        if context.caller == nil {
            guard let key = Authenticator.key(authorization: request.headers[.authorization], apiKey: request.headers[.apiKey]) else {
                throw GatewayError(status: .unauthorized, PaddockError(.permissionDenied, "an API key is required: Authorization: Bearer KEY"))
            }
            guard let caller = try await authenticator.caller(for: key) else {
                throw GatewayError(status: .unauthorized, PaddockError(.permissionDenied, "the API key is not valid (unknown or revoked)"))
            }
            try Self.takeToken(limits, caller)
            context.caller = caller
        }
        if adminOnly, context.caller?.kind != .admin {
            throw GatewayError(PaddockError(.permissionDenied, "this route needs an admin key"))
        }
        return context
    }

    /// Takes a token of the caller's key's rate limit.
    /// - Throws: 429 (206) when there is none.
    static func takeToken(_ limits: TokenBuckets, _ caller: Caller) throws(GatewayError) {
        if let wait = limits.take("key:" + caller.keyID) {
            throw GatewayError(PaddockError(
                .rateLimited, "this key is over its rate limit", details: ["retry_after": String(Int(wait.rounded(.up)))]))
        }
    }
}

extension HTTPField.Name {
    static let apiKey = HTTPField.Name("X-Api-Key")!
    static let paddockCache = HTTPField.Name("X-Paddock-Cache")!
    static let requestID = HTTPField.Name("X-Request-Id")!
}
