public import PaddockCore

/// The command line of `paddock-sandbox`:
/// `--profile PATH [--memory SIZE] [--cpu SECONDS] [--file-size SIZE]
/// [--disk SIZE] [--disk-files N] [--allow-network] [--allow-range CIDR]... [--allow-host-port PORT]...
/// [--readable PATH]... [--writable PATH]... [--bind SOURCE TARGET]...
/// [--keep-fd N]... [--uid UID --gid GID] [--cgroup PATH]... [--env NAME=VALUE]...
/// [--name NAME] [--die-with-parent] [--chdir DIR] [--report] -- PROGRAM ARGS...`
public struct LauncherArguments: Sendable, Equatable {
    public var profilePath: String
    public var overrides: SandboxOverrides
    /// Print what was applied (Landlock ABI, namespaces) on stderr before exec.
    public var report: Bool
    /// The working directory of the program.
    public var directory: String?
    public var program: String
    public var programArguments: [String]

    /// Parses the arguments after the executable's name.
    /// - Throws: ``PaddockError`` 101 for a missing value, profile or
    ///   program; 102 for a malformed value or an unknown flag.
    public init(_ arguments: [String]) throws(PaddockError) {
        var overrides = SandboxOverrides()
        var profilePath: String?
        var report = false
        var directory: String?
        var uid: UInt32?
        var gid: UInt32?
        var rest = arguments[...]
        func value(_ flag: String) throws(PaddockError) -> String {
            guard let value = rest.popFirst() else { throw PaddockError(.configurationMissing, "\(flag) needs a value") }
            return value
        }
        func number<T: FixedWidthInteger>(_ flag: String, as: T.Type) throws(PaddockError) -> T {
            let text = try value(flag)
            guard let number = T(text), number >= 0 else {
                throw PaddockError(.wrongFormat, "\(flag) takes a whole number, not '\(text)'")
            }
            return number
        }
        func absolute(_ flag: String) throws(PaddockError) -> String {
            let path = try value(flag)
            guard path.hasPrefix("/") else { throw PaddockError(.wrongFormat, "\(flag) takes absolute paths, not '\(path)'") }
            return path
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--": break
            case "--profile": profilePath = try value(flag)
            case "--memory": overrides.memory = try ByteSize(parsing: value(flag))
            case "--file-size": overrides.fileSize = try ByteSize(parsing: value(flag))
            case "--cpu": overrides.cpuSeconds = try number(flag, as: Int.self)
            case "--disk": overrides.disk = try ByteSize(parsing: value(flag))
            case "--disk-files": overrides.diskFiles = try number(flag, as: Int.self)
            case "--allow-range": overrides.allowedRanges.append(try IPv4Range(parsing: value(flag)).description)
            case "--allow-host-port":
                let port = try number(flag, as: Int.self)
                guard (1...65_535).contains(port) else { throw PaddockError(.wrongFormat, "--allow-host-port takes a port, 1 to 65535") }
                overrides.allowedHostPorts.append(port)
            case "--bind": overrides.binds.append(SandboxOverrides.Bind(source: try value(flag), target: try absolute(flag)))
            case "--name": overrides.identity = try value(flag)
            case "--allow-network": overrides.allowNetwork = true
            case "--readable": overrides.readable.append(try absolute(flag))
            case "--writable": overrides.writable.append(try absolute(flag))
            case "--keep-fd": overrides.keptDescriptors.append(try number(flag, as: Int32.self))
            case "--uid": uid = try number(flag, as: UInt32.self)
            case "--gid": gid = try number(flag, as: UInt32.self)
            case "--cgroup": overrides.cgroups.append(try value(flag))
            case "--die-with-parent": overrides.dieWithParent = true
            case "--report": report = true
            case "--chdir": directory = try absolute(flag)
            case "--env":
                let assignment = try value(flag)
                guard let equals = assignment.firstIndex(of: "="), equals != assignment.startIndex else {
                    throw PaddockError(.wrongFormat, "--env takes NAME=VALUE, not '\(assignment)'")
                }
                overrides.environment[String(assignment[..<equals])] = String(assignment[assignment.index(after: equals)...])
            default:
                throw PaddockError(.wrongFormat, "unknown option '\(flag)'; usage: \(Self.usage)")
            }
            if flag == "--" { break }
        }
        guard let profilePath else { throw PaddockError(.configurationMissing, "--profile is required; usage: \(Self.usage)") }
        guard let program = rest.popFirst() else {
            throw PaddockError(.configurationMissing, "no program given after '--'; usage: \(Self.usage)")
        }
        switch (uid, gid) {
        case let (uid?, gid?): overrides.credentials = SandboxPolicy.Credentials(uid: uid, gid: gid)
        case (nil, nil): break
        default: throw PaddockError(.configurationMissing, "--uid and --gid go together")
        }
        self.profilePath = profilePath
        self.overrides = overrides
        self.report = report
        self.directory = directory
        self.program = program
        self.programArguments = Array(rest)
    }

    public static let usage =
        "paddock-sandbox --profile PATH [--memory SIZE] [--cpu SECONDS] [--file-size SIZE] [--disk SIZE] [--disk-files N] "
        + "[--allow-network] [--allow-range CIDR]... [--allow-host-port PORT]... [--readable PATH]... [--writable PATH]... [--bind SOURCE TARGET]... "
        + "[--keep-fd N]... [--uid UID --gid GID] [--cgroup PATH]... [--env NAME=VALUE]... [--name NAME] "
        + "[--die-with-parent] [--chdir DIR] [--report] -- PROGRAM ARGS..."
}
