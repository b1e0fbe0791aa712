import PaddockCore

/// Whose setting values a call made for a tenant runs with. The manifest
/// says who may set each setting (`scope: operator`, the default, or
/// `tenant`); on top of that, the operator's secrets go only where the
/// operator's values send them. A free-text (`string`) setting is what can
/// name a destination (a URL, a host); a `select`, `boolean` or number
/// cannot leave the choices the manifest allows. So when a tenant has set a
/// string of its own, the operator's secrets are withheld from its calls
/// and the tenant brings its own: an `api_base` pointed at the tenant's
/// server never receives the operator's `api_key`.
enum SettingOwnership {
    /// The settings of a call made for a tenant: the operator's values, with
    /// the tenant's own over them for the settings it may set, and the
    /// operator's secrets only while every string is the operator's.
    static func effective(operator operatorValues: [String: JSONValue], tenant: [String: JSONValue], manifest: Manifest) -> [String: JSONValue] {
        let declared = Dictionary(manifest.settings.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let own = tenant.filter { declared[$0.key]?.scope == .tenant }
        var values = operatorValues
        if own.keys.contains(where: { declared[$0]?.type == .string }) {
            values = values.filter { declared[$0.key]?.type != .secret }
        }
        return values.merging(own) { _, mine in mine }
    }

    /// Checks that a tenant may set every one of `names`.
    /// - Throws: 104 naming the first that only the operator may set.
    static func checkTenantMaySet(_ names: some Sequence<String>, manifest: Manifest) throws(PaddockError) {
        for name in names.sorted() {
            guard let setting = manifest.settings.first(where: { $0.name == name }), setting.scope == .operator else { continue }
            throw PaddockError(
                .permissionDenied, "the setting '\(name)' is the operator's (scope: operator): a tenant cannot set it",
                field: "settings.\(name)", details: ["setting": name])
        }
    }

    /// What a tenant may see of a plugin's settings: its own values (secrets
    /// masked), and of the operator's only whether each is set.
    static func tenantView(operator operatorValues: [String: JSONValue], tenant: [String: JSONValue], manifest: Manifest, mask: String) -> JSONValue {
        var own: [String: JSONValue] = [:]
        var setByOperator: [String: JSONValue] = [:]
        for setting in manifest.settings {
            if setting.scope == .tenant, let value = tenant[setting.name] {
                own[setting.name] = setting.type == .secret ? .string(mask) : value
            }
            setByOperator[setting.name] = .bool(operatorValues[setting.name] != nil)
        }
        return [
            "settings": .object(own), "operator_set": .object(setByOperator),
            "tenant_may_set": .array(manifest.settings.filter { $0.scope == .tenant }.map { .string($0.name) }),
        ]
    }
}
