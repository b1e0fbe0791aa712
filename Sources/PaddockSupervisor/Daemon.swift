import Foundation
import Glibc
public import Logging
import PaddockControl
public import PaddockCore
public import PaddockPackage
import PaddockRPC
import PaddockStorage

/// `paddockd`'s state: the registry (what is installed and active, across
/// restarts) and the engine (what runs now). Control methods arrive as
/// JSON-RPC requests on the control socket.
public actor Daemon {
    public let dataDirectory: String
    let engine: Engine
    let registry: Registry
    let keys: APIKeys
    /// Each tenant's flows and their runs.
    let flows: FlowStore
    /// What a package must be to be installed (signatures, limits).
    let packagePolicy: PackagePolicy
    /// The installed copies and the staging folder.
    let files: InstalledFiles
    /// The tenants the operator lets call each plugin that has such a list
    /// (``Registry/allowedTenants(_:)``); a plugin not here serves every tenant.
    var allowedTenants: [String: Set<String>] = [:]
    /// Plugins with an install under way: one at a time each.
    var installing: Set<String> = []
    /// The engine's logger (``EngineConfiguration/logger``).
    public let logger: Logger

    /// An engine, and the registry and API keys in `dataDirectory`: all on
    /// the one owner of `paddock.db`, the engine's.
    /// - Throws: ``PaddockError`` 307 when the database or the secret key
    ///   cannot be used, 105 when the database's schema is newer.
    public init(configuration: EngineConfiguration, packagePolicy: PackagePolicy = PackagePolicy()) async throws {
        self.dataDirectory = configuration.dataDirectory
        self.packagePolicy = packagePolicy
        self.files = InstalledFiles(dataDirectory: configuration.dataDirectory)
        self.logger = configuration.logger
        let engine = Engine(configuration: configuration)
        self.engine = engine
        self.registry = try await Registry(
            owner: engine.storage.owner, dataDirectory: configuration.dataDirectory, firstUID: configuration.firstUID)
        self.keys = APIKeys(owner: engine.storage.owner)
        self.flows = FlowStore(owner: engine.storage.owner)
    }

    /// Loads every installed plugin and starts those that were active, all
    /// at once; each one that does not come back is logged (`warning`).
    /// - Parameter safe: start none: those that were active are left
    ///   inactive (and logged), for an operator to activate one by one.
    /// - Returns: the plugins that could not be brought back, with why.
    public func restore(safe: Bool = false) async -> [String: PaddockError] {
        await engine.setTenantSettings { [weak self] plugin, tenant in
            try await self?.tenantSettings(plugin, tenant) ?? [:]
        }
        await engine.setFlowRunner { [weak self] tenant, id, input, chain in
            guard let self else { throw PaddockError(.pluginUnavailable, "paddockd is stopping") }
            guard case .object = input else { throw PaddockError(.wrongFormat, "a flow's input is an object", field: "input") }
            return try await self.runFlow(FlowRunRequest(tenant: tenant, id: id, input: input), chain: chain) { _ in }
        }
        var failures: [String: PaddockError] = [:]
        var active: [String] = []
        // What an install that was cut short left behind.
        if let installed = try? await registry.installedDirectories() { files.sweep(keeping: installed) }
        engine.environment(python: engine.configuration.python).sweep()
        try? await flows.sweepInterrupted()
        for record in (try? await registry.all()) ?? [] {
            do {
                await engine.setNetworkGrant(record.id, try await registry.networkGranted(record.id))
                allowedTenants[record.id] = try await registry.allowedTenants(record.id)
                try await engine.load(directory: record.directory, settings: try await registry.settings(record.id), uid: record.uid)
                if record.state == .active { active.append(record.id) }
            } catch {
                failures[record.id] = error as? PaddockError ?? PaddockError(.pluginCrashed, "\(error)")
            }
        }
        if safe, !active.isEmpty {
            for id in active { try? await registry.setState(id, .inactive) }
            logger.warning(
                "safe mode: no plugin started; these were active and are now inactive, activate each with `paddock activate ID`",
                metadata: ["plugins": .string(active.joined(separator: ","))])
            active = []
        }
        let engine = self.engine
        let started = await withTaskGroup(of: (String, PaddockError?).self) { group in
            for id in active {
                group.addTask {
                    do {
                        try await engine.start(id)
                        return (id, nil)
                    } catch {
                        return (id, error as? PaddockError ?? PaddockError(.pluginCrashed, "\(error)"))
                    }
                }
            }
            var results: [(String, PaddockError?)] = []
            for await result in group { results.append(result) }
            return results
        }
        for case (let id, let error?) in started { failures[id] = error }
        for (id, error) in failures.sorted(by: { $0.key < $1.key }) {
            logger.plugin(id).warning(
                "not restored", metadata: ["code": .stringConvertible(error.code.rawValue), "error": .string(error.message)])
        }
        logger.info("restored", metadata: ["running": .stringConvertible(started.count { $0.1 == nil })])
        return failures
    }

    /// Lets calls in flight finish (up to `drainTimeout`), then stops every
    /// plugin: `shutdown`, a kill for what does not exit, cgroups removed.
    /// Active plugins start again on the next restore.
    public func shutdown(drainTimeout: Duration = .seconds(10)) async {
        let left = await engine.drain(timeout: drainTimeout)
        if left > 0 {
            logger.warning("stopping plugins with calls in flight", metadata: ["in_flight": .stringConvertible(left)])
        }
        await engine.shutdown()
    }

    // MARK: Control methods

    /// `activate {"id"}`: the seed's three checks, then running; the plugin
    /// stays inactive when a check fails.
    func activate(_ request: PluginRequest) async throws -> JSONValue {
        let id = request.id
        guard try await registry.record(id) != nil else { throw Self.notInstalled(id) }
        do {
            try await engine.start(id)
        } catch {
            try await registry.setState(id, .inactive)
            throw error
        }
        try await registry.setState(id, .active)
        return try await status(id)
    }

    /// `deactivate {"id"}`.
    func deactivate(_ request: PluginRequest) async throws -> JSONValue {
        let id = request.id
        try await engine.stop(id)
        try await registry.setState(id, .inactive)
        return try await status(id)
    }

    /// `uninstall {"id", "force"?}`: refuses while calls are in flight unless forced.
    func uninstall(_ request: UninstallRequest) async throws -> JSONValue {
        let id = request.id
        let status = try await engine.status(id)
        if status.inFlight > 0, !request.force {
            throw PaddockError(.rateLimited, "\(id) has \(status.inFlight) calls in flight; wait, or uninstall with --force", reason: .inUse)
        }
        try await engine.unload(id)
        let copies = try await registry.versions(id)
        try await registry.uninstall(id)
        allowedTenants[id] = nil
        for copy in copies where copy.directory.hasPrefix(files.plugins + "/") { files.remove(copy.directory) }
        await removeUnusedEnvironments()
        try await engine.storage.run { store, _ in try store.removeAll(plugin: id) }
        for folder in ["data", "tmp"] { try? FileManager.default.removeItem(atPath: "\(dataDirectory)/\(folder)/\(id)") }
        return .object(["id": .string(id), "uninstalled": .bool(true)])
    }

    /// `settings {"id", "tenant"?, "set"?: {...}, "public_endpoints"?: Bool}`:
    /// stores values (the plugin's, or one tenant's), answers with secrets masked.
    func settings(_ request: SettingsRequest) async throws -> JSONValue {
        let id = request.id
        guard let record = try await registry.record(id) else { throw Self.notInstalled(id) }
        let tenant = request.tenant
        let manifest = try ManifestLoader().manifest(in: record.directory)
        if let values = request.set {
            if tenant != nil { try SettingOwnership.checkTenantMaySet(values.keys, manifest: manifest) }
            try await registry.setSettings(id, values, manifest: manifest, tenant: tenant)
            if tenant == nil { try await engine.setSettings(id, try await registry.settings(id)) }
        }
        if let open = request.publicEndpoints { try await registry.setPublicEndpoints(id, open) }
        if let tenants = request.tenants {
            let allowed = tenants == ["*"] ? nil : Set(tenants)
            try await registry.setAllowedTenants(id, allowed)
            allowedTenants[id] = allowed
        }
        guard let tenant else { return try await registry.publicSettings(id) }
        let layers = try await registry.settingLayers(id, tenant: tenant)
        return SettingOwnership.tenantView(operator: layers.operator, tenant: layers.tenant, manifest: manifest, mask: Registry.mask)
    }

    /// The settings a call made for `tenant` runs with (see ``SettingOwnership``).
    func tenantSettings(_ plugin: String, _ tenant: String, supplied: [String: JSONValue] = [:]) async throws -> JSONValue {
        try checkTenantMayCall(plugin, tenant)
        let layers = try await registry.settingLayers(plugin, tenant: tenant)
        return .object(SettingOwnership.effective(
            operator: layers.operator, tenant: layers.tenant.merging(supplied) { _, given in given },
            manifest: try await engine.manifest(plugin)))
    }

    /// `list`: every installed plugin with its live state.
    func list() async throws -> JSONValue {
        var items: [JSONValue] = []
        for record in try await registry.all() {
            var item = Self.json(record)
            if let live = try? await engine.status(record.id), live.state != .stopped || record.state == .active {
                item = item.merging(["live": .string(live.state.rawValue)])
            }
            items.append(item)
        }
        return .array(items)
    }

    /// `status {"id"?}`: one plugin's status, or every plugin's.
    func status(_ request: StatusRequest) async throws -> JSONValue {
        if let id = request.id { return try await status(id) }
        var all: [JSONValue] = []
        for record in try await registry.all() { all.append(try await status(record.id)) }
        return .array(all)
    }

    func status(_ id: String) async throws -> JSONValue {
        guard let record = try await registry.record(id) else { throw Self.notInstalled(id) }
        let live = try await engine.status(id)
        var object: [String: JSONValue] = [
            "id": .string(id), "version": .string(record.version), "lifecycle": .string(record.state.rawValue),
            "state": .string(live.state.rawValue), "uid": .int(Int(live.uid)), "restarts": .int(live.restarts),
            "calls_served": .int(live.callsServed), "in_flight": .int(live.inFlight),
            "dropped_log_lines": .int(live.droppedLogLines),
        ]
        if let pid = live.pid { object["pid"] = .int(Int(pid)) }
        if let memory = live.memoryBytes { object["memory_bytes"] = .int(memory) }
        if let peak = live.peakMemoryBytes { object["peak_memory_bytes"] = .int(peak) }
        if let p50 = live.latencyP50 { object["latency_p50_ms"] = .double(p50) }
        if let p99 = live.latencyP99 { object["latency_p99_ms"] = .double(p99) }
        if let death = live.lastDeath {
            object["last_death"] = .object([
                "code": .int(death.code.rawValue), "message": .string(death.message),
                "details": .object(death.details.mapValues(JSONValue.string)),
            ])
        }
        return .object(object)
    }

    /// `invoke {"id", "tool", "params"}`: the tool's result; chunks go to `onChunk`.
    func invoke(_ request: InvokeRequest, onChunk: (@Sendable ([UInt8]) -> Void)?, backpressure: Backpressure?) async throws -> [UInt8] {
        try await engine.invokeTool(
            request.id, tool: request.tool, arguments: request.arguments, onChunk: onChunk, backpressure: backpressure,
            scope: try await scope(request.id, request.tenant), requestID: request.requestID)
    }

    /// - Throws: 104 when the operator limited the plugin to tenants that do not include `tenant`.
    func checkTenantMayCall(_ plugin: String, _ tenant: String) throws(PaddockError) {
        guard let allowed = allowedTenants[plugin], !allowed.contains(tenant) else { return }
        throw PaddockError(.permissionDenied, "tenant \(tenant) may not call \(plugin): the operator limited it to other tenants", field: "tenant")
    }

    /// The scope of a call made for `tenant`, with the tenant's settings.
    func scope(_ id: String, _ tenant: String?) async throws -> CallScope? {
        guard let tenant else { return nil }
        return CallScope(tenant: tenant, settings: try await tenantSettings(id, tenant))
    }

    /// `logs {"id", "tail"?}`: the last lines of the plugin's log.
    func logs(_ request: LogsRequest) async throws -> JSONValue {
        let path = try await engine.logPath(request.id)
        await LogWriter.shared.flush()
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        let lines = text.split(separator: "\n", omittingEmptySubsequences: true).suffix(max(0, request.tail))
        return .object(["path": .string(path), "lines": .array(lines.map { .string(String($0)) })])
    }

    /// `storage.usage {"id"}`: the plugin's usage in each tenant, against its quota.
    func storageUsage(_ request: PluginRequest) async throws -> JSONValue {
        let id = request.id
        let quota = try await engine.manifest(id).permission.storage.bytes
        let (usage, quotas) = try await engine.storage.run { store, _ in (try store.usageByTenant(plugin: id), try store.tenantQuotas(plugin: id)) }
        let tenants: [JSONValue] = Set(usage.keys).union(quotas.keys).sorted().map { tenant in
            var entry: [String: JSONValue] = ["tenant": .string(tenant), "bytes": .int(usage[tenant] ?? 0)]
            entry["quota"] = quotas[tenant].map(JSONValue.int)
            return .object(entry)
        }
        return .object([
            "id": .string(id), "quota": .int(quota), "bytes": .int(usage.values.reduce(0, +)), "tenants": .array(tenants),
        ])
    }

    /// `storage.quota {"id", "tenant", "bytes"}`: sets or removes a tenant's
    /// quota; answers as `storage.usage`.
    func storageQuota(_ request: StorageQuotaRequest) async throws -> JSONValue {
        guard try await registry.record(request.id) != nil else { throw Self.notInstalled(request.id) }
        let namespace = PluginStore.Namespace(plugin: request.id, tenant: request.tenant)
        try await engine.storage.run { store, _ in try store.setTenantQuota(namespace, bytes: request.bytes) }
        return try await storageUsage(PluginRequest(request.id))
    }

    /// `storage.check {"id"}`: the recorded usage against the usage
    /// recomputed from the data, per tenant; `consistent` when all agree.
    func storageCheck(_ request: PluginRequest) async throws -> JSONValue {
        let id = request.id
        guard try await registry.record(id) != nil else { throw Self.notInstalled(id) }
        let checks = try await engine.storage.run { store, _ in try store.check(plugin: id) }
        let tenants: [JSONValue] = checks.map {
            .object([
                "tenant": .string($0.namespace.tenant), "recorded": .int($0.recorded), "computed": .int($0.computed),
                "consistent": .bool($0.consistent),
            ])
        }
        return .object(["id": .string(id), "consistent": .bool(checks.allSatisfy(\.consistent)), "tenants": .array(tenants)])
    }

    /// `audit {"id"?, "limit"?}`: the newest denial events, oldest first.
    func audit(_ request: AuditRequest) async throws -> JSONValue {
        let entries = try await engine.storage.run { _, audit in try audit.entries(plugin: request.id, limit: request.limit) }
        return .array(entries.map { entry in
            .object([
                "at_ms": .int(Int(entry.at)), "plugin": .string(entry.plugin), "method": .string(entry.method),
                "permission": .string(entry.permission), "message": .string(entry.message), "count": .int(entry.count),
                "last_ms": .int(Int(entry.lastAt)), "last_method": .string(entry.lastMethod),
            ])
        })
    }

    func logPath(_ id: String) async throws -> String {
        try await engine.logPath(id)
    }

    // MARK: Helpers

    static func json(_ record: Registry.Record) -> JSONValue {
        .object([
            "id": .string(record.id), "version": .string(record.version), "directory": .string(record.directory),
            "lifecycle": .string(record.state.rawValue), "uid": .int(Int(record.uid)),
        ])
    }

    static func notInstalled(_ id: String) -> PaddockError {
        PaddockError(.pluginUnavailable, "no plugin named \(id) is installed", reason: .notInstalled)
    }
}
