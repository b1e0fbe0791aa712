public import Hummingbird
public import NIOCore
public import PaddockCore
import Synchronization

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
    public var caller: Caller? {
        didSet { seenCaller.set(caller) }
    }
    /// The request's id (`X-Request-Id`): the client's when it is a valid
    /// one, else a new one. Set by ``EdgeMiddleware`` before any route runs.
    public var requestID = ""
    /// The client's connection, to notice when the client goes away.
    public let channel: any Channel
    /// The caller as the routes found it, for the edge's log line: the edge
    /// holds the context it passed on, not the copies made after it.
    let seenCaller = SeenCaller()

    public init(source: Source) {
        coreContext = .init(source: source)
        channel = source.channel
    }
}

/// One request's caller, shared by every copy of its context.
final class SeenCaller: Sendable {
    private let caller = Mutex<Caller?>(nil)

    func set(_ value: Caller?) { caller.withLock { $0 = value } }
    var value: Caller? { caller.withLock { $0 } }
}
