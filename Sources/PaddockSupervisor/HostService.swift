import Glibc
import PaddockCore
import PaddockRPC
import PaddockStorage
import Synchronization

/// What a plugin may call back into the host: its storage, other plugins'
/// tools, model plugins, apps. Each call is checked against the calling
/// plugin's manifest before anything happens: a missing permission is 104
/// naming it, written to the audit log before the answer goes out.
final class HostService: Sendable {
    /// Host calls one plugin may have in flight; more are refused with 206
    /// at once, so a plugin flooding its socket (frames of up to 16 MiB)
    /// cannot pile up work and memory in the supervisor.
    static let maximumInFlight = 16

    let manifest: Manifest
    let log: PluginLog
    let storage: StorageService
    /// Routes calls to other plugins; weak, as the engine owns the plugins.
    weak let engine: Engine?
    private let inFlight = Atomic<Int>(0)
    private let denials = Mutex(DenialTally())

    init(manifest: Manifest, log: PluginLog, storage: StorageService, engine: Engine) {
        self.manifest = manifest
        self.log = log
        self.storage = storage
        self.engine = engine
    }

    var plugin: String { manifest.name }

    /// The permission a host method needs, or nil when no plugin may call it.
    static func requiredPermission(for method: String, in manifest: Manifest) -> (granted: Bool, name: String)? {
        let permission = manifest.permission
        switch method {
        case _ where StorageMethod(rawValue: method) != nil:
            return (permission.storage.bytes > 0, "permission.storage")
        case "tool.invoke":
            return (permission.tools, "permission.tools")
        case "model.invoke":
            return (permission.llms, "permission.llms")
        case "app.list", "app.get":
            return (permission.apps != .none, "permission.apps: read")
        case "app.invoke":
            return (permission.apps == .write, "permission.apps: write")
        case "flow.run":
            return (permission.flows, "permission.flows")
        case "file.read", "file.create":
            // A tenant's file, while serving a call for that tenant (checked with the call).
            return (true, "files")
        default:
            return nil
        }
    }

    /// Answers a request from the plugin.
    func answer(method: String, params: [UInt8], reply: RPCReply) {
        guard let (granted, permission) = Self.requiredPermission(for: method, in: manifest) else {
            reply.fail(RPCError(code: RPCError.methodNotFound, message: "the host has no method '\(method)'"))
            return
        }
        guard inFlight.add(1, ordering: .relaxed).newValue <= Self.maximumInFlight else {
            inFlight.subtract(1, ordering: .relaxed)
            reply.fail(RPCError(PaddockError(
                .rateLimited, "\(plugin) has \(Self.maximumInFlight) host calls in flight; wait for their answers",
                reason: .hostCallsInFlight, details: ["limit": String(Self.maximumInFlight)])))
            return
        }
        let finished: @Sendable () -> Void = { self.inFlight.subtract(1, ordering: .relaxed) }
        let arguments: JSONValue
        do throws(PaddockError) {
            arguments = params.isEmpty ? JSONValue.object([:]) : try JSONValue(parsing: params)
            guard case .object = arguments else {
                throw PaddockError(.unparsableData, "the params of \(method) must be a JSON object")
            }
        } catch {
            finished()
            return reply.fail(RPCError(error))
        }
        if granted, let storageMethod = StorageMethod(rawValue: method) {
            // The hot path: straight from the event loop to the storage thread and back, no Task.
            do throws(PaddockError) {
                storage.submit(try storageOperation(storageMethod, arguments)) { result in
                    switch result {
                    case .success(let value):
                        finished()
                        reply.succeed(value.jsonBytes)
                    case .failure(let error) where error.code == .storageQuotaExceeded:
                        Task {
                            defer { finished() }
                            await self.refuse(method, "permission.storage (quota \(self.manifest.permission.storage))", error, reply: reply)
                        }
                    case .failure(let error):
                        finished()
                        reply.fail(RPCError(error))
                    }
                }
            } catch {
                finished()
                reply.fail(RPCError(error))
            }
            return
        }
        Task {
            defer { finished() }
            guard granted else { return await deny(method, permission, reply: reply) }
            do {
                reply.succeed(try await perform(method, arguments, reply: reply))
            } catch {
                reply.fail(RPCError(error as? PaddockError ?? PaddockError(.handlerFailed, "\(method) failed: \(error)")))
            }
        }
    }

