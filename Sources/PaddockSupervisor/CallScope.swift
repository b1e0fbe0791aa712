public import PaddockCore

/// Whom a call is made for: a tenant, with that tenant's view of the
/// plugin's settings. The plugin gets them with the call (`params.context`)
/// instead of the settings it was started with.
public struct CallScope: Sendable, Equatable {
    public var tenant: String
    /// The plugin's settings as the tenant has them (the tenant's values over the plugin's).
    public var settings: JSONValue

    public init(tenant: String, settings: JSONValue) {
        self.tenant = tenant
        self.settings = settings
    }

    /// `params` with the scope added as `context`: the tenant, its settings
    /// with the manifest's defaults, and the secret ones again as credentials.
    /// - Throws: 101 when a required setting has no value for this tenant.
    func apply(to params: [String: JSONValue], manifest: Manifest) throws(PaddockError) -> JSONValue {
        let effective = try Engine.effectiveSettings(manifest.settings, given: settings)
        let secrets = Set(manifest.settings.filter { $0.type == .secret }.map(\.name))
        let credentials: [String: JSONValue] =
            if case .object(let values) = effective { values.filter { secrets.contains($0.key) } } else { [:] }
        var scoped = params
        scoped["context"] = ["tenant": .string(tenant), "settings": effective, "credentials": .object(credentials)]
        return .object(scoped)
    }
}

extension Optional<CallScope> {
    /// `params`, scoped when there is a scope, with the outside request it
    /// serves as `request_id` when there is one (the SDKs put it on the
    /// call's `log` lines).
    func apply(to params: [String: JSONValue], manifest: Manifest, requestID: String? = nil) throws(PaddockError) -> JSONValue {
        var params = params
        if let requestID { params[RequestID.parameter] = .string(requestID) }
        guard let scope = self else { return .object(params) }
        return try scope.apply(to: params, manifest: manifest)
    }
}
