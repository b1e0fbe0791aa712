import PaddockControl
import PaddockCore
import PaddockStorage

/// The control methods the gateway (and `paddock keys`) use: a plugin's
/// whole description, endpoint calls, "test connection", API keys.
extension Daemon {
    /// `plugin {"id"}`: the manifest, lifecycle and live status, storage usage,
    /// and whether its endpoints are public.
    func plugin(_ request: PluginRequest) async throws -> JSONValue {
        let id = request.id
        guard let record = try await registry.record(id) else { throw Self.notInstalled(id) }
        let manifest = try await engine.manifest(id)
        let usage = try await storageBytes(id)
        return try await status(id).merging([
            "directory": .string(record.directory), "manifest": manifest.jsonValue,
            "public_endpoints": .bool(try await registry.publicEndpoints(id)),
            "tenants": allowedTenants[id].map { .array($0.sorted().map(JSONValue.string)) } ?? ["*"],
            "storage": ["bytes": .int(usage), "quota": .int(manifest.permission.storage.bytes)],
        ])
    }

    /// The bytes a plugin stores, in all its tenants, as recorded.
    func storageBytes(_ id: String) async throws -> Int {
        try await engine.storage.run { store, _ in try store.usageByTenant(plugin: id).values.reduce(0, +) }
    }

    /// `endpoint {"id", "method", "path", "query"?, "headers"?, "body"?: base64, "tenant"?}`:
    /// `{"status", "headers", "body": base64}` from the plugin's endpoint.
    /// `model`: a model call; chunks go to `onChunk`.
    func invokeModel(_ request: ModelRequest, onChunk: (@Sendable ([UInt8]) -> Void)?) async throws -> [UInt8] {
        try await engine.invokeModel(
            request.id, model: request.model, messages: request.messages, params: request.parameters, onChunk: onChunk,
            scope: try await scope(request.id, request.tenant), requestID: request.requestID)
    }

    func endpoint(_ request: EndpointRequest) async throws -> [UInt8] {
        try await engine.invokeEndpoint(
            request.id, method: request.method, path: request.path, query: request.query, headers: request.headers,
            body: request.body, scope: try await scope(request.id, request.tenant), requestID: request.requestID)
    }

    /// `credentials.test {"id", "tenant"?, "credentials"?}`: the seed's "test
    /// connection" with the given credentials, or the stored ones. For a
    /// tenant, what it gives counts as its own values (only settings it may
    /// set), so stored operator secrets are never tried with a destination
    /// the tenant supplied (see ``SettingOwnership``).
    func testCredentials(_ request: CredentialsTestRequest) async throws -> [UInt8] {
        let id = request.id
        let manifest = try await engine.manifest(id)
        let secrets = Set(manifest.settings.filter { $0.type == .secret }.map(\.name))
        guard let tenant = request.tenant else {
            // The operator's own test: what it gave, or its stored secrets.
            let stored = try await registry.settings(id)
            let credentials: JSONValue =
                if let given = request.credentials { .object(given) }
                else if case .object(let values) = stored { .object(values.filter { secrets.contains($0.key) }) }
                else { [:] }
            return try await engine.validateCredentials(id, credentials: credentials, scope: nil)
        }
        let given = request.credentials ?? [:]
        try SettingOwnership.checkTenantMaySet(given.keys, manifest: manifest)
        let settings = try await tenantSettings(id, tenant, supplied: given)
        let credentials: JSONValue = if case .object(let values) = settings { .object(values.filter { secrets.contains($0.key) }) } else { [:] }
        return try await engine.validateCredentials(id, credentials: credentials, scope: CallScope(tenant: tenant, settings: settings))
    }

    /// `metrics`: per installed plugin, the figures the gateway exports.
    func metrics() async throws -> JSONValue {
        var plugins: [JSONValue] = []
        for record in try await registry.all() {
            guard let live = try? await engine.status(record.id) else { continue }
            let usage = try await storageBytes(record.id)
            var entry: [String: JSONValue] = [
                "id": .string(record.id), "restarts": .int(live.restarts), "calls_served": .int(live.callsServed),
                "running": .int(live.state == .running ? 1 : 0), "storage_bytes": .int(usage),
                "dropped_log_lines": .int(live.droppedLogLines),
                "storage_quota": .int((try? await engine.manifest(record.id).permission.storage.bytes) ?? 0),
                "deaths": .object(Dictionary(uniqueKeysWithValues: live.deathCounts.map { (String($0.key), JSONValue.int($0.value)) })),
            ]
            if let memory = live.memoryBytes { entry["memory_bytes"] = .int(memory) }
            plugins.append(.object(entry))
        }
        return .array(plugins)
    }

    /// `keys.create {"kind": "admin"|"tenant", "tenant"?}`: the record and
    /// the key, which is shown this once.
    func createKey(_ request: KeysCreateRequest) async throws -> JSONValue {
        let (record, key) = try await keys.create(kind: request.kind, tenant: request.tenant)
        return Self.json(record).merging(["key": .string(key)])
    }

    /// `keys.list`: every key's record, never the key.
    func listKeys() async throws -> JSONValue {
        .array(try await keys.all().map(Self.json))
    }

    /// `keys.revoke {"id"}`.
    func revokeKey(_ request: KeysRevokeRequest) async throws -> JSONValue {
        let id = request.id
        try await keys.revoke(id)
        return ["id": .string(id), "revoked": true]
    }

    /// `keys.verify {"key"}`: the key's record when it is live, else `{"valid": false}`.
    func verifyKey(_ request: KeysVerifyRequest) async throws -> JSONValue {
        guard let record = try await keys.verify(request.key) else { return ["valid": false] }
        return Self.json(record).merging(["valid": true])
    }

    static func json(_ record: APIKeys.Record) -> JSONValue {
        [
            "id": .string(record.id), "kind": .string(record.kind.rawValue), "tenant": record.tenant.map(JSONValue.string) ?? .null,
            "created_at": .int(Int(record.createdAt)), "last_used_at": record.lastUsedAt.map { .int(Int($0)) } ?? .null,
            "revoked": .bool(record.revoked),
        ]
    }
}
