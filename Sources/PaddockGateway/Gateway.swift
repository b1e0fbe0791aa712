public import Hummingbird
import HTTPTypes
public import Logging
import NIOCore
import PaddockControl
import PaddockCore

/// `paddock-gateway`: HTTP in front of `paddockd`'s control socket. It keeps
/// no plugin state: every answer comes from the supervisor (API keys and
/// plugin descriptions are remembered for two seconds). The routes are in
/// docs/http-api.md and docs/openapi.yaml.
public struct Gateway: Sendable {
    /// The `Server` header of every answer.
    static let serverName = "paddock-gateway"
    public let configuration: GatewayConfiguration
    public let supervisor: SupervisorClient
    /// One line per request (`info`), failures of the gateway itself (`error`), and Hummingbird's own lines.
    public let logger: Logger
    let authenticator: Authenticator
    let catalog: PluginCatalog
    let models: ModelIndex
    let metrics = GatewayMetrics()
    let keyLimits: TokenBuckets
    let pluginLimits: TokenBuckets
    let cache: ResultCache

    public init(configuration: GatewayConfiguration, supervisorSocket: String, logger: Logger = Logger(label: "paddock-gateway")) {
        self.configuration = configuration
        self.logger = logger
        supervisor = SupervisorClient(socketPath: supervisorSocket, timeout: configuration.callTimeout)
        authenticator = Authenticator(supervisor: supervisor)
        catalog = PluginCatalog(supervisor: supervisor)
        models = ModelIndex(supervisor: supervisor, catalog: catalog)
        keyLimits = TokenBuckets(rate: configuration.perKey.rate, burst: configuration.perKey.burst)
        pluginLimits = TokenBuckets(rate: configuration.perPlugin.rate, burst: configuration.perPlugin.burst)
        cache = ResultCache(maximumBytes: configuration.cacheBytes)
    }

    /// The application serving on `host:port`; `onServerRunning` gets the
    /// listening channel (its local address tells a port 0 choice).
    public func application(
        host: String, port: Int, onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        let headerTimeout = TimeAmount(configuration.headerTimeout)
        return Application(
            router: router(),
            server: .http1(configuration: .init(
                additionalChannelHandlers: [MalformedRequestAnswer(), HeaderTimeout(timeout: headerTimeout), DisconnectWatcher(), ToolCallFastPath.Installer(gateway: self)],
                idleTimeout: TimeAmount(configuration.idleTimeout))),
            configuration: .init(address: .hostname(host, port: port), serverName: Self.serverName, backlog: 4096),
            onServerRunning: onServerRunning, logger: logger)
    }

    func router() -> Router<GatewayContext> {
        let router = Router(context: GatewayContext.self)
        router.add(middleware: EdgeMiddleware(metrics: metrics, logger: logger))
        router.add(middleware: CORSPolicy(cors: configuration.cors))

        router.get("/healthz") { _, _ in Self.json(["status": "ok"]) }
        router.get("/readyz") { _, _ in
            guard await supervisor.isReachable() else {
                throw GatewayError(PaddockError(.pluginUnavailable, "the supervisor is not reachable", details: ["retry_after": "1"]))
            }
            return Self.json(["status": "ready"])
        }
        router.get("/metrics") { request, context in
            if configuration.metricsAccess != .none {
                let keys = KeyMiddleware(authenticator: authenticator, limits: keyLimits, adminOnly: configuration.metricsAccess == .admin)
                _ = try await keys.authenticated(request, context)
            }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                body: .init(byteBuffer: ByteBuffer(bytes: await metrics.exposition(supervisor: supervisor))))
        }

        let keyed = router.group("v1").add(middleware: KeyMiddleware(authenticator: authenticator, limits: keyLimits, adminOnly: false))
        keyed.get("plugins") { request, context in try await listPlugins(request, context) }
        keyed.get("plugins/:id") { request, context in try await describePlugin(request, context) }
        keyed.post("plugins/:id/tools/:tool") { request, context in try await invokeTool(request, context) }
        keyed.post("plugins/:id/models/:model") { request, context in try await invokeModel(request, context) }
        keyed.get("flows") { request, context in try await flow(.flowList, request, context) }
        keyed.put("flows/:id") { request, context in try await putFlow(request, context) }
        keyed.get("flows/:id") { request, context in try await flow(.flowGet, request, context) }
        keyed.delete("flows/:id") { request, context in try await flow(.flowDelete, request, context) }
        keyed.post("flows/:id/runs") { request, context in try await runFlow(request, context) }
        keyed.get("flows/:id/runs") { request, context in try await flow(.flowRuns, request, context) }
        keyed.get("flows/:id/runs/:run") { request, context in try await showFlowRun(request, context) }
        keyed.post("files") { request, context in try await uploadFile(request, context) }
        keyed.get("files") { request, context in try await file(.fileList, request, context) }
        keyed.post("files/uploads") { request, context in try await startUpload(request, context) }
        keyed.get("files/uploads/:upload") { request, context in try await file(.fileUploadStatus, request, context, key: "upload") }
        keyed.delete("files/uploads/:upload") { request, context in try await file(.fileUploadAbort, request, context, key: "upload") }
        keyed.put("files/uploads/:upload/chunks/:index") { request, context in try await putChunk(request, context) }
        keyed.get("files/:id") { request, context in try await downloadFile(request, context) }
        keyed.get("files/:id/info") { request, context in try await file(.fileInfo, request, context) }
        keyed.delete("files/:id") { request, context in try await file(.fileDelete, request, context) }
        keyed.get("tenants/:tenant/plugins/:id/settings") { request, context in try await tenantSettings(request, context, set: false) }
        keyed.put("tenants/:tenant/plugins/:id/settings") { request, context in try await tenantSettings(request, context, set: true) }
        keyed.post("tenants/:tenant/plugins/:id/settings/test") { request, context in try await testConnection(request, context) }

