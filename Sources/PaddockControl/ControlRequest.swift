public import PaddockCore

/// The params of a control method as a type. paddockd reads what arrives
/// with `init(params:)`, which throws the catalog error it answers with;
/// clients build a request and send its `params`.
public protocol ControlRequest: Sendable, Equatable {
    /// Reads the params of a call.
    /// - Throws: ``PaddockError`` 101 (with the parameter as `field`) for a
    ///   missing parameter, 102 for a wrong value, 202 for data that cannot be read.
    init(params: JSONValue) throws(PaddockError)
    /// The params, as sent.
    var params: JSONValue { get }
}

/// A request whose params are one string, required and not empty.
public protocol SingleParameterRequest: ControlRequest {
    /// The parameter's name on the wire.
    static var parameter: String { get }
    init(_ value: String)
    var value: String { get }
}

extension SingleParameterRequest {
    public init(params: JSONValue) throws(PaddockError) {
        self.init(try params.required(Self.parameter))
    }

    public var params: JSONValue { [Self.parameter: .string(value)] }
}

/// `install {"package": base64 | "directory": path, "yes"?, "force"?, "stream"?}`:
/// installs a copy of a plugin, from a package or from a folder (packed by
/// paddockd as `paddock pack` would). A plugin already installed is
/// upgraded (a higher version), or with `force` switched to a lower one;
/// `yes` accepts permissions the new version has and the old had not.
/// With `stream`, progress arrives as chunks `{"progress": {"stage", "message"}}`.
public struct InstallRequest: ControlRequest {
    public enum Source: Sendable, Equatable {
        case package([UInt8])
        case directory(String)
    }

    public var source: Source
    public var yes: Bool
    public var force: Bool
    public var stream: Bool
    /// The operator grants the plugin outbound network, whatever its
    /// manifest says (a Dify manifest cannot declare it).
    public var allowNetwork: Bool

    public init(_ source: Source, yes: Bool = false, force: Bool = false, stream: Bool = false, allowNetwork: Bool = false) {
        self.source = source
        self.yes = yes
        self.force = force
        self.stream = stream
        self.allowNetwork = allowNetwork
    }

    /// A folder, installed as a copy.
    public init(_ directory: String) {
        self.init(.directory(directory))
    }

    public init(params: JSONValue) throws(PaddockError) {
        if let text = params["package"]?.stringValue {
            guard let bytes = Base64.decode(text), !bytes.isEmpty else {
                throw PaddockError(.unparsableData, "the package is not base64", field: "package")
            }
            source = .package(bytes)
        } else if params["package"] != nil {
            throw PaddockError(.wrongFormat, "the package must be a base64 string", field: "package")
        } else {
            source = .directory(try params.required("directory"))
        }
        yes = params["yes"] == true
        force = params["force"] == true
        stream = params["stream"] == true
        allowNetwork = params["allow_network"] == true
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = [
            "yes": .bool(yes), "force": .bool(force), "stream": .bool(stream), "allow_network": .bool(allowNetwork),
        ]
        switch source {
        case .package(let bytes): object["package"] = .string(Base64.encode(bytes))
        case .directory(let path): object["directory"] = .string(path)
        }
        return .object(object)
    }
}

/// `{"id"}`: the params of `activate`, `deactivate`, `plugin`,
/// `storage.usage` and `storage.check`.
public struct PluginRequest: SingleParameterRequest {
    public static let parameter = "id"
    public var id: String
    public var value: String { id }
    public init(_ id: String) { self.id = id }
}

/// `keys.revoke {"id"}`: the key with that id (from `keys.list`) stops working.
public struct KeysRevokeRequest: SingleParameterRequest {
    public static let parameter = "id"
    public var id: String
    public var value: String { id }
    public init(_ id: String) { self.id = id }
}

/// `keys.verify {"key"}`: whether a key is live, answered as ``KeyVerification``.
public struct KeysVerifyRequest: SingleParameterRequest {
    public static let parameter = "key"
    public var key: String
    public var value: String { key }
    public init(_ key: String) { self.key = key }
}

/// `uninstall {"id", "force"?}`: `force` uninstalls even while calls are in flight.
public struct UninstallRequest: ControlRequest {
    public var id: String
    public var force: Bool

    public init(id: String, force: Bool = false) {
        self.id = id
        self.force = force
    }

    public init(params: JSONValue) throws(PaddockError) {
        id = try params.required("id")
        force = params["force"] == true
    }

