public import PaddockCore

extension SandboxProfile {
    /// Reads a profile file, and the profiles it `extends`.
    /// - Throws: ``PaddockError`` 101 when the file is missing, 102 with every
    ///   problem when it does not parse or does not fit the format.
    public static func load(path: String) throws(PaddockError) -> SandboxProfile {
        var sources: [String] = []
        return try load(path: path, sources: &sources)
    }

    /// Reads a profile; `sources` gets every file read (the profile and its parents).
    static func load(path: String, sources: inout [String]) throws(PaddockError) -> SandboxProfile {
        try decode(resolvedNode(path: path, depth: 0, sources: &sources), source: path)
    }

    /// The profile's mapping with `extends: PARENT` resolved: the parent's
    /// top-level keys, each replaced whole by the child's when it has it.
    private static func resolvedNode(path: String, depth: Int, sources: inout [String]) throws(PaddockError) -> YAMLNode {
        guard depth < 4 else { throw PaddockError(.wrongFormat, "sandbox profile \(path): 'extends' nests too deep") }
        sources.append(path)
        let parsed: YAMLNode?
        do {
            parsed = try YAMLParser(maximumBytes: 256 << 10).parse(contentsOf: path)
        } catch {
            throw PaddockError(error.code, "sandbox profile \(path): \(error.message)", details: error.details)
        }
        guard let node = parsed, case .mapping(var pairs) = node.kind else {
            throw PaddockError(.wrongFormat, "sandbox profile \(path) is not a mapping")
        }
        guard let index = pairs.firstIndex(where: { $0.key.kind == .scalar("extends", quoted: false) }) else {
            return node
        }
        guard case .scalar(let parentName, _) = pairs[index].value.kind else {
            throw PaddockError(.wrongFormat, "sandbox profile \(path): 'extends' names a profile file")
        }
        pairs.remove(at: index)
        let directory = path.contains("/") ? String(path[...path.lastIndex(of: "/")!]) : ""
        let parentPath = parentName.hasPrefix("/") ? parentName : directory + parentName
        guard case .mapping(let inherited) = try resolvedNode(path: parentPath, depth: depth + 1, sources: &sources).kind else {
            return node
        }
        let overridden = Set(pairs.compactMap { if case .scalar(let key, _) = $0.key.kind { key } else { nil } })
        let kept = inherited.filter { pair in
            if case .scalar(let key, _) = pair.key.kind { !overridden.contains(key) } else { true }
        }
        return YAMLNode(.mapping(kept + pairs), line: node.line, column: node.column)
    }

    /// Decodes a parsed profile.
    /// - Throws: ``PaddockError`` naming the first problem and counting the rest.
    public static func decode(_ node: YAMLNode, source: String = "profile") throws(PaddockError) -> SandboxProfile {
        let diagnostics = YAMLDiagnostics()
        let profile = SandboxProfile(from: YAMLDecoder(node: node, diagnostics: diagnostics))
        // In a security policy an unknown key is a typo that would loosen it: an error.
        let problems = diagnostics.errors + diagnostics.warnings
        if let first = problems.first {
            let more = problems.count > 1 ? " (and \(problems.count - 1) more problems)" : ""
            throw PaddockError(
                first.code,
                "sandbox profile \(source): \(first.field ?? "document"): \(first.message)\(more)",
                field: first.field,
                details: first.details
            )
        }
        guard let profile else { throw PaddockError(.wrongFormat, "sandbox profile \(source) is not a mapping") }
        return profile
    }
}

extension SandboxProfile: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard
            yaml.expectMapping(known: [
                "name", "description", "landlock", "seccomp", "network", "rlimits", "filesystem", "environment",
            ])
        else { return nil }
        let name = yaml.required("name")?.string
        let seccomp = yaml.required("seccomp")?.decode(SeccompPolicy.self)
        let network = yaml.optional("network")
        network?.expectMapping(known: ["allowed", "conditional"])
        let filesystem = yaml.optional("filesystem")
        filesystem?.expectMapping(known: ["readable", "writable"])
        var environment: [String: String] = [:]
        if let map = yaml.optional("environment"), map.expectMapping(known: nil) {
            for key in map.keys { environment[key] = map.optional(key)?.string ?? "" }
        }
        guard let name, let seccomp else { return nil }
        self.init(
            name: name,
            seccomp: seccomp,
            networkRules: network?.optional("conditional")?.list(of: SyscallCondition.self) ?? [],
            allowsNetwork: network?.optional("allowed")?.bool ?? false,
            limits: yaml.optional("rlimits")?.decode(ResourceLimits.self) ?? ResourceLimits(),
            readable: filesystem?.optional("readable")?.items?.compactMap { $0.string } ?? [],
            writable: filesystem?.optional("writable")?.items?.compactMap { $0.string } ?? [],
            environment: environment,
            landlock: yaml.optional("landlock")?.oneOf(Requirement.self) ?? .preferred
        )
    }
}

