/// What an API key of the gateway may do. paddockd stores it with the key;
/// `keys.create` and `keys.verify` carry it; the gateway authorizes by it.
public enum APIKeyKind: String, Sendable, CaseIterable {
    /// Management routes, and everything a tenant key may do in any tenant.
    case admin
    /// Tool calls, endpoints and settings within one tenant.
    case tenant
}