    private func perform(_ method: String, _ arguments: JSONValue, reply: RPCReply) async throws -> [UInt8] {
        guard let engine else { throw PaddockError(.pluginUnavailable, "the supervisor is shutting down") }
        let chain = engine.chain(continuing: plugin)
        let forward: @Sendable ([UInt8]) -> Void = { reply.chunk(raw: $0) }
        // A nested call may be made for a tenant only while serving a call for it.
        let tenant = try tenant(arguments)
        func scope(_ target: String) async throws -> CallScope? {
            guard let tenant else { return nil }
            return try await engine.scope(target, tenant: tenant)
        }
        switch method {
        case "tool.invoke":
            let target = try Self.string(arguments, "plugin")
            return try await engine.invokeTool(
                target, tool: try Self.string(arguments, "tool"),
                arguments: arguments["params"] ?? .object([:]), onChunk: forward, chain: chain, scope: try await scope(target))
        case "model.invoke":
            let target = try Self.string(arguments, "plugin")
            return try await engine.invokeModel(
                target, model: try Self.string(arguments, "model"),
                messages: arguments["messages"] ?? .array([]), params: arguments["params"] ?? .object([:]),
                onChunk: forward, chain: chain, scope: try await scope(target))
        case "flow.run":
            let tenant = try Self.servedTenant(tenant, method)
            return try await engine.runFlow(
                tenant: tenant, id: try Self.string(arguments, "id"), input: arguments["input"] ?? [:], chain: chain).jsonBytes
        case "file.read":
            let tenant = try Self.servedTenant(tenant, method)
            let id = try Self.string(arguments, "id")
            let record = try engine.files.existing(id, tenant: tenant)
            let offset = try arguments.integer("offset", default: 0, in: 0...Int.max)
            let data = try await engine.files.read(
                id, tenant: tenant, offset: offset, length: try arguments.integer("length", default: 4 << 20, in: 0...Int.max))
            return JSONValue.object(["data": .string(Base64.encode(data)), "size": .int(record.size), "offset": .int(offset)]).jsonBytes
        case "file.create":
            let tenant = try Self.servedTenant(tenant, method)
            let data = try Self.base64(try Self.string(arguments, "data"), "data")
            return try await engine.files.create(
                tenant: tenant, name: try Self.string(arguments, "name"), contentType: arguments["content_type"]?.stringValue, data: data
            ).json.jsonBytes
        case "app.list":
            return try await engine.apps().jsonBytes
        case "app.get":
            return try await engine.app(try Self.string(arguments, "id")).jsonBytes
        default:  // app.invoke
            let name = try Self.string(arguments, "method")
            guard let method = HTTPMethod(rawValue: name.uppercased()) else {
                throw PaddockError(.wrongFormat, "'\(name)' is not an HTTP method", field: "method")
            }
            let body = try arguments["body"]?.stringValue.map { text throws(PaddockError) in try Self.base64(text, "body") } ?? []
            let target = try Self.string(arguments, "id")
            return try await engine.invokeEndpoint(
                target, method: method, path: try Self.string(arguments, "path"),
                query: Self.strings(arguments["query"]), headers: Self.strings(arguments["headers"]), body: body, chain: chain,
                scope: try await scope(target))
        }
    }

    /// Files and flows belong to a tenant: such a call names the tenant of a call being served.
    private static func servedTenant(_ tenant: String?, _ method: String) throws(PaddockError) -> String {
        guard let tenant else {
            throw PaddockError(.permissionDenied, "\(method) names the tenant of a call being served: files and flows belong to a tenant", field: "tenant")
        }
        return tenant
    }

    /// Refuses a call the manifest does not allow, after auditing it.
    private func deny(_ method: String, _ permission: String, reply: RPCReply) async {
        let message = "\(method) needs \(permission) in the manifest"
        await refuse(method, permission, PaddockError(.permissionDenied, message, details: ["permission": permission]), reply: reply)
    }

    /// Answers `error` after auditing the refusal under `permission` (a
    /// missing permission, or the storage quota a write would pass): the
    /// first such refusal in a minute is written before the answer goes
    /// out, later ones are counted and written within a second (see ``DenialTally``).
    private func refuse(_ method: String, _ permission: String, _ error: PaddockError, reply: RPCReply) async {
        let message = error.message
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let entry = AuditLog.Entry(
            at: Int64(now.tv_sec) * 1000 + Int64(now.tv_nsec) / 1_000_000, plugin: plugin, method: method,
            permission: permission, message: message)
        switch denials.withLock({ $0.note(entry) }) {
        case .write:
            log.write("warn", "refused \(method) (\(permission)): \(message) (more such refusals this minute are only counted)")
            await audit([entry])
        case .counted(scheduleFlush: true):
            Task {
                try? await Task.sleep(for: .seconds(1))
                await audit(denials.withLock { $0.flush() })
            }
        case .counted(scheduleFlush: false):
            break
        }
        reply.fail(RPCError(error))
    }

    private func audit(_ entries: [AuditLog.Entry]) async {
        do {
            try await storage.run { _, audit in for entry in entries { try audit.record(entry) } }
        } catch {
            log.write("error", "the audit log could not record \(entries.count) denials: \(error)")
        }
    }

    // MARK: Arguments

    static func string(_ arguments: JSONValue, _ key: String) throws(PaddockError) -> String {
        guard let value = arguments[key] else {
            throw PaddockError(.configurationMissing, "the parameter '\(key)' is missing", field: key)
        }
        guard let text = value.stringValue else {
            throw PaddockError(.wrongFormat, "the parameter '\(key)' must be a string, not \(value.typeName)", field: key)
        }
        return text
    }

    /// A JSON object's members as strings (non-strings as their JSON text).
    static func strings(_ value: JSONValue?) -> [String: String] {
        guard case .object(let members)? = value else { return [:] }
        return members.mapValues { $0.stringValue ?? $0.jsonText }
    }

    /// The tenant a host call names: nil for none; otherwise one the plugin
    /// is serving a call for at this moment.
    /// - Throws: 102 for a wrong type or format; 104 for any other tenant.
    func tenant(_ arguments: JSONValue) throws(PaddockError) -> String? {
        switch arguments["tenant"] {
        case nil, .null?, .string("")?: return nil
        case .string(let tenant)?:
            try Tenant.check(tenant)
            guard let engine, engine.chain(continuing: plugin).tenants.contains(tenant) else {
                throw PaddockError(
                    .permissionDenied, "\(plugin) is not serving a call for tenant \(tenant)", field: "tenant",
                    details: ["tenant": tenant])
            }
            return tenant
        case let value?:
            throw PaddockError(.wrongFormat, "the parameter 'tenant' must be a string, not \(value.typeName)", field: "tenant")
        }
    }

    static func base64(_ text: String, _ key: String) throws(PaddockError) -> [UInt8] {
        guard let bytes = Base64.decode(text) else {
            throw PaddockError(.unparsableData, "the parameter '\(key)' is not valid base64", field: key)
        }
        return bytes
    }
}
