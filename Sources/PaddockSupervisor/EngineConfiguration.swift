import Glibc
public import Logging
public import PaddockCore

/// Where the engine finds its parts and how patient it is. Every timeout is
/// configurable; none is hard-coded elsewhere.
public struct EngineConfiguration: Sendable {
    /// The data directory: `logs/`, and each plugin's `data/<id>` and `tmp/<id>`.
    public var dataDirectory: String
    /// The `paddock-sandbox` executable.
    public var launcher: String
    /// The folder holding `default.yaml`, `network.yaml`, `strict.yaml`.
    public var profilesDirectory: String
    /// The folder holding the `paddock_plugin` package, mounted read-only for plugins.
    public var pythonSDK: String
    /// The interpreter for Python plugins, resolved to its real path: never a
    /// version-manager shim, which costs 100+ ms a start and which a plugin's
    /// uid may not even be able to read.
    public var python: String
    /// Plugins get uids (and gids) from here up: each running plugin one of
    /// its own, host-wide (see ``uidLocks``).
    public var firstUID: UInt32 = 200_000
    /// How many uids plugins may use from ``firstUID`` on.
    public var uidCount: UInt32 = 65_536
    /// Where the supervisors of this host hold their uid leases.
    public var uidLocks = "/run/paddock/uids"
    /// Private IPv4 ranges (CIDR) that plugins with network permission may
    /// reach after all, by plugin id; everything private is refused otherwise.
    public var allowedRanges: [String: [String]] = [:]
    /// Ports of the host's loopback that plugins with network permission
    /// reach at 127.0.0.1, by plugin id; none otherwise.
    public var allowedHostPorts: [String: [Int]] = [:]
    /// The time from spawn to an answered `initialize`.
    public var startTimeout: Duration = .seconds(10)
    /// The default deadline of a call.
    public var callTimeout: Duration = .seconds(30)
    /// Where Python plugins' requirements are installed, one environment per
    /// interpreter and requirements text: `<data>/envs` unless set (`paddock
    /// run` keeps them in a cache, so that each run does not install again).
    public var environmentsDirectory: String {
        get { environments ?? dataDirectory + "/envs" }
        set { environments = newValue }
    }
    private var environments: String?
    /// How long a plugin has to honour a cancelled call before it is killed and restarted.
    public var cancellationGrace: Duration = .seconds(2)
    /// Tenants' files (``FileStore``): sizes, quota, lifetime.
    public var files = FileStore.Limits()
    /// An idle plugin is pinged after this long without a message.
    public var heartbeatInterval: Duration = .seconds(10)
    /// No answer to a ping within this and the plugin is wedged.
    public var heartbeatTimeout: Duration = .seconds(5)
    /// Calls waiting for a free worker beyond this are refused with 206.
    public var queueLimit: Int = 64
    /// The largest frame either side may send.
    public var maximumFrameSize: Int = 16 << 20
    /// Restart policy, backoff and crash-loop limits.
    public var restart = RestartStateMachine<ContinuousClock.Instant>.Configuration()
    /// Give every plugin a cgroup (memory, pids) when the machine allows it.
    public var useCgroups = true
    /// Graceful `shutdown` before a stopping plugin is killed.
    public var shutdownTimeout: Duration = .seconds(2)
    /// Where the supervisor tells what happens to plugins (started, died,
    /// restarted, failed) and to control calls, with the metadata of
    /// ``Logger/plugin(_:)`` and ``Logger/Metadata/process(generation:pid:)``.
    /// Discards everything unless set: paddockd sets its own.
    public var logger = Logger(label: "paddock-engine", factory: { _ in SwiftLogNoOpLogHandler() })

    public init(dataDirectory: String, launcher: String, profilesDirectory: String, pythonSDK: String, python: String) {
        self.dataDirectory = dataDirectory
        self.launcher = launcher
        self.profilesDirectory = profilesDirectory
        self.pythonSDK = pythonSDK
        self.python = python
    }

    /// A configuration whose parts are found next to the running executable
    /// (the launcher) and in the Paddock checkout or install above it
    /// (`sandbox-profiles/`, `sdk/python/`). `PADDOCK_LAUNCHER`,
    /// `PADDOCK_PROFILES`, `PADDOCK_SDK` and `PADDOCK_PYTHON` override them.
    /// - Throws: ``PaddockError`` 105 naming what cannot be found.
    public static func locate(dataDirectory: String) throws(PaddockError) -> EngineConfiguration {
        let executable = realPath("/proc/self/exe") ?? "."
        let binDirectory = String(executable[..<(executable.lastIndex(of: "/") ?? executable.endIndex)])
        let launcher = environment("PADDOCK_LAUNCHER") ?? binDirectory + "/paddock-sandbox"
        guard access(launcher, X_OK) == 0 else {
            throw PaddockError(.dependencyUnavailable, "paddock-sandbox not found at \(launcher); set PADDOCK_LAUNCHER")
        }
        func find(_ variable: String, _ relative: String, _ marker: String) throws(PaddockError) -> String {
            try locate(variable, relative, marker: marker)
        }
        let python = environment("PADDOCK_PYTHON") ?? "/usr/bin/python3"
        guard let interpreter = realPath(python) else {
            throw PaddockError(.dependencyUnavailable, "python interpreter \(python) not found; set PADDOCK_PYTHON")
        }
        return EngineConfiguration(
            dataDirectory: dataDirectory,
            launcher: launcher,
            profilesDirectory: try find("PADDOCK_PROFILES", "sandbox-profiles", "default.yaml"),
            pythonSDK: try find("PADDOCK_SDK", "sdk/python", "paddock_plugin/__init__.py"),
            python: interpreter
        )
    }

    /// `$variable`, or the folder `relative` (holding `marker`) in the first
    /// ancestor of this executable's directory, or of the working directory, that has it.
    /// - Throws: 105 when there is none.
    public static func locate(_ variable: String, _ relative: String, marker: String) throws(PaddockError) -> String {
        if let value = environment(variable) { return value }
        let executable = realPath("/proc/self/exe") ?? "."
        let binDirectory = String(executable[..<(executable.lastIndex(of: "/") ?? executable.endIndex)])
        for root in ancestors(of: binDirectory) + ancestors(of: realPath(".") ?? ".")
        where access(root + "/" + relative + "/" + marker, R_OK) == 0 {
            return root + "/" + relative
        }
        throw PaddockError(.dependencyUnavailable, "\(relative)/ not found above \(binDirectory); set \(variable)")
    }

    private static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func ancestors(of directory: String) -> [String] {
        var result: [String] = []
        var current = directory
        for _ in 0..<6 {
            result.append(current)
            guard let slash = current.lastIndex(of: "/"), slash != current.startIndex else { break }
            current = String(current[..<slash])
        }
        return result
    }
}