    public var params: JSONValue { ["id": .string(id), "force": .bool(force)] }
}

/// `settings {"id", "tenant"?, "set"?: {...}, "public_endpoints"?: Bool, "tenants"?: [names] | ["*"]}`:
/// shows, and with `set` stores, the plugin's settings or one tenant's;
/// `tenants` sets which tenants may call the plugin (`["*"]`: every tenant).
public struct SettingsRequest: ControlRequest {
    public var id: String
    /// The tenant whose settings (over the plugin's own) are meant; nil for the plugin's.
    public var tenant: String?
    /// Values to store.
    public var set: [String: JSONValue]?
    /// Whether the gateway serves the plugin's endpoints without an API key.
    public var publicEndpoints: Bool?
    /// The tenants that may call the plugin: names, or `["*"]` for every tenant; nil leaves them as they are.
    public var tenants: [String]?

    public init(
        id: String, tenant: String? = nil, set: [String: JSONValue]? = nil, publicEndpoints: Bool? = nil, tenants: [String]? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.set = set
        self.publicEndpoints = publicEndpoints
        self.tenants = tenants
    }

    public init(params: JSONValue) throws(PaddockError) {
        id = try params.required("id")
        tenant = try params.tenant()
        if case .object(let values)? = params["set"] { set = values }
        if case .bool(let open)? = params["public_endpoints"] { publicEndpoints = open }
        if let given = params["tenants"] {
            tenants = try Self.tenants(given)
        }
    }

    /// `tenants`: `["*"]`, or at most 10000 tenant names.
    /// - Throws: 102 (field `tenants`) for anything else.
    public static func tenants(_ value: JSONValue) throws(PaddockError) -> [String] {
        guard let items = value.arrayValue, items.count <= 10_000 else {
            throw PaddockError(.wrongFormat, "tenants is a list of tenant names, or [\"*\"] for every tenant", field: "tenants")
        }
        var names: [String] = []
        for item in items {
            guard let name = item.stringValue else {
                throw PaddockError(.wrongFormat, "tenants is a list of tenant names, or [\"*\"] for every tenant", field: "tenants")
            }
            if name != "*" {
                do throws(PaddockError) { try Tenant.check(name) } catch {
                    throw PaddockError(.wrongFormat, error.message, field: "tenants")
                }
            }
            names.append(name)
        }
        if names.contains("*"), names.count > 1 {
            throw PaddockError(.wrongFormat, "tenants is [\"*\"] alone, or tenant names", field: "tenants")
        }
        return names
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = ["id": .string(id)]
        object["tenant"] = tenant.map(JSONValue.string)
        object["set"] = set.map(JSONValue.object)
        object["public_endpoints"] = publicEndpoints.map(JSONValue.bool)
        object["tenants"] = tenants.map { .array($0.map(JSONValue.string)) }
        return .object(object)
    }
}

/// `storage.quota {"id", "tenant", "bytes": N or null}`: the operator's
/// quota for one tenant of a plugin (within the plugin's own); null removes it.
public struct StorageQuotaRequest: ControlRequest {
    public var id: String
    public var tenant: String
    public var bytes: Int?

    public init(id: String, tenant: String, bytes: Int?) {
        self.id = id
        self.tenant = tenant
        self.bytes = bytes
    }

    public init(params: JSONValue) throws(PaddockError) {
        id = try params.required("id")
        guard let tenant = try params.tenant() else {
            throw PaddockError(.configurationMissing, "the parameter 'tenant' is missing", field: "tenant")
        }
        self.tenant = tenant
        bytes = params["bytes"] == nil || params["bytes"] == .null ? nil : try params.integer("bytes", in: 0...(1 << 53))
    }

    public var params: JSONValue {
        ["id": .string(id), "tenant": .string(tenant), "bytes": bytes.map(JSONValue.int) ?? .null]
    }
}

/// `status {"id"?}`: one plugin's status, or every plugin's.
public struct StatusRequest: ControlRequest {
    public var id: String?

    public init(id: String? = nil) {
        self.id = id
    }

    public init(params: JSONValue) throws(PaddockError) {
        id = params["id"]?.stringValue
    }

    public var params: JSONValue { id.map { ["id": .string($0)] } ?? [:] }
}

/// `logs {"id", "tail"?}`: the last `tail` lines (50 unless given) of a plugin's log.
public struct LogsRequest: ControlRequest {
    /// The most lines one request returns.
    public static let maximumTail = 100_000

    public var id: String
    public var tail: Int

