import PaddockCore
import PaddockStorage

/// The control methods the gateway (and `paddock keys`) use: a plugin's
/// whole description, endpoint calls, "test connection", API keys.
extension Daemon {
    /// `plugin {"id"}`: the manifest, lifecycle and live status, storage usage,
    /// and whether its endpoints are public.
    func plugin(_ params: JSONValue) async throws -> JSONValue {
        let id = try Self.string(params, "id")
        guard let record = try registry.record(id) else { throw Self.notInstalled(id) }
        let manifest = try await engine.manifest(id)
        let usage = try await storageBytes(id)
        return try await status(id).merging([
            "directory": .string(record.directory), "manifest": manifest.jsonValue,
            "public_endpoints": .bool(try registry.publicEndpoints(id)),
            "storage": ["bytes": .int(usage), "quota": .int(manifest.permission.storage.bytes)],
        ])
    }

    /// The bytes a plugin stores, in all its tenants, as recorded.
    func storageBytes(_ id: String) async throws -> Int {
        try await engine.storage.run { store, _ in try store.usageByTenant(plugin: id).values.reduce(0, +) }
    }

    /// `endpoint {"id", "method", "path", "query"?, "headers"?, "body"?: base64, "tenant"?}`:
    /// `{"status", "headers", "body": base64}` from the plugin's endpoint.
    func endpoint(_ params: JSONValue) async throws -> [UInt8] {
        let id = try Self.string(params, "id")
        let name = try Self.string(params, "method")
        guard let method = HTTPMethod(rawValue: name.uppercased()) else {
            throw PaddockError(.wrongFormat, "'\(name)' is not an HTTP method", field: "method")
        }
        guard let body = Base64.decode(params["body"]?.stringValue ?? "") else {
            throw PaddockError(.unparsableData, "the body is not base64", field: "body")
        }
        return try await engine.invokeEndpoint(
            id, method: method, path: try Self.string(params, "path"), query: HostService.strings(params["query"]),
            headers: HostService.strings(params["headers"]), body: body, scope: try scope(id, params))
    }

    /// `credentials.test {"id", "tenant"?, "credentials"?}`: the seed's "test
    /// connection" with the given credentials, or the stored ones.
    func testCredentials(_ params: JSONValue) async throws -> [UInt8] {
        let id = try Self.string(params, "id")
        let scope = try scope(id, params)
        let stored = try registry.settings(id, tenant: scope?.tenant)
        let secrets = Set(try await engine.manifest(id).settings.filter { $0.type == .secret }.map(\.name))
        let credentials: JSONValue =
            if let given = params["credentials"], case .object = given { given }
            else if case .object(let values) = stored { .object(values.filter { secrets.contains($0.key) }) }
            else { [:] }
        return try await engine.validateCredentials(id, credentials: credentials, scope: scope)
    }

    /// `metrics`: per installed plugin, the figures the gateway exports.
    func metrics() async throws -> JSONValue {
        var plugins: [JSONValue] = []
        for record in try registry.all() {
            guard let live = try? await engine.status(record.id) else { continue }
            let usage = try await storageBytes(record.id)
            var entry: [String: JSONValue] = [
                "id": .string(record.id), "restarts": .int(live.restarts), "calls_served": .int(live.callsServed),
                "running": .int(live.state == .running ? 1 : 0), "storage_bytes": .int(usage),
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
    func createKey(_ params: JSONValue) throws -> JSONValue {
        let name = try Self.string(params, "kind")
        guard let kind = APIKeys.Kind(rawValue: name) else {
            throw PaddockError(.wrongFormat, "a key is 'admin' or 'tenant', not '\(name)'", field: "kind")
        }
        let (record, key) = try keys.create(kind: kind, tenant: params["tenant"]?.stringValue)
        return Self.json(record).merging(["key": .string(key)])
    }

    /// `keys.list`: every key's record, never the key.
    func listKeys() throws -> JSONValue {
        .array(try keys.all().map(Self.json))
    }

    /// `keys.revoke {"id"}`.
    func revokeKey(_ params: JSONValue) throws -> JSONValue {
        let id = try Self.string(params, "id")
        try keys.revoke(id)
        return ["id": .string(id), "revoked": true]
    }

    /// `keys.verify {"key"}`: the key's record when it is live, else `{"valid": false}`.
    func verifyKey(_ params: JSONValue) throws -> JSONValue {
        guard let record = try keys.verify(try Self.string(params, "key")) else { return ["valid": false] }
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