        let openAI = router.group("v1").add(middleware: OpenAIErrors())
            .add(middleware: KeyMiddleware(authenticator: authenticator, limits: keyLimits, adminOnly: false))
        openAI.get("models") { _, context in try await listModels(context) }
        openAI.post("chat/completions") { request, context in try await chatCompletion(request, context) }

        router.group("v1").add(middleware: KeyMiddleware(authenticator: authenticator, limits: keyLimits, adminOnly: true))
            .post("plugins") { request, context in try await installPackage(request, context) }
        let admin = router.group("v1/plugins").add(middleware: KeyMiddleware(authenticator: authenticator, limits: keyLimits, adminOnly: true))
        admin.get(":id/versions") { _, context in try await versions(.versions, context) }
        admin.post(":id/rollback") { _, context in try await versions(.rollback, context) }
        admin.post(":id/activate") { _, context in try await lifecycle(.activate, context) }
        admin.post(":id/deactivate") { _, context in try await lifecycle(.deactivate, context) }
        admin.delete(":id") { _, context in try await lifecycle(.uninstall, context) }
        admin.get(":id/logs") { request, context in
            let tail = try Self.queryInteger(request, "tail", default: 50, in: 0...LogsRequest.maximumTail)
            return try await relay(.logs, LogsRequest(id: try context.parameters.require("id"), tail: tail).params, context)
        }
        admin.put(":id/settings") { request, context in try await pluginSettings(request, context) }

        for method in [HTTPRequest.Method.get, .post, .put, .delete, .patch, .head] {
            router.on("e/:plugin/**", method: method) { request, context in try await callEndpoint(request, context) }
            router.on("e/:plugin", method: method) { request, context in try await callEndpoint(request, context) }
            router.on("t/:tenant/e/:plugin/**", method: method) { request, context in try await callEndpoint(request, context) }
            router.on("t/:tenant/e/:plugin", method: method) { request, context in try await callEndpoint(request, context) }
        }
        return router
    }

    // MARK: Helpers

    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        raw(value.jsonBytes, status: status)
    }

    static func raw(_ bytes: [UInt8], status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var fields: HTTPFields = [.contentType: "application/json"]
        fields.append(contentsOf: headers)
        return Response(status: status, headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// An integer query parameter within `range`, or `fallback` when absent.
    /// - Throws: 400 (102) naming the parameter for anything else.
    static func queryInteger(_ request: Request, _ key: String, default fallback: Int, in range: ClosedRange<Int>) throws(GatewayError) -> Int {
        guard let text = request.uri.queryParameters.get(key) else { return fallback }
        do throws(PaddockError) {
            guard let number = Int(text) else {
                throw PaddockError(.wrongFormat, "the query parameter '\(key)' must be an integer", field: key)
            }
            return try JSONValue.object([key: .int(number)]).integer(key, in: range)
        } catch {
            throw GatewayError(error, fromRequest: true)
        }
    }

    /// A control method's answer, as it is; the call carries the request's id.
    func relay(_ method: ControlMethod, _ params: JSONValue, _ context: GatewayContext) async throws -> Response {
        Self.raw(try await supervisor.call(method, params, requestID: context.requestID))
    }

    /// The request body as a JSON object (empty: `{}`).
    /// - Throws: 413 past the body limit; 400 (202) when it is not a JSON object.
    func jsonBody(_ request: Request) async throws -> JSONValue {
        try Self.jsonObject(Array(buffer: try await request.body.collect(upTo: configuration.maximumBodyBytes)))
    }

    /// A request body as a JSON object (empty: `{}`).
    /// - Throws: 400 (202) when it is not a JSON object.
    static func jsonObject(_ bytes: [UInt8]) throws(GatewayError) -> JSONValue {
        if bytes.allSatisfy({ $0 == 0x20 || $0 == 0x0A || $0 == 0x0D || $0 == 0x09 }) { return [:] }
        let value: JSONValue
        do throws(PaddockError) {
            value = try JSONValue(parsing: bytes)
        } catch {
            throw GatewayError(PaddockError(.unparsableData, "the body is not JSON: \(error.message)"), fromRequest: true)
        }
        guard case .object = value else {
            throw GatewayError(PaddockError(.unparsableData, "the body must be a JSON object"), fromRequest: true)
        }
        return value
    }

    /// Takes a token of the plugin's rate limit.
    func limitPlugin(_ id: String) throws(GatewayError) {
        if let wait = pluginLimits.take("plugin:" + id) {
            throw GatewayError(PaddockError(
                .rateLimited, "\(id) is over its rate limit", details: ["retry_after": String(Int(wait.rounded(.up)))]))
        }
    }

    /// 403 unless the caller acts within `tenant`.
    static func requireTenant(_ tenant: String, _ context: GatewayContext) throws {
        guard context.caller?.mayAct(in: tenant) == true else {
            throw GatewayError(PaddockError(.permissionDenied, "this key may not act for tenant \(tenant)"))
        }
    }
}