    public init(id: String, tail: Int = 50) {
        self.id = id
        self.tail = tail
    }

    public init(params: JSONValue) throws(PaddockError) {
        id = try params.required("id")
        tail = try params.integer("tail", default: 50, in: 0...Self.maximumTail)
    }

    public var params: JSONValue { ["id": .string(id), "tail": .int(tail)] }
}

/// `audit {"id"?, "limit"?}`: the newest `limit` (100 unless given) denied
/// host calls, of one plugin or all.
public struct AuditRequest: ControlRequest {
    /// The most rows one request returns.
    public static let maximumLimit = 100_000

    public var id: String?
    public var limit: Int

    public init(id: String? = nil, limit: Int = 100) {
        self.id = id
        self.limit = limit
    }

    public init(params: JSONValue) throws(PaddockError) {
        id = params["id"]?.stringValue
        limit = try params.integer("limit", default: 100, in: 1...Self.maximumLimit)
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = ["limit": .int(limit)]
        object["id"] = id.map(JSONValue.string)
        return .object(object)
    }
}

/// `invoke {"id", "tool", "params"?, "tenant"?, "stream"?, "request_id"?}`: a
/// tool call; with `stream`, the partial results come as chunks before the result.
public struct InvokeRequest: ControlRequest {
    public var id: String
    public var tool: String
    /// The tool's arguments (`params` on the wire).
    public var arguments: JSONValue
    /// The tenant the call is made for, whose settings the plugin sees.
    public var tenant: String?
    public var stream: Bool
    /// The outside request the call serves (``RequestID``), passed on to the plugin.
    public var requestID: String?

    public init(
        id: String, tool: String, arguments: JSONValue = [:], tenant: String? = nil, stream: Bool = false, requestID: String? = nil
    ) {
        self.id = id
        self.tool = tool
        self.arguments = arguments
        self.tenant = tenant
        self.stream = stream
        self.requestID = requestID
    }

    public init(params: JSONValue) throws(PaddockError) {
        id = try params.required("id")
        tool = try params.required("tool")
        arguments = params["params"] ?? [:]
        tenant = try params.tenant()
        stream = params["stream"] == true
        requestID = try params.requestID()
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = ["id": .string(id), "tool": .string(tool), "params": arguments, "stream": .bool(stream)]
        object["tenant"] = tenant.map(JSONValue.string)
        object[RequestID.parameter] = requestID.map(JSONValue.string)
        return .object(object)
    }
}

/// `model {"id", "model", "messages", "params"?, "tenant"?, "stream"?, "request_id"?}`:
/// one call to a model of a model plugin, streamed or not.
public struct ModelRequest: ControlRequest {
    public var id: String
    public var model: String
    /// The conversation: an array of `{"role", "content"}`.
    public var messages: JSONValue
    /// The model's parameters (`params` on the wire), checked against the manifest.
    public var parameters: JSONValue
    public var tenant: String?
    public var stream: Bool
    public var requestID: String?

    public init(
        id: String, model: String, messages: JSONValue, parameters: JSONValue = [:], tenant: String? = nil, stream: Bool = false,
        requestID: String? = nil
    ) {
        self.id = id
        self.model = model
        self.messages = messages
        self.parameters = parameters
        self.tenant = tenant
        self.stream = stream
        self.requestID = requestID
    }

    public init(params: JSONValue) throws(PaddockError) {
        id = try params.required("id")
        model = try params.required("model")
        guard let messages = params["messages"], case .array = messages else {
            throw PaddockError(.configurationMissing, "messages (an array of {role, content}) is required", field: "messages")
        }
        self.messages = messages
        parameters = params["params"] ?? [:]
        tenant = try params.tenant()
        stream = params["stream"] == true
        requestID = try params.requestID()
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "model": .string(model), "messages": messages, "params": parameters, "stream": .bool(stream),
        ]
        object["tenant"] = tenant.map(JSONValue.string)
        object[RequestID.parameter] = requestID.map(JSONValue.string)
        return .object(object)
    }
}

/// `endpoint {"id", "method", "path", "query"?, "headers"?, "body"?: base64, "tenant"?, "request_id"?}`:
/// one call to a plugin's HTTP endpoint, answered `{"status", "headers", "body": base64}`.
public struct EndpointRequest: ControlRequest {
    public var id: String
    public var method: HTTPMethod
    /// The path below the plugin's prefix, starting with `/`.
    public var path: String
    public var query: [String: String]
    public var headers: [String: String]
    public var body: [UInt8]
    public var tenant: String?
    /// The outside request the call serves (``RequestID``), passed on to the plugin.
    public var requestID: String?

