import Glibc
import Synchronization
import PaddockCore
import PaddockRPC
import PaddockSandbox

/// Numbers the cgroups this process creates.
private let cgroupSerial = Atomic<Int>(0)

/// What a process of the plugin holds while it runs: its uid and its cgroup.
struct ProcessResources: Sendable {
    var lease: UIDLease?
    var cgroup: Cgroup?

    func release() {
        try? cgroup?.remove()
    }
}

/// How a plugin's process is started: the launcher's command line, the
/// executable, and what the plugin must announce at `initialize`.
extension PluginRuntime {
    /// The launcher's arguments, with the uid and cgroup they name.
    func launcherArguments() throws(PaddockError) -> (arguments: [String], resources: ProcessResources) {
        var overrides = SandboxOverrides(manifest: manifest, pluginDirectory: directory)
        overrides.keptDescriptors = [PluginProcess.pluginDescriptor]
        overrides.environment["PADDOCK_RPC_FD"] = String(PluginProcess.pluginDescriptor)
        overrides.environment["PADDOCK_PLUGIN"] = manifest.name
        overrides.dieWithParent = true
        overrides.allowedRanges = configuration.allowedRanges[manifest.name] ?? []
        overrides.allowedHostPorts = configuration.allowedHostPorts[manifest.name] ?? []
        let program: [String]
        if manifest.runner.language == .python {
            overrides.binds.append(SandboxOverrides.Bind(source: configuration.pythonSDK, target: Self.sdkPath))
            overrides.environment["PYTHONPATH"] = Self.sdkPath
            let environment = PythonEnvironment(root: configuration.environmentsDirectory, python: python)
            if let folder = try environment.folder(for: directory) {
                guard let sitePackages = environment.sitePackages(folder) else {
                    throw PaddockError(.dependencyUnavailable, "the plugin's requirements are not installed", field: "requirements")
                }
                // Read-only, like the SDK: the plugin imports its libraries and cannot change them.
                overrides.binds.append(SandboxOverrides.Bind(source: sitePackages, target: PythonEnvironment.mountPoint))
                overrides.environment["PYTHONPATH"] = Self.sdkPath + ":" + PythonEnvironment.mountPoint
            }
            // An interpreter outside /usr (a version manager's) needs its whole prefix, where it is.
            let prefix = Self.parent(of: Self.parent(of: python))
            if !prefix.hasPrefix("/usr") { overrides.readable.append(prefix) }
            if manifest.format == .dify {
                overrides.environment["PADDOCK_DIFY"] = difyDeclaration().jsonText
                program = [python, "-m", "paddock_dify", manifest.runner.entrypoint]
            } else {
                program = [python, "-m", "paddock_plugin", manifest.runner.entrypoint]
            }
        } else {
            program = [try nativeExecutable()]
        }
        var resources = ProcessResources()
        if geteuid() == 0 {
            let range = configuration.firstUID..<(configuration.firstUID + configuration.uidCount)
            let lease = try UIDLease.take(preferred: preferredUID, range: range, directory: configuration.uidLocks)
            resources.lease = lease
            overrides.credentials = SandboxPolicy.Credentials(uid: lease.uid, gid: lease.uid)
            if configuration.useCgroups {
                let memory = manifest.resource.memory ?? ResourceLimits().memory
                // <plugin>-<daemon pid>-<n>: unique in this process; a later daemon
                // recognises leftovers of a dead one by the pid.
                let name = "\(manifest.name)-\(getpid())-\(cgroupSerial.add(1, ordering: .relaxed).newValue)"
                // The launcher and the init of the plugin's pid namespace count too.
                resources.cgroup = try? Cgroup.create(
                    name: name, memory: memory, processes: ResourceLimits().processes + 2, cpuShare: manifest.resource.cpu)
                overrides.cgroups = resources.cgroup?.directories ?? []
            }
        }
        let profile = SandboxOverrides.profilePath(for: manifest, in: configuration.profilesDirectory)
        let arguments = ["--profile", profile] + overrides.arguments + ["--chdir", SandboxOverrides.pluginPath, "--"] + program
        return (arguments, resources)
    }

    /// Where a Python plugin finds the SDK in its view.
    static let sdkPath = "/paddock/sdk"

