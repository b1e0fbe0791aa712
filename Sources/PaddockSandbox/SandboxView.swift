import PaddockCore

/// What a plugin sees of the filesystem: a fresh root holding only these
/// entries, read-only but for its own writable filesystem ("disk"). Planned
/// from a policy here; made real by ``ViewBuilder`` in the plugin's own mount
/// namespace, while the launcher is still privileged, so that nothing on the
/// host needs to be readable by the plugin's uid.
public struct SandboxView: Sendable, Equatable {
    public enum Entry: Sendable, Equatable {
        /// The host path `source` shown at `target`; read-only unless `writable`.
        case bind(source: String, target: String, writable: Bool)
        /// A system path of the profile, shown where it is when the host has
        /// it; one that is a symbolic link on the host (merged `/usr`:
        /// `/bin -> usr/bin`) becomes the same link.
        case system(String)
        /// A symbolic link.
        case symlink(path: String, destination: String)
        /// A file written for the plugin (its `/etc/passwd` entry, `/etc/hosts`).
        case file(path: String, contents: String)
        /// The host's device node at the same path.
        case device(String)
        /// A private tmpfs of `size` bytes and `files` inodes, its directories
        /// shown at their targets: the plugin's data directory, `/tmp` and
        /// `/dev/shm` share one bound the kernel enforces.
        case disk(size: Int, files: Int, directories: [DiskDirectory])
    }

    /// A directory of the plugin's disk and where it is shown.
    public struct DiskDirectory: Sendable, Equatable {
        public var target: String
        /// Owned by the plugin (mode 0700) or shared like `/tmp` (mode 1777, root's).
        public var ownedByPlugin: Bool
    }

    public var entries: [Entry]
    /// Where the plugin may read (and execute) below, for Landlock.
    public var readable: [String]
    /// Where the plugin may write below, for Landlock.
    public var writable: [String]

    /// The plugin's home and data directory in its view.
    public static let dataPath = "/data"

    /// Plans the view of a policy for a plugin running as `uid`/`gid`; `program`
    /// (a host path) is shown where it is when no bind already shows it.
    public init(policy: SandboxPolicy, program: String, uid: UInt32, gid: UInt32) {
        let user = policy.identity
        var entries: [Entry] = [
            .file(path: "/etc/passwd", contents: "root:x:0:0:root:/root:/usr/sbin/nologin\n\(user):x:\(uid):\(gid):\(user):\(Self.dataPath):/usr/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"),
            .file(path: "/etc/group", contents: "root:x:0:\n\(user):x:\(gid):\nnogroup:x:65534:\n"),
            .file(path: "/etc/hostname", contents: "\(user)\n"),
            .file(path: "/etc/nsswitch.conf", contents: "passwd: files\ngroup: files\nhosts: files dns\n"),
        ]
        if policy.allowNetwork {
            entries += [
                .file(path: "/etc/hosts", contents: "127.0.0.1\tlocalhost \(user)\n"),
                .file(path: "/etc/resolv.conf", contents: "nameserver \(OutboundNetwork.dnsAddress)\noptions edns0\n"),
            ]
        }
        entries += ["null", "zero", "full", "random", "urandom"].map { .device("/dev/" + $0) }
        entries += [
            .symlink(path: "/dev/fd", destination: "/proc/self/fd"), .symlink(path: "/dev/stdin", destination: "/proc/self/fd/0"),
            .symlink(path: "/dev/stdout", destination: "/proc/self/fd/1"), .symlink(path: "/dev/stderr", destination: "/proc/self/fd/2"),
        ]
        let disk = [
            DiskDirectory(target: Self.dataPath, ownedByPlugin: true), DiskDirectory(target: "/tmp", ownedByPlugin: false),
            DiskDirectory(target: "/dev/shm", ownedByPlugin: false),
        ]
        entries.append(.disk(size: policy.limits.disk.bytes, files: policy.limits.diskFiles, directories: disk))
        // The profile's paths and --readable/--writable are shown where they are on the host.
        let system = policy.profile.readable.filter { path in !policy.readable.contains(path) }
        var shown: [(source: String?, target: String, writable: Bool)] =
            system.map { (nil, $0, false) } + policy.readable.map { ($0, $0, false) }
            + policy.binds.map { ($0.source, $0.target, false) } + (policy.profile.writable + policy.writable).map { ($0, $0, true) }
        if !shown.contains(where: { Self.path(program, isBelow: $0.target) }) { shown.append((program, program, false)) }
        // Parents before children, so that a bind inside another lands on top of it.
        shown.sort { $0.target.split(separator: "/").count < $1.target.split(separator: "/").count }
        entries += shown.map { item in
            item.source.map { .bind(source: $0, target: item.target, writable: item.writable) } ?? .system(item.target)
        }
        self.entries = entries
        readable = ["/etc", "/dev", "/proc"] + shown.filter { !$0.writable }.map(\.target)
        writable = disk.map(\.target) + shown.filter(\.writable).map(\.target)
    }

    /// Whether `path` is `directory` or inside it.
    static func path(_ path: String, isBelow directory: String) -> Bool {
        path == directory || path.hasPrefix(directory.hasSuffix("/") ? directory : directory + "/")
    }
}
