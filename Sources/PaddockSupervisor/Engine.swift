public import NIOCore
public import NIOPosix
public import PaddockCore
public import PaddockRPC
import PaddockSandbox
import Synchronization

/// The supervision engine: loads plugins, starts each in its sandbox under
/// a uid of its own, validates calls against the manifest before a plugin
/// sees them, and keeps plugins alive. Used in-process by `paddock run`.
public actor Engine {
    public nonisolated let configuration: EngineConfiguration
    /// Plugin storage and the audit log, in `<data>/paddock.db`.
    let storage: StorageService
    /// Tenants' files, which tool calls take by id and plugins read through the host.
    let files: FileStore
    /// Python plugins' requirements installed for `python`, in `<data>/envs`.
    nonisolated func environment(python: String) -> PythonEnvironment {
        PythonEnvironment(root: configuration.environmentsDirectory, python: python)
    }
    private let group: any EventLoopGroup
    /// The loaded plugins, read without an actor hop on the call path.
    private nonisolated let runtimes = Mutex<[String: PluginRuntime]>([:])
    /// Copies replaced by an upgrade or rollback, finishing their calls.
    private nonisolated let retiring = Mutex<[String: [PluginRuntime]]>([:])
    private var nextSlot: UInt32 = 0
    /// Plugins the operator granted outbound network at install.
    private var networkGrants: Set<String> = []
    /// The versions of the interpreters asked so far, by path.
    private var interpreterVersions: [String: RuntimeVersion] = [:]

    public init(configuration: EngineConfiguration, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.storage = StorageService(path: configuration.dataDirectory + "/paddock.db")
        self.files = FileStore(directory: configuration.dataDirectory + "/files", limits: configuration.files)
        self.group = group
    }

    /// Loads the plugin in `directory`; its manifest must be valid.
    /// - Parameters:
    ///   - restartPolicy: this plugin's restart policy, over the engine's.
    ///   - uid: the plugin's uid (and gid), when a registry assigned one;
    ///     otherwise the next of the engine's range.
    /// - Returns: the plugin's id (its manifest name).
    /// - Throws: ``PaddockError``: the manifest's first error, 102 when the id is taken.
    @discardableResult
    public func load(
        directory: String,
        settings: JSONValue = .object([:]),
        restartPolicy: RestartStateMachine<ContinuousClock.Instant>.Policy? = nil,
        uid: UInt32? = nil
    ) async throws -> String {
        let runtime = try makeRuntime(directory: directory, restartPolicy: restartPolicy, uid: uid ?? configuration.firstUID + nextSlot)
        let id = runtime.manifest.name
        guard runtimes.withLock({ $0[id] }) == nil else {
            throw PaddockError(.wrongFormat, "a plugin named \(id) is already loaded", field: "name")
        }
        if uid == nil { nextSlot += 1 }
        runtimes.withLock { $0[id] = runtime }
        runtime.settings = settings
        return id
    }

    /// Grants a plugin outbound network (the operator's `--allow-network` at
    /// install), or takes it back; it applies from the next copy loaded.
    public func setNetworkGrant(_ id: String, _ granted: Bool) {
        if granted { networkGrants.insert(id) } else { networkGrants.remove(id) }
    }

    private func makeRuntime(
        directory: String, restartPolicy: RestartStateMachine<ContinuousClock.Instant>.Policy?, uid: UInt32
    ) throws -> PluginRuntime {
        let path = EngineConfiguration.realPath(directory) ?? directory
        var manifest = try ManifestLoader().manifest(in: path)
        if networkGrants.contains(manifest.name) { manifest.permission.network = true }
        var pluginConfiguration = configuration
        if let restartPolicy { pluginConfiguration.restart.policy = restartPolicy }
        let log = PluginLog(directory: configuration.dataDirectory + "/logs", plugin: manifest.name)
        // A runner no interpreter satisfies loads anyway: starting it is 105.
        let python = manifest.runner.language == .python ? (try? self.python(for: manifest.runner.version)) ?? configuration.python : configuration.python
        return PluginRuntime(
            manifest: manifest, directory: path, configuration: pluginConfiguration, python: python, uid: uid, eventLoop: group.next(),
            log: log, host: HostService(manifest: manifest, log: log, storage: storage, engine: self))
    }

    /// Switches a loaded plugin to another copy of it (an upgrade or a
    /// rollback) with no failed call: the new one is started first (when
    /// `start`), new calls go to it once it runs, calls queued for the old
    /// one move over, calls in flight on the old one finish (bounded by
    /// their deadline), and then the old one stops.
    /// - Throws: the new copy's start failure; the old one then serves on, untouched.
    public func replace(_ id: String, directory: String, uid: UInt32, start: Bool) async throws {
        let old = try runtime(id)
        let new = try makeRuntime(directory: directory, restartPolicy: old.configuration.restart.policy, uid: uid)
        guard new.manifest.name == id else {
            throw PaddockError(.wrongFormat, "the new copy is \(new.manifest.name), not \(id)", field: "name")
        }
        new.settings = old.settings
        if start {
            do {
                try await self.start(new)
            } catch {
                await new.stop()
                throw error
            }
        }
        retiring.withLock { $0[id, default: []].append(old) }
        runtimes.withLock { $0[id] = new }
        await old.retire(handingOverTo: new, within: configuration.callTimeout + configuration.cancellationGrace)
        retiring.withLock { $0[id]?.removeAll { $0 === old } }
    }

    /// Starts (activates) a loaded plugin and waits until it runs, after the
    /// seed's checks: configuration complete, dependencies available, and
    /// at `initialize` permissions consistent with the manifest.
    /// - Throws: 101 when a required setting has no value; 105 when the
    ///   runner is missing or older than declared or a declared file is gone;
    ///   104 for a wrong announcement; the coded error of a failed start
    ///   (301 at import, 204 when `initialize` is not answered in time...).
    public func start(_ id: String) async throws {
        try await start(try runtime(id))
    }

    private func start(_ runtime: PluginRuntime) async throws {
        let manifest = runtime.manifest
        let id = manifest.name
        runtime.settings = try Self.effectiveSettings(manifest.settings, given: runtime.settings)
        if let missing = ManifestLoader().load(directory: runtime.directory).errors.first {
            throw PaddockError(.dependencyUnavailable, "\(id) cannot start: \(missing.message)", field: missing.field)
        }
        if manifest.runner.language == .python {
            let python = try self.python(for: manifest.runner.version)
            let environment = environment(python: python)
            if let folder = try environment.folder(for: runtime.directory), environment.sitePackages(folder) == nil {
                throw PaddockError(
                    .dependencyUnavailable, "\(id) cannot start: its requirements (requirements.txt or uv.lock) are not installed; install its package again",
                    field: "requirements")
            }
        }
        try await runtime.start()
    }

    /// Installs a loaded Python plugin's `requirements.txt` unless that is done
    /// (``PythonEnvironment``): what `paddock run` does before it starts one.
    /// - Parameter progress: each line the installer prints.
    public func installRequirements(_ id: String, progress: @escaping @Sendable (String) -> Void) async throws {
        let runtime = try runtime(id)
        guard runtime.manifest.runner.language == .python else { return }
        try await environment(python: try python(for: runtime.manifest.runner.version)).build(for: runtime.directory, progress: progress)
    }

    /// The interpreter of a Python plugin's installed environment (its
    /// `bin/python`, outside the sandbox), for tools that run the plugin
    /// bare to compare with (`paddock-bench dify`); nil without requirements.
    public func environmentInterpreter(_ id: String) throws -> String? {
        let runtime = try runtime(id)
        return try environment(python: try python(for: runtime.manifest.runner.version)).folder(for: runtime.directory).map { $0 + "/bin/python" }
    }

    /// Replaces a plugin's settings; they reach it at its next start.
    public func setSettings(_ id: String, _ settings: JSONValue) async throws {
        try runtime(id).settings = settings
    }

    /// Stops a plugin and forgets it.
    public func unload(_ id: String) async throws {
        let runtime = try runtime(id)
        await runtime.stop()
        runtimes.withLock { $0[id] = nil }
    }

    /// The given settings with the manifest's defaults filled in.
    /// - Throws: ``PaddockError`` 101 naming the first required setting without a value.
    static func effectiveSettings(_ declared: [Setting], given: JSONValue) throws(PaddockError) -> JSONValue {
        guard case .object(var values) = given else {
            throw PaddockError(.wrongFormat, "settings must be a JSON object")
        }
        for setting in declared where values[setting.name] == nil || values[setting.name] == .null {
            if let fallback = setting.default {
                values[setting.name] = fallback
            } else if setting.required {
                throw PaddockError(.configurationMissing, "the required setting '\(setting.name)' has no value", field: "settings.\(setting.name)")
            }
        }
        return .object(values)
    }

    /// Calls a tool with arguments checked against the manifest first.
    /// - Parameters:
    ///   - onChunk: each streamed partial result, raw JSON.
    ///   - requestID: the outside request the call serves, sent to the plugin as `request_id`.
    /// - Returns: the tool's result, raw JSON.
    /// - Throws: 101/102 for arguments that do not fit (the plugin never sees
    ///   the call), 104 for a tool the manifest does not declare, 206 for
    ///   a chain of plugin calls that would cycle or go too deep, or the
    ///   call's coded error.
    public nonisolated func invokeTool(
        _ id: String, tool: String, arguments: JSONValue, onChunk: (@Sendable ([UInt8]) -> Void)? = nil,
        backpressure: Backpressure? = nil, chain: CallChain = .outside, scope: CallScope? = nil, requestID: String? = nil
    ) async throws -> [UInt8] {
        try await startTool(
            id, tool: tool, arguments: arguments, onChunk: onChunk, backpressure: backpressure, chain: chain, scope: scope,
            requestID: requestID
        ).value()
    }

    /// ``invokeTool(_:tool:arguments:onChunk:backpressure:chain:scope:)`` without a task: checks
    /// synchronously and hands the call to the plugin's event loop.
    public nonisolated func startTool(
        _ id: String, tool: String, arguments: JSONValue, onChunk: (@Sendable ([UInt8]) -> Void)? = nil,
        backpressure: Backpressure? = nil, chain: CallChain = .outside, scope: CallScope? = nil, requestID: String? = nil
    ) throws(PaddockError) -> StartedCall {
        let runtime = try runtime(id, entering: chain)
        let manifest = runtime.manifest
        guard let item = manifest.tools.flatMap(\.items).first(where: { $0.name == tool }) else {
            throw PaddockError(.permissionDenied, "\(id) declares no tool '\(tool)'")
        }
        let checked = try files.describeFiles(in: try Self.validate(arguments, against: item.parameters), parameters: item.parameters, tenant: scope?.tenant)
        var call: [String: JSONValue] = ["tool": .string(tool), "params": .object(checked)]
        // Nobody takes the chunks: the plugin may leave them out.
        if onChunk == nil { call["stream"] = false }
        let params = try scope.apply(to: call, manifest: manifest, requestID: requestID)
        return StartedCall(
            runtime, "tool.invoke", params: params, onChunk: onChunk, backpressure: backpressure, chain: chain.entering(scope: scope))
    }

    /// Calls an endpoint: only methods the manifest declares; parameters
    /// from the query and a JSON body are checked against its schema.
    /// - Returns: `{"status", "headers", "body"}` with the body in base64.
    public nonisolated func invokeEndpoint(
        _ id: String, method: HTTPMethod, path: String, query: [String: String] = [:],
        headers: [String: String] = [:], body: [UInt8] = [], chain: CallChain = .outside, scope: CallScope? = nil,
        requestID: String? = nil
    ) async throws -> [UInt8] {
        try await startEndpoint(
            id, method: method, path: path, query: query, headers: headers, body: body, chain: chain, scope: scope, requestID: requestID
        ).value()
    }

    /// ``invokeEndpoint(_:method:path:query:headers:body:chain:scope:)`` without a task.
    public nonisolated func startEndpoint(
        _ id: String, method: HTTPMethod, path: String, query: [String: String] = [:],
        headers: [String: String] = [:], body: [UInt8] = [], chain: CallChain = .outside, scope: CallScope? = nil,
        requestID: String? = nil
    ) throws(PaddockError) -> StartedCall {
        let runtime = try runtime(id, entering: chain)
        let manifest = runtime.manifest
        guard manifest.permission.endpoints.contains(method) else {
            throw PaddockError(.permissionDenied, "\(id) does not serve \(method.rawValue) (permission.endpoints)")
        }
        guard let item = manifest.endpoints.flatMap(\.items).first(where: { $0.method == method && $0.matches(path) }) else {
            throw PaddockError(.permissionDenied, "\(id) has no endpoint \(method.rawValue) \(path)")
        }
        var arguments: [String: JSONValue] = [:]
        for parameter in item.parameters {
            if let text = query[parameter.name] { arguments[parameter.name] = Self.coerce(text, to: parameter.type) }
        }
        if !body.isEmpty, case .object(let members)? = try? JSONValue(parsing: body) {
            arguments.merge(members) { _, fromBody in fromBody }
        }
        let checked = try Self.validate(.object(arguments), against: item.parameters)
        let params = try scope.apply(
            to: [
                "method": .string(method.rawValue), "path": .string(path),
                "query": .object(query.mapValues(JSONValue.string)), "headers": .object(headers.mapValues(JSONValue.string)),
                "body": .string(Base64.encode(body)), "params": .object(checked),
            ], manifest: manifest, requestID: requestID)
        return StartedCall(runtime, "endpoint.invoke", params: params, onChunk: nil, chain: chain.entering(scope: scope))
    }

    /// Calls a model of a model plugin; `params` are checked against the model's parameters.
    /// - Parameter onChunk: each streamed partial result, raw JSON.
    public nonisolated func invokeModel(
        _ id: String, model: String, messages: JSONValue, params: JSONValue = .object([:]),
        onChunk: (@Sendable ([UInt8]) -> Void)? = nil, chain: CallChain = .outside, scope: CallScope? = nil,
        requestID: String? = nil
    ) async throws -> [UInt8] {
        let runtime = try runtime(id, entering: chain)
        guard let item = runtime.manifest.models.flatMap(\.items).first(where: { $0.name == model }) else {
            throw PaddockError(.permissionDenied, "\(id) declares no model '\(model)'")
        }
        let checked = try Self.validate(params, against: item.parameters)
        let call = try scope.apply(
            to: ["model": .string(model), "messages": messages, "params": .object(checked)], manifest: runtime.manifest, requestID: requestID)
        return try await StartedCall(runtime, "model.invoke", params: call, onChunk: onChunk, chain: chain.entering(scope: scope)).value()
    }

    /// The seed's "test connection": asks the plugin whether `credentials` work.
    /// - Returns: `{"valid": Bool, "message"?: String}`.
    public nonisolated func validateCredentials(_ id: String, credentials: JSONValue, scope: CallScope? = nil) async throws -> [UInt8] {
        let runtime = try runtime(id)
        let params = try scope.apply(to: ["credentials": credentials], manifest: runtime.manifest)
        return try await StartedCall(runtime, "credentials.validate", params: params, onChunk: nil, chain: .outside).value()
    }

    /// Sends the plugin a `ping` (what the heartbeat sends) and waits for the answer.
    public func ping(_ id: String) async throws {
        try await runtime(id).ping()
    }

    public func status(_ id: String) async throws -> PluginStatus {
        try await runtime(id).status
    }

    public func stop(_ id: String) async throws {
        try await runtime(id).stop()
    }

    /// Waits until no call is in flight, or `timeout` has passed.
    /// - Returns: the calls still in flight at the end.
    @discardableResult
    public func drain(timeout: Duration) async -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            var inFlight = 0
            for runtime in runtimes.withLock({ Array($0.values) }) { inFlight += await runtime.status.inFlight }
            if inFlight == 0 || ContinuousClock.now >= deadline { return inFlight }
            try? await Task.sleep(for: .milliseconds(20))
        }
    }

    /// Stops every plugin.
    public func shutdown() async {
        await withTaskGroup(of: Void.self) { group in
            for runtime in runtimes.withLock({ Array($0.values) }) { group.addTask { await runtime.stop() } }
        }
    }

    /// Kills every plugin at once, with everything in its cgroup and pid
    /// namespace: for a supervisor that has been told to exit now.
    public func terminate() async {
        for runtime in runtimes.withLock({ Array($0.values) }) { await runtime.terminate() }
    }

    /// The ids of the loaded plugins, sorted.
    nonisolated var loadedIDs: [String] { runtimes.withLock { $0.keys.sorted() } }

    /// A loaded plugin's manifest.
    public func manifest(_ id: String) throws(PaddockError) -> Manifest {
        try runtime(id).manifest
    }

    /// The plugin's log file.
    public func logPath(_ id: String) throws -> String {
        try runtime(id).log.path
    }

    private nonisolated func runtime(_ id: String) throws(PaddockError) -> PluginRuntime {
        guard let runtime = runtimes.withLock({ $0[id] }) else {
            throw PaddockError(.pluginUnavailable, "no plugin named \(id) is loaded", reason: .notInstalled)
        }
        return runtime
    }

    private nonisolated func runtime(_ id: String, entering chain: CallChain) throws(PaddockError) -> PluginRuntime {
        try chain.check(entering: id)
        return try runtime(id)
    }

    /// Where a tenant's view of a plugin's settings comes from (the daemon's
    /// registry); without one, a tenant gets the plugin's own settings.
    private var tenantSettings: (@Sendable (_ plugin: String, _ tenant: String) async throws -> JSONValue)?

    public func setTenantSettings(_ provider: @escaping @Sendable (_ plugin: String, _ tenant: String) async throws -> JSONValue) {
        tenantSettings = provider
    }

    /// Runs a tenant's flow for a plugin's `flow.run` (the daemon's flows); without one, there are no flows.
    private var flowRunner: FlowRunnerHook?

    /// Runs a tenant's flow for a plugin, its nodes' calls continuing the plugin's chain.
    public typealias FlowRunnerHook = @Sendable (_ tenant: String, _ id: String, _ input: JSONValue, _ chain: CallChain) async throws -> JSONValue

    public func setFlowRunner(_ runner: @escaping FlowRunnerHook) {
        flowRunner = runner
    }

    /// Runs the tenant's flow `id` with `input`; its nodes' calls continue
    /// `chain`, so a flow cannot call back into a plugin that is waiting on it.
    /// - Throws: 306 when this engine has no flows; the flow's error.
    func runFlow(tenant: String, id: String, input: JSONValue, chain: CallChain) async throws -> JSONValue {
        guard let flowRunner else { throw PaddockError(.pluginUnavailable, "this host runs no flows", reason: .notInstalled) }
        return try await flowRunner(tenant, id, input, chain)
    }

    /// The scope of a call to `id` made for `tenant`.
    func scope(_ id: String, tenant: String) async throws -> CallScope {
        if let tenantSettings { return CallScope(tenant: tenant, settings: try await tenantSettings(id, tenant)) }
        return CallScope(tenant: tenant, settings: try runtime(id).settings)
    }

    /// The chain a host call from `id` continues (see ``CallChain``): the
    /// calls its current copy serves, and those of a copy being retired.
    nonisolated func chain(continuing id: String) -> CallChain {
        let current = runtimes.withLock { $0[id] }?.servingChains ?? []
        let retiring = self.retiring.withLock { $0[id] ?? [] }.flatMap(\.servingChains)
        return CallChain.hostCall(from: id, serving: current + retiring)
    }

    /// Checks arguments; the first violation's code, every violation named.
    static func validate(_ arguments: JSONValue, against parameters: [ParameterSchema]) throws(PaddockError) -> [String: JSONValue] {
        let outcome = ParameterValidator(parameters: parameters).validate(arguments)
        guard let first = outcome.violations.first else { return outcome.arguments }
        var details: [String: String] = [:]
        for violation in outcome.violations { details[violation.field ?? "arguments"] = violation.message }
        let message = outcome.violations.map(\.message).joined(separator: "; ")
        throw PaddockError(first.code, message, field: first.field, details: details)
    }

    /// A query string value as the parameter's type, when it reads as one.
    private static func coerce(_ text: String, to type: ParameterSchema.Kind) -> JSONValue {
        switch type {
        case .integer: Int(text).map(JSONValue.int) ?? .string(text)
        case .number: Double(text).map(JSONValue.double) ?? .string(text)
        case .boolean: text == "true" ? .bool(true) : text == "false" ? .bool(false) : .string(text)
        default: .string(text)
        }
    }

    /// The interpreter for a Python runner asking for `minimum`: the
    /// configured one when it is new enough, else the oldest installed one
    /// that is (``Interpreter/candidates()``), by its real path.
    /// - Throws: 105 when none is.
    func python(for minimum: RuntimeVersion?) throws(PaddockError) -> String {
        let configured = try version(of: configuration.python)
        guard let minimum, !minimum.isSatisfied(by: configured) else { return configuration.python }
        let found = Interpreter.candidates()
            .compactMap { path in (try? version(of: path)).map { (path: path, version: $0) } }
            .filter { minimum.isSatisfied(by: $0.version) }
            .min { $0.version < $1.version }
        guard let found else {
            throw PaddockError(
                .dependencyUnavailable,
                "the plugin needs Python \(minimum) or newer; \(configuration.python) is \(configured), and no other interpreter installed here is",
                field: "runner.version")
        }
        return found.path
    }

    private func version(of python: String) throws(PaddockError) -> RuntimeVersion {
        if let known = interpreterVersions[python] { return known }
        let version = try Interpreter.version(of: python)
        interpreterVersions[python] = version
        return version
    }
}

/// A call handed to a plugin: its result, and a way to cancel it (the plugin then gets `$/cancel`).
public struct StartedCall: Sendable {
    let runtime: PluginRuntime
    let id: UInt64
    public let result: EventLoopFuture<[UInt8]>

    init(
        _ runtime: PluginRuntime, _ method: String, params: JSONValue, onChunk: (@Sendable ([UInt8]) -> Void)?,
        backpressure: Backpressure? = nil, chain: CallChain
    ) {
        self.runtime = runtime
        (id, result) = runtime.call(method, params: params.jsonBytes, onChunk: onChunk, backpressure: backpressure, chain: chain)
    }

    public func cancel() {
        runtime.cancel(id)
    }

    /// Waits for the result; cancelling the waiting task cancels the call.
    public func value() async throws -> [UInt8] {
        try await withTaskCancellationHandler {
            try await result.get()
        } onCancel: {
            cancel()
        }
    }
}
