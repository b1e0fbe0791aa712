public import Hummingbird
public import NIOCore
public import PaddockCore

/// Who is calling: an API key's kind and tenant.
public struct Caller: Sendable, Equatable {
    public typealias Kind = APIKeyKind
    public var keyID: String
    public var kind: Kind
    /// The tenant of a tenant key; nil for admin keys.
    public var tenant: String?

    /// Whether the caller may act within `tenant`.
    func mayAct(in tenant: String) -> Bool { kind == .admin || self.tenant == tenant }
}

/// The request context of the gateway's routes: who is calling, once known.
public struct GatewayContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var caller: Caller?
    /// The client's connection, to notice when the client goes away.
    public let channel: any Channel

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}
