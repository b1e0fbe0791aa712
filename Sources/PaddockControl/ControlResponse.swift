public import PaddockCore

/// `keys.verify`'s answer, read: the live key's id, kind and tenant.
public struct KeyVerification: Sendable, Equatable {
    public var id: String
    public var kind: APIKeyKind
    /// The tenant of a tenant key; nil for admin keys.
    public var tenant: String?

    public init(id: String, kind: APIKeyKind, tenant: String?) {
        self.id = id
        self.kind = kind
        self.tenant = tenant
    }

    /// The key an answer names, or nil for `{"valid": false}` (an unknown,
    /// malformed or revoked key) and for an answer it cannot read.
    public init?(result: JSONValue) {
        guard result["valid"] == true, let id = result["id"]?.stringValue,
            let kind = result["kind"]?.stringValue.flatMap(APIKeyKind.init(rawValue:))
        else { return nil }
        self.init(id: id, kind: kind, tenant: result["tenant"]?.stringValue)
    }
}

/// The `plugin` method's answer: the plugin's status fields (`id`,
/// `version`, `lifecycle`, `state`, `restarts`, ...), `directory`,
/// `storage`, `public_endpoints`, and its manifest as ``Manifest/jsonValue``.
public struct PluginDescription: Sendable, Equatable {
    /// The answer as it came, for fields passed on as they are.
    public var json: JSONValue

    public init(result: JSONValue) {
        json = result
    }

    public var manifest: JSONValue? { json["manifest"] }

    /// Whether the gateway serves the plugin's endpoints without an API key.
    public var publicEndpoints: Bool { json["public_endpoints"] == true }

    /// The HTTP methods the manifest lets the plugin's endpoints serve (`permission.endpoints`).
    public var endpointMethods: Set<HTTPMethod> {
        Set((manifest?["permission"]?["endpoints"]?.arrayValue ?? []).compactMap { $0.stringValue.flatMap(HTTPMethod.init(rawValue:)) })
    }

    /// The tool's `cache_ttl` in seconds, when it declares one.
    public func cacheTTL(tool: String) -> Int? {
        for provider in manifest?["tools"]?.arrayValue ?? [] {
            for item in provider["items"]?.arrayValue ?? [] where item["name"]?.stringValue == tool {
                if case .int(let seconds)? = item["cache_ttl"], seconds > 0 { return seconds }
            }
        }
        return nil
    }

    /// The names of the `type: secret` settings the manifest declares.
    public var secretSettings: Set<String> {
        let settings = manifest?["settings"]?.arrayValue ?? []
        return Set(settings.filter { $0["type"] == .string(Setting.Kind.secret.rawValue) }.compactMap { $0["name"]?.stringValue })
    }
}