extension SeccompPolicy: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard yaml.expectMapping(known: ["default_action", "allow", "conditional", "actions"]) else { return nil }
        let defaultAction = yaml.required("default_action")?.decode(SeccompAction.self)
        var actions: [String: SeccompAction] = [:]
        if let map = yaml.optional("actions"), map.expectMapping(known: nil) {
            for key in map.keys { actions[key] = map.optional(key)?.decode(SeccompAction.self) }
        }
        guard let defaultAction else { return nil }
        self.init(
            defaultAction: defaultAction,
            allow: yaml.optional("allow")?.items?.compactMap { $0.string } ?? [],
            conditional: yaml.optional("conditional")?.list(of: SyscallCondition.self) ?? [],
            actions: actions
        )
    }
}

extension SeccompAction: YAMLDecodable {
    /// `allow`, `kill`, or `errno NAME` (`errno EPERM`).
    public init?(from yaml: YAMLDecoder) {
        guard let text = yaml.string else { return nil }
        let words = text.split(separator: " ").map(String.init)
        switch (words.first, words.count) {
        case ("allow", 1): self = .allow
        case ("kill", 1): self = .kill
        case ("errno", 2):
            guard let number = SandboxConstants.errno(named: words[1]) else {
                yaml.problem(.wrongFormat, "unknown errno name '\(words[1])'")
                return nil
            }
            self = .errno(number)
        default:
            yaml.problem(.wrongFormat, "'\(text)' is not a seccomp action: write allow, kill or errno NAME")
            return nil
        }
    }
}

extension SyscallCondition: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard yaml.expectMapping(known: ["syscall", "arg", "op", "values", "mask"]) else { return nil }
        let syscall = yaml.required("syscall")?.string
        let argument = yaml.required("arg")?.int
        let op = yaml.optional("op")?.oneOf(Operator.self) ?? .eq
        let values = yaml.required("values")?.items?.compactMap { $0.constant() }
        let mask = yaml.optional("mask")?.constant() ?? 0
        if let argument, !(0...5).contains(argument) {
            yaml.optional("arg")?.problem(.wrongFormat, "a system call has arguments 0 to 5")
        }
        guard let syscall, let argument, let values, (0...5).contains(argument) else { return nil }
        self.init(syscall: syscall, argument: argument, op: op, values: values, mask: mask)
    }
}

extension ResourceLimits: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard
            yaml.expectMapping(known: [
                "memory", "memory_headroom", "file_size", "cpu_seconds", "open_files", "processes", "stack", "core", "disk",
                "disk_files",
            ])
        else { return nil }
        if let core = yaml.optional("core"), core.int.map({ $0 != 0 }) ?? false {
            core.problem(.wrongFormat, "core dumps are always off: core must be 0")
        }
        let defaults = ResourceLimits()
        self.init(
            memory: yaml.optional("memory")?.decode(ByteSize.self) ?? defaults.memory,
            memoryHeadroom: yaml.optional("memory_headroom")?.decode(ByteSize.self) ?? defaults.memoryHeadroom,
            fileSize: yaml.optional("file_size")?.decode(ByteSize.self) ?? defaults.fileSize,
            cpuSeconds: yaml.optional("cpu_seconds")?.int ?? defaults.cpuSeconds,
            openFiles: yaml.optional("open_files")?.int ?? defaults.openFiles,
            processes: yaml.optional("processes")?.int ?? defaults.processes,
            stack: yaml.optional("stack")?.decode(ByteSize.self) ?? defaults.stack,
            disk: yaml.optional("disk")?.decode(ByteSize.self) ?? defaults.disk,
            diskFiles: yaml.optional("disk_files")?.int ?? defaults.diskFiles
        )
    }
}

extension YAMLDecoder {
    /// The keys of a mapping, in document order.
    var keys: [String] {
        guard case .mapping(let pairs) = node.kind else { return [] }
        return pairs.compactMap { if case .scalar(let key, _) = $0.key.kind { key } else { nil } }
    }

    /// A number: decimal, hex, or symbolic names joined by `|`.
    func constant() -> UInt64? {
        guard let text = string else { return nil }
        if let value = SandboxConstants.value(text) { return value }
        problem(.wrongFormat, "'\(text)' is not a number or a known constant (AF_UNIX, CLONE_NEWUSER, ...)")
        return nil
    }
}
