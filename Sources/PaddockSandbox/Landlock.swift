import CLinux
import Glibc
import PaddockCore

/// Landlock: filesystem rules, TCP rules and scoping, applied to the
/// calling process and everything it execs.
public enum Landlock {
    /// The ABI version the kernel offers; 0 when Landlock is unavailable.
    public static var abiVersion: Int {
        max(0, Int(paddock_landlock_abi_version()))
    }

    // Access rights (linux/landlock.h), by the ABI version that added them.
    static let execute: UInt64 = 1 << 0
    static let writeFile: UInt64 = 1 << 1
    static let readFile: UInt64 = 1 << 2
    static let readDir: UInt64 = 1 << 3
    static let refer: UInt64 = 1 << 13  // ABI 2
    static let truncate: UInt64 = 1 << 14  // ABI 3
    static let ioctlDevice: UInt64 = 1 << 15  // ABI 5
    static let bindTCP: UInt64 = 1 << 0  // ABI 4, network
    static let connectTCP: UInt64 = 1 << 1
    static let scopeAbstractUnixSocket: UInt64 = 1 << 0  // ABI 6
    static let scopeSignal: UInt64 = 1 << 1
    /// O_PATH (fcntl.h; glibc hides it from Swift without _GNU_SOURCE).
    private static let paddockOPath: Int32 = 0o10000000

    /// What a ruleset covered.
    public struct Applied: Sendable, Equatable {
        public var abi: Int
        public var filesystem: Bool
        public var network: Bool
        public var scoping: Bool
    }

    /// Restricts the process: below `readable` it may read and execute,
    /// below `writable` do anything, elsewhere nothing. Without network,
    /// TCP bind and connect are denied (ABI 4); abstract Unix sockets and
    /// signals are scoped to the sandbox (ABI 6).
    /// - Returns: what was applied, or nil when the kernel has no Landlock.
    /// - Throws: ``PaddockError`` 304 when the kernel refuses the ruleset.
    static func apply(readable: [String], writable: [String], executable: String, allowNetwork: Bool) throws(PaddockError) -> Applied? {
        let abi = abiVersion
        guard abi >= 1 else { return nil }

        var filesystem: UInt64 = (1 << 13) - 1
        if abi >= 2 { filesystem |= refer }
        if abi >= 3 { filesystem |= truncate }
        if abi >= 5 { filesystem |= ioctlDevice }
        var attribute = paddock_landlock_ruleset_attr(handled_access_fs: filesystem, handled_access_net: 0, scoped: 0)
        var size = 8
        if abi >= 4 {
            size = 16
            if !allowNetwork { attribute.handled_access_net = bindTCP | connectTCP }
        }
        if abi >= 6 {
            size = 24
            attribute.scoped = scopeAbstractUnixSocket | scopeSignal
        }
        let ruleset = paddock_landlock_create_ruleset(&attribute, size)
        guard ruleset >= 0 else { throw failure("create a Landlock ruleset") }
        defer { close(ruleset) }

        let read = execute | readFile | readDir
        for path in readable { try allow(read, below: path, in: ruleset) }
        for path in writable { try allow(filesystem, below: path, in: ruleset) }
        try allow(read, below: executable, in: ruleset)

        guard paddock_landlock_restrict_self(ruleset) == 0 else { throw failure("enforce the Landlock ruleset") }
        return Applied(abi: abi, filesystem: true, network: abi >= 4 && !allowNetwork, scoping: abi >= 6)
    }

    /// Adds a rule for `path`; paths that do not exist are skipped, so one
    /// profile serves distributions with different layouts.
    private static func allow(_ access: UInt64, below path: String, in ruleset: Int32) throws(PaddockError) {
        let fd = open(path, Self.paddockOPath | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var info = stat()
        fstat(fd, &info)
        let fileRights = execute | writeFile | readFile | truncate | ioctlDevice
        let rights = info.st_mode & S_IFMT == S_IFDIR ? access : access & fileRights
        guard paddock_landlock_add_path_rule(ruleset, rights, fd) == 0 else {
            throw failure("add a Landlock rule for \(path)")
        }
    }

    private static func failure(_ what: String) -> PaddockError {
        PaddockError(.sandboxViolation, "could not \(what): \(String(cString: strerror(errno)))")
    }
}