    /// How long a Dify plugin may take to start: its SDK imports gevent and
    /// pydantic, and libraries like matplotlib build a font cache on first use.
    static let difyStartTimeout = Duration.seconds(60)

    /// What the `paddock_dify` bridge announces and routes: each tool with its
    /// Dify provider, the endpoints, and the provider whose credentials
    /// `credentials.validate` checks.
    func difyDeclaration() -> JSONValue {
        var tools: [String: JSONValue] = [:]
        for provider in manifest.tools {
            for item in provider.items { tools[item.name] = .string(provider.provider) }
        }
        let endpoints = manifest.endpoints.flatMap(\.items).map { item -> JSONValue in
            ["method": .string(item.method.rawValue), "path": .string(item.path)]
        }
        return [
            "tools": .object(tools), "endpoints": .array(endpoints),
            "tool_provider": manifest.tools.first.map { .string($0.provider) } ?? .null,
        ]
    }

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// A native plugin's executable: `bin/<name>` in its package (what
    /// `paddock pack` adds), its package's product named after it
    /// (release, then debug build), or a product of Paddock's own build next
    /// to the launcher (the examples).
    private func nativeExecutable() throws(PaddockError) -> String {
        let launcherDirectory = String(configuration.launcher[..<(configuration.launcher.lastIndex(of: "/") ?? configuration.launcher.endIndex)])
        let candidates = [
            "\(directory)/bin/\(manifest.name)", "\(directory)/.build/release/\(manifest.name)", "\(directory)/.build/debug/\(manifest.name)",
            "\(launcherDirectory)/\(manifest.name)",
        ]
        guard let found = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw PaddockError(
                .dependencyUnavailable, "\(manifest.name) is not built: run `swift build -c release` in \(directory)",
                field: "runner.entrypoint")
        }
        return found
    }

    /// The `initialize` parameters: settings, the secrets among them as credentials, the worker count.
    func initializeParams() -> [UInt8] {
        let settings = self.settings
        let secrets = Set(manifest.settings.filter { $0.type == .secret }.map(\.name))
        let credentials: JSONValue = if case .object(let values) = settings { .object(values.filter { secrets.contains($0.key) }) } else { [:] }
        return JSONValue.object([
            "settings": settings, "credentials": credentials, "workers": .int(manifest.resource.workers),
        ]).jsonBytes
    }

    /// What the plugin announces must be what its manifest declares, no more and no less.
    func checkAnnouncement(_ answer: [UInt8]) throws(PaddockError) {
        let announced = try JSONValue(parsing: answer)
        func names(_ key: String) -> Set<String> {
            guard case .array(let items)? = announced[key] else { return [] }
            return Set(items.compactMap { item in
                if let name = item.stringValue { return name }
                guard let method = item["method"]?.stringValue, let path = item["path"]?.stringValue else { return nil }
                return "\(method.uppercased()) \(path)"
            })
        }
        let declared: [(String, Set<String>)] = [
            ("tools", Set(manifest.tools.flatMap { $0.items.map(\.name) })),
            ("models", Set(manifest.models.flatMap { $0.items.map(\.name) })),
            ("endpoints", Set(manifest.endpoints.flatMap { $0.items.map { "\($0.method.rawValue) \($0.path)" } })),
        ]
        var problems: [String] = []
        for (key, expected) in declared {
            let actual = names(key)
            let extra = actual.subtracting(expected).sorted()
            let missing = expected.subtracting(actual).sorted()
            if !extra.isEmpty { problems.append("announces \(key) the manifest does not declare: \(extra.joined(separator: ", "))") }
            if !missing.isEmpty { problems.append("does not implement declared \(key): \(missing.joined(separator: ", "))") }
        }
        guard problems.isEmpty else {
            throw PaddockError(.permissionDenied, "the plugin \(problems.joined(separator: "; "))")
        }
    }

    /// The plugin's requests (host calls) and notifications (log lines).
    func service() -> RPCService {
        let log = self.log
        let host = self.host
        return RPCService(
            request: { method, params, reply in host.answer(method: method, params: params, reply: reply) },
            notification: { method, params in
                guard method == "log", let entry = try? JSONValue(parsing: params) else { return }
                log.write(notification: entry)
            }
        )
    }
}
