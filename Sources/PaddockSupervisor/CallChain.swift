import PaddockCore

/// The plugins a call passed through on its way: an outside client calls
/// A, A's handler calls B's tool through the host, and so on. The host
/// refuses a call that would enter a plugin already on the chain, or go
/// deeper than ``maximumDepth``: with calls waiting on each other's worker
/// slots, a cycle would otherwise hold them all until their deadlines.
public struct CallChain: Sendable, Equatable {
    /// Plugins calling plugins, at most this deep.
    public static let maximumDepth = 8

    /// Every plugin the call passed through.
    public var plugins: Set<String>
    /// How many plugins deep the call is.
    public var depth: Int
    /// The tenants the calls on the chain are made for: a plugin may make a
    /// nested call for one of them, and no other.
    public var tenants: Set<String> = []

    /// A call from outside (the CLI, the gateway).
    public static let outside = CallChain(plugins: [], depth: 0)

    /// The chain as it enters a plugin, for `scope`'s tenant.
    func entering(scope: CallScope?) -> CallChain {
        CallChain(plugins: plugins, depth: depth, tenants: scope.map { [$0.tenant] } ?? [])
    }

    /// The chain of a host call that `plugin` makes while serving calls on
    /// `serving`. The host cannot know which of them it belongs to (a plugin
    /// could lie), so it takes them all together.
    static func hostCall(from plugin: String, serving: some Collection<CallChain>) -> CallChain {
        CallChain(
            plugins: serving.reduce(into: [plugin]) { $0.formUnion($1.plugins) },
            depth: (serving.map(\.depth).max() ?? 0) + 1,
            tenants: serving.reduce(into: []) { $0.formUnion($1.tenants) })
    }

    /// Checks that the chain may enter `target`.
    /// - Throws: 206 for a cycle or a chain too deep.
    func check(entering target: String) throws(PaddockError) {
        if plugins.contains(target) {
            throw PaddockError(
                .rateLimited, "\(target) is already serving this chain of calls (\(plugins.sorted().joined(separator: ", "))); a plugin cannot be called back through a cycle",
                reason: .callCycle, details: ["plugin": target])
        }
        if depth >= Self.maximumDepth {
            throw PaddockError(
                .rateLimited, "plugins calling plugins may go \(Self.maximumDepth) deep; this call would go deeper",
                reason: .callDepth, details: ["depth": String(depth + 1)])
        }
    }
}
