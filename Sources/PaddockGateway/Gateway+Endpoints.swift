import HTTPTypes
import Hummingbird
import NIOCore
import PaddockControl
import PaddockCore

/// `ANY /e/{plugin}/{path...}`: the plugin's endpoint. Only methods its
/// manifest declares (others 405, code 104); query and JSON body validated
/// against the endpoint's parameters by the supervisor; the plugin's status,
/// headers and body passed back. A key is needed unless the plugin's
/// endpoints were made public (webhooks that check their own signatures).
///
/// `ANY /t/{tenant}/e/{plugin}/{path...}` is the same call made for the
/// tenant (its settings, its storage): with a key that may act for it, or
/// with none when the endpoints are public, so that each tenant can give a
/// platform its own webhook URL, checked with its own secrets by the plugin.
extension Gateway {
    func callEndpoint(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("plugin")
        let path = "/" + context.parameters.getCatchAll().joined(separator: "/")
        let pathTenant = context.parameters.get("tenant")
        if let pathTenant {
            do throws(PaddockError) { try Tenant.check(pathTenant) } catch { throw GatewayError(error, fromRequest: true) }
        }
        var context = context
        if !(try await catalog.publicEndpoints(id)) {
            let keys = KeyMiddleware(authenticator: authenticator, limits: keyLimits, adminOnly: false)
            context = try await keys.authenticated(request, context)
            if let pathTenant { try Self.requireTenant(pathTenant, context) }
        }
        let name = request.method.rawValue
        guard let method = HTTPMethod(rawValue: name), try await catalog.endpointMethods(id).contains(method) else {
            throw GatewayError(
                status: .methodNotAllowed,
                PaddockError(.permissionDenied, "\(id) does not serve \(name) (permission.endpoints)", details: ["method": name]))
        }
        try limitPlugin(id)
        let body = Array(buffer: try await request.body.collect(upTo: configuration.maximumBodyBytes))
        var query: [String: String] = [:]
        for (name, value) in request.uri.queryParameters { query[String(name)] = String(value) }
        var headers: [String: String] = [:]
        for field in request.headers where field.name != .authorization && field.name != .apiKey && field.name != .requestID {
            headers[field.name.canonicalName] = field.value
        }
        // The plugin sees the request's id as the client will: the client's, or the one made for it.
        headers[HTTPField.Name.requestID.canonicalName] = context.requestID
        let call = EndpointRequest(
            id: id, method: method, path: path, query: query, headers: headers, body: body, tenant: pathTenant ?? Self.tenant(request, context),
            requestID: context.requestID)
        let supervisor = self.supervisor
        let answer = try await counted(id, "endpoint") {
            try await DisconnectWatcher.whileConnected(context.channel) { try await supervisor.json(.endpoint, call.params, registerCancel: $0) }
        }
        return Self.endpointResponse(answer)
    }

    /// The plugin's `{"status", "headers", "body": base64}` as an HTTP
    /// response, with only the headers ``EndpointHeaders`` allows.
    static func endpointResponse(_ answer: JSONValue) -> Response {
        var status = HTTPResponse.Status.ok
        if case .int(let code)? = answer["status"], (200...599).contains(code) { status = .init(code: code) }
        var headers: HTTPFields = [:]
        if case .object(let fields)? = answer["headers"] {
            for (name, value) in fields.sorted(by: { $0.key < $1.key }) {
                guard let fieldName = HTTPField.Name(name), let text = value.stringValue,
                    EndpointHeaders.allows(fieldName, value: text, status: status.code)
                else { continue }
                headers.append(HTTPField(name: fieldName, value: text))
            }
        }
        let body = answer["body"]?.stringValue.flatMap(Base64.decode) ?? []
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
