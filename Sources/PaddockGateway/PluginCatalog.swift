import PaddockControl
import PaddockCore
import Synchronization

/// What the gateway needs to know of a plugin before calling it (declared
/// endpoints, public endpoints, cache TTLs), from the supervisor's `plugin`
/// method, remembered for two seconds.
final class PluginCatalog: Sendable {
    private let supervisor: SupervisorClient
    private let entries = Mutex<[String: (detail: PluginDescription, until: ContinuousClock.Instant)]>([:])

    init(supervisor: SupervisorClient) {
        self.supervisor = supervisor
    }

    /// The plugin's description (`plugin` control method).
    /// - Throws: 306 for an unknown plugin or an unreachable supervisor.
    func detail(_ id: String) async throws -> PluginDescription {
        let now = ContinuousClock.now
        if let known = remembered(id, now: now) { return known }
        let detail = PluginDescription(result: try await supervisor.json(.plugin, PluginRequest(id).params))
        entries.withLock { $0[id] = (detail, now + .seconds(2)) }
        return detail
    }

    /// The remembered description, while it is fresh.
    func remembered(_ id: String, now: ContinuousClock.Instant = .now) -> PluginDescription? {
        guard let known = entries.withLock({ $0[id] }), known.until > now else { return nil }
        return known.detail
    }

    /// Forgets a plugin after a change through the gateway.
    func forget(_ id: String) {
        entries.withLock { $0[id] = nil }
    }

    /// The tool's `cache_ttl` in seconds, when it declares one.
    func cacheTTL(_ id: String, tool: String) async throws -> Int? {
        try await detail(id).cacheTTL(tool: tool)
    }

    /// The HTTP methods the plugin's manifest lets its endpoints serve.
    func endpointMethods(_ id: String) async throws -> Set<HTTPMethod> {
        try await detail(id).endpointMethods
    }

    func publicEndpoints(_ id: String) async throws -> Bool {
        try await detail(id).publicEndpoints
    }
}
