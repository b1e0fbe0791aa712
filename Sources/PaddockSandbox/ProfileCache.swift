import CLinux
import Glibc
import PaddockCore

/// Decoded profiles kept on disk (a ``TrustedCache``): parsing and decoding
/// the YAML of a profile and its parents is most of the launcher's own work,
/// so a launch whose profile files are all unchanged (same inode, size,
/// mtime and ctime) reads a flat line form instead.
struct ProfileCache {
    static let defaultDirectory = "/var/cache/paddock/profiles"
    private let files: TrustedCache

    init?(directory: String = Self.defaultDirectory) {
        guard let files = TrustedCache(directory: directory) else { return nil }
        self.files = files
    }

    /// The profile at `path`, from the cache when it is current, else read and stored.
    /// - Throws: what ``SandboxProfile/load(path:)`` throws.
    func load(path: String) throws(PaddockError) -> SandboxProfile {
        guard let resolved = realpath(path, nil) else { return try SandboxProfile.load(path: path) }
        let real = String(cString: resolved)
        free(resolved)
        let key = "paddock-profile 1 \(real)\n"
        if let bytes = files.read(key), let profile = Self.decode(bytes) { return profile }
        var sources: [String] = []
        let profile = try SandboxProfile.load(path: real, sources: &sources)
        // Stored only when the files read the same again after their identities
        // were taken: an edit during the first read must not be cached.
        if let text = Self.encode(profile, sources: sources), (try? SandboxProfile.load(path: real)) == profile {
            files.store(Array(text.utf8), for: key)
        }
        return profile
    }

    /// The identity of a file as the cache compares it; nil when it cannot be read.
    private static func identity(_ path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return [
            UInt64(info.st_dev), UInt64(info.st_ino), UInt64(info.st_size), UInt64(info.st_mtim.tv_sec),
            UInt64(info.st_mtim.tv_nsec), UInt64(info.st_ctim.tv_sec), UInt64(info.st_ctim.tv_nsec),
        ].map { String($0) }.joined(separator: " ")
    }

    /// One field per tab, one item per line; nil when a text holds a tab or a newline.
    static func encode(_ profile: SandboxProfile, sources: [String]) -> String? {
        var lines: [[String]] = []
        for source in sources {
            guard let identity = identity(source) else { return nil }
            lines.append(["file", source, identity])
        }
        func action(_ action: SeccompAction) -> String {
            switch action {
            case .allow: "allow"
            case .kill: "kill"
            case .errno(let number): "errno \(number)"
            }
        }
        func condition(_ tag: String, _ rule: SyscallCondition) -> [String] {
            [tag, rule.syscall, String(rule.argument), rule.op.rawValue, String(rule.mask), rule.values.map { String($0) }.joined(separator: ",")]
        }
        let limits = profile.limits
        lines.append(["name", profile.name])
        lines.append(["landlock", profile.landlock.rawValue])
        lines.append(["default", action(profile.seccomp.defaultAction)])
        lines.append(["allow"] + profile.seccomp.allow)
        lines += profile.seccomp.conditional.map { condition("if", $0) } + profile.networkRules.map { condition("network-if", $0) }
        lines += profile.seccomp.actions.sorted { $0.key < $1.key }.map { ["action", $0.key, action($0.value)] }
        lines.append(["network", profile.allowsNetwork ? "1" : "0"])
        lines.append(
            ["limits"] + [
                limits.memory.bytes, limits.memoryHeadroom.bytes, limits.fileSize.bytes, limits.cpuSeconds, limits.openFiles,
                limits.processes, limits.stack.bytes, limits.disk.bytes, limits.diskFiles,
            ].map { String($0) })
        lines += profile.readable.map { ["readable", $0] } + profile.writable.map { ["writable", $0] }
        lines += profile.environment.sorted { $0.key < $1.key }.map { ["env", $0.key, $0.value] }
        guard lines.allSatisfy({ $0.allSatisfy { !$0.contains("\t") && !$0.contains("\n") } }) else { return nil }
        return lines.map { $0.joined(separator: "\t") }.joined(separator: "\n") + "\n"
    }

    /// The profile in `text` (split as bytes: splitting Strings by Character
    /// cost more than the YAML), when every file it came from is unchanged; nil otherwise.
    static func decode(_ text: [UInt8]) -> SandboxProfile? {
        var profile = SandboxProfile(name: "", seccomp: SeccompPolicy(defaultAction: .kill))
        func action(_ text: String) -> SeccompAction? {
            if text == "allow" { return .allow }
            if text == "kill" { return .kill }
            guard text.hasPrefix("errno "), let number = Int32(text.dropFirst(6)) else { return nil }
            return .errno(number)
        }
        func condition(_ fields: [String]) -> SyscallCondition? {
            guard fields.count == 6, let argument = Int(fields[2]), let op = SyscallCondition.Operator(rawValue: fields[3]),
                let mask = UInt64(fields[4])
            else { return nil }
            let values = fields[5].split(separator: ",").compactMap { UInt64($0) }
            return SyscallCondition(syscall: fields[1], argument: argument, op: op, values: values, mask: mask)
        }
        for line in text.split(separator: UInt8(ascii: "\n")) {
            let fields = line.split(separator: UInt8(ascii: "\t"), omittingEmptySubsequences: false).map {
                String(decoding: $0, as: UTF8.self)
            }
            switch (fields[0], fields.count) {
            case ("file", 3): guard identity(fields[1]) == fields[2] else { return nil }
            case ("name", 2): profile.name = fields[1]
            case ("landlock", 2):
                guard let requirement = SandboxProfile.Requirement(rawValue: fields[1]) else { return nil }
                profile.landlock = requirement
            case ("default", 2):
                guard let parsed = action(fields[1]) else { return nil }
                profile.seccomp.defaultAction = parsed
            case ("allow", _): profile.seccomp.allow = Array(fields.dropFirst())
            case ("if", _):
                guard let rule = condition(fields) else { return nil }
                profile.seccomp.conditional.append(rule)
            case ("network-if", _):
                guard let rule = condition(fields) else { return nil }
                profile.networkRules.append(rule)
            case ("action", 3):
                guard let parsed = action(fields[2]) else { return nil }
                profile.seccomp.actions[fields[1]] = parsed
            case ("network", 2): profile.allowsNetwork = fields[1] == "1"
            case ("limits", 10):
                let numbers = fields.dropFirst().compactMap { Int($0) }
                guard numbers.count == 9 else { return nil }
                profile.limits = ResourceLimits(
                    memory: ByteSize(bytes: numbers[0]), memoryHeadroom: ByteSize(bytes: numbers[1]), fileSize: ByteSize(bytes: numbers[2]),
                    cpuSeconds: numbers[3], openFiles: numbers[4], processes: numbers[5], stack: ByteSize(bytes: numbers[6]),
                    disk: ByteSize(bytes: numbers[7]), diskFiles: numbers[8])
            case ("readable", 2): profile.readable.append(fields[1])
            case ("writable", 2): profile.writable.append(fields[1])
            case ("env", 3): profile.environment[fields[1]] = fields[2]
            default: return nil
            }
        }
        return profile.name.isEmpty ? nil : profile
    }
}