    public init(
        id: String, method: HTTPMethod, path: String, query: [String: String] = [:], headers: [String: String] = [:],
        body: [UInt8] = [], tenant: String? = nil, requestID: String? = nil
    ) {
        self.id = id
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.tenant = tenant
        self.requestID = requestID
    }

    public init(params: JSONValue) throws(PaddockError) {
        id = try params.required("id")
        let name = try params.required("method")
        guard let method = HTTPMethod(rawValue: name.uppercased()) else {
            throw PaddockError(.wrongFormat, "'\(name)' is not an HTTP method", field: "method")
        }
        self.method = method
        guard let body = Base64.decode(params["body"]?.stringValue ?? "") else {
            throw PaddockError(.unparsableData, "the body is not base64", field: "body")
        }
        self.body = body
        path = try params.required("path")
        query = params.strings("query")
        headers = params.strings("headers")
        tenant = try params.tenant()
        requestID = try params.requestID()
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = [
            "id": .string(id), "method": .string(method.rawValue), "path": .string(path),
            "query": .object(query.mapValues(JSONValue.string)), "headers": .object(headers.mapValues(JSONValue.string)),
            "body": .string(Base64.encode(body)),
        ]
        object["tenant"] = tenant.map(JSONValue.string)
        object[RequestID.parameter] = requestID.map(JSONValue.string)
        return .object(object)
    }
}

/// `credentials.test {"id", "tenant"?, "credentials"?: {...}}`: the seed's
/// "test connection" with the given credentials, else the stored ones.
public struct CredentialsTestRequest: ControlRequest {
    public var id: String
    public var tenant: String?
    public var credentials: [String: JSONValue]?

    public init(id: String, tenant: String? = nil, credentials: [String: JSONValue]? = nil) {
        self.id = id
        self.tenant = tenant
        self.credentials = credentials
    }

    public init(params: JSONValue) throws(PaddockError) {
        id = try params.required("id")
        tenant = try params.tenant()
        if case .object(let given)? = params["credentials"] { credentials = given }
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = ["id": .string(id)]
        object["tenant"] = tenant.map(JSONValue.string)
        object["credentials"] = credentials.map(JSONValue.object)
        return .object(object)
    }
}

/// `keys.create {"kind": "admin"|"tenant", "tenant"?}`: a new API key. The
/// tenant, which a tenant key needs, is checked when the key is made.
public struct KeysCreateRequest: ControlRequest {
    public var kind: APIKeyKind
    public var tenant: String?

    public init(kind: APIKeyKind, tenant: String? = nil) {
        self.kind = kind
        self.tenant = tenant
    }

    public init(params: JSONValue) throws(PaddockError) {
        let name = try params.required("kind")
        guard let kind = APIKeyKind(rawValue: name) else {
            throw PaddockError(.wrongFormat, "a key is 'admin' or 'tenant', not '\(name)'", field: "kind")
        }
        self.kind = kind
        tenant = params["tenant"]?.stringValue
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = ["kind": .string(kind.rawValue)]
        object["tenant"] = tenant.map(JSONValue.string)
        return .object(object)
    }
}

extension JSONValue {
    /// The non-empty string at `key`.
    /// - Throws: 101 naming the parameter when it is absent, empty or not a string.
    func required(_ key: String) throws(PaddockError) -> String {
        guard let value = self[key]?.stringValue, !value.isEmpty else {
            throw PaddockError(.configurationMissing, "the parameter '\(key)' is missing", field: key)
        }
        return value
    }

    /// The optional `tenant`, checked.
    /// - Throws: 102 for a name that is not a tenant's.
    func tenant() throws(PaddockError) -> String? {
        guard let tenant = self["tenant"]?.stringValue else { return nil }
        try Tenant.check(tenant)
        return tenant
    }

    /// The optional `request_id`, checked.
    /// - Throws: 102 for text that is not a request id.
    func requestID() throws(PaddockError) -> String? {
        guard let id = self[RequestID.parameter]?.stringValue else { return nil }
        try RequestID.check(id)
        return id
    }

    /// The members of the object at `key` as text (non-strings as their JSON).
    func strings(_ key: String) -> [String: String] {
        guard case .object(let members)? = self[key] else { return [:] }
        return members.mapValues { $0.stringValue ?? $0.jsonText }
    }
}
