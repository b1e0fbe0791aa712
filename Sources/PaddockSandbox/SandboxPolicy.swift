public import PaddockCore

/// Everything the launcher applies to one plugin process: a profile with
/// its overrides resolved.
public struct SandboxPolicy: Sendable, Equatable {
    public var profile: SandboxProfile
    /// Outbound AF_INET/AF_INET6 sockets allowed, and no private network namespace.
    public var allowNetwork: Bool
    /// The uid and gid to run as; nil keeps the caller's (only when not root).
    public var credentials: Credentials?
    /// cgroup directories to join before exec (one per v1 hierarchy, or one v2 cgroup).
    public var cgroups: [String]
    /// Inherited descriptors that stay open, besides 0, 1 and 2.
    public var keptDescriptors: [Int32]
    /// Kill the plugin when the process that started the launcher dies.
    public var dieWithParent: Bool
    /// Host paths the caller needs shown read-only where they are (the
    /// profile's own are shown when the host has them).
    public var readable: [String]
    /// Host paths the caller needs shown writable where they are.
    public var writable: [String]
    /// Host paths shown read-only at another path of the plugin's view.
    public var binds: [SandboxOverrides.Bind]
    /// Private IPv4 ranges (CIDR) a plugin with network may reach after all.
    public var allowedRanges: [String]
    /// Ports of the host's loopback a plugin with network reaches at
    /// 127.0.0.1 in its own namespace (an operator's exception).
    public var allowedHostPorts: [Int]
    /// The plugin's name in its view: the user name of its uid and the host name.
    public var identity: String

    /// The seccomp policy with the network rules added when network is allowed.
    public var seccomp: SeccompPolicy {
        var policy = profile.seccomp
        if allowNetwork { policy.conditional += profile.networkRules }
        return policy
    }

    public var limits: ResourceLimits { profile.limits }

    /// A uid and gid.
    public struct Credentials: Sendable, Equatable {
        public var uid: UInt32
        public var gid: UInt32

        public init(uid: UInt32, gid: UInt32) {
            self.uid = uid
            self.gid = gid
        }

        /// `nobody`/`nogroup`, the standalone default when started as root.
        public static let nobody = Credentials(uid: 65_534, gid: 65_534)
    }

    /// Resolves a profile with overrides: a given memory cap, CPU limit or
    /// file-size limit replaces the profile's; paths and variables are added.
    public init(profile: SandboxProfile, overrides: SandboxOverrides) {
        var profile = profile
        if let memory = overrides.memory { profile.limits.memory = memory }
        if let cpu = overrides.cpuSeconds { profile.limits.cpuSeconds = cpu }
        if let fileSize = overrides.fileSize { profile.limits.fileSize = fileSize }
        if let disk = overrides.disk { profile.limits.disk = disk }
        if let files = overrides.diskFiles { profile.limits.diskFiles = files }
        profile.environment.merge(overrides.environment) { _, new in new }
        self.profile = profile
        allowNetwork = profile.allowsNetwork || overrides.allowNetwork
        credentials = overrides.credentials
        cgroups = overrides.cgroups
        keptDescriptors = overrides.keptDescriptors
        dieWithParent = overrides.dieWithParent
        readable = overrides.readable
        writable = overrides.writable
        binds = overrides.binds
        allowedRanges = overrides.allowedRanges
        allowedHostPorts = overrides.allowedHostPorts
        identity = overrides.identity
    }
}

/// What the caller of the launcher decides on top of a profile: the
/// `paddock-sandbox` flags, or what the supervisor derives from a manifest.
public struct SandboxOverrides: Sendable, Equatable {
    public var memory: ByteSize?
    public var cpuSeconds: Int?
    public var fileSize: ByteSize?
    public var allowNetwork = false
    public var readable: [String] = []
    public var writable: [String] = []
    public var keptDescriptors: [Int32] = []
    public var credentials: SandboxPolicy.Credentials?
    public var cgroups: [String] = []
    public var environment: [String: String] = [:]
    public var dieWithParent = false
    public var disk: ByteSize?
    public var diskFiles: Int?
    public var binds: [Bind] = []
    public var allowedRanges: [String] = []
    public var allowedHostPorts: [Int] = []
    public var identity = "plugin"

    public init() {}

    /// A host path (`source`) shown read-only at `target` in the plugin's view.
    public struct Bind: Sendable, Equatable {
        public var source: String
        public var target: String

        public init(source: String, target: String) {
            self.source = source
            self.target = target
        }
    }
}
