import CLinux
import Crypto
import Dispatch
import Foundation
import Glibc
import PaddockCore

/// The libraries a Python plugin's `requirements.txt` (or `pyproject.toml`
/// with `uv.lock`) names, installed at install time, outside the sandbox,
/// as wheels only (building a source package would run its code as the
/// daemon), into `<data>/envs/<key>/`: a virtual
/// environment of the daemon's interpreter, built under a temporary name,
/// byte-compiled, marked complete and only then renamed into place. The key
/// is a hash of the interpreter and the requirements' text, so plugins and
/// versions with the same requirements share one environment. A plugin
/// sees its environment's site-packages, read-only, at ``mountPoint``.
struct PythonEnvironment: Sendable {
    /// Where a plugin finds its libraries, on its `PYTHONPATH`.
    static let mountPoint = "/paddock/env"
    private static let completeMarker = ".paddock-complete"
    private static let buildingPrefix = ".building-"

    /// `<data>/envs`.
    let root: String
    /// The interpreter, by its real path.
    let python: String

    /// What pins a plugin's libraries: its `requirements.txt`, or the
    /// `uv.lock` beside its `pyproject.toml`.
    struct Requirements: Sendable {
        enum Kind: String, Sendable {
            case requirements = "requirements.txt"
            case uvLock = "uv.lock"
        }

        var kind: Kind
        var text: [UInt8]
    }

    /// The plugin's requirements, nil when it has none.
    /// - Throws: 102 for a requirements file with an option other than an
    ///   index (a local path, `--no-binary`, a `file:` URL).
    static func requirements(in directory: String) throws(PaddockError) -> Requirements? {
        if let text = try read(directory, Requirements.Kind.requirements.rawValue) {
            try check(text)
            return Requirements(kind: .requirements, text: text)
        }
        if try read(directory, "pyproject.toml") != nil, let lock = try read(directory, Requirements.Kind.uvLock.rawValue) {
            return Requirements(kind: .uvLock, text: lock)
        }
        return nil
    }

    /// The environment for the plugin in `directory`, nil when it has no requirements.
    func folder(for directory: String) throws(PaddockError) -> String? {
        guard let requirements = try Self.requirements(in: directory) else { return nil }
        let key = Array(SHA256.hash(data: Array((python + "\n" + requirements.kind.rawValue + "\n").utf8) + requirements.text)).hexString
        return root + "/" + String(key.prefix(32))
    }

    private static func read(_ directory: String, _ name: String) throws(PaddockError) -> [UInt8]? {
        guard let fd = try FileSystem.openInside(directory, name) else { return nil }
        defer { close(fd) }
        let bytes = try FileSystem.read(descriptor: fd, limit: (4 << 20) + 1, name: name)
        guard bytes.count <= 4 << 20 else { throw PaddockError(.wrongFormat, "\(name) is larger than 4 MiB", field: name) }
        return bytes
    }

    /// Requirements and index options only: pip runs outside the sandbox,
    /// so nothing in the file may point it at the host's files or make it
    /// build (run) a package's own code.
    private static func check(_ text: [UInt8]) throws(PaddockError) {
        let allowed = ["--index-url", "-i", "--extra-index-url"]
        let joined = String(decoding: text, as: UTF8.self).replacingOccurrences(of: "\\\n", with: " ")
        for raw in joined.split(whereSeparator: \.isNewline) {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first.map {
                $0.trimmingCharacters(in: .whitespaces)
            } ?? ""
            guard !line.isEmpty else { continue }
            let option = line.hasPrefix("-") ? String(line.split(whereSeparator: { $0 == " " || $0 == "=" }).first ?? "") : nil
            if let option, !allowed.contains(option) || line.contains("file:") {
                throw PaddockError(
                    .wrongFormat, "requirements.txt may name packages and --index-url / --extra-index-url, not '\(option.escapingControlCharacters())'",
                    field: Requirements.Kind.requirements.rawValue)
            }
            if option == nil, line.hasPrefix(".") || line.hasPrefix("/") || line.contains("file:") {
                throw PaddockError(
                    .wrongFormat, "requirements.txt may name packages from an index, not local paths or file: URLs",
                    field: Requirements.Kind.requirements.rawValue)
            }
        }
    }

    /// Turns a `uv.lock` into pinned requirements: `name==version` of every
    /// package the project needs on this machine, following the lock's
    /// dependency edges from the project and evaluating their markers (a
    /// Windows-only dependency is left out) with pip's own marker code.
    private static let lockReader = """
        import glob, os, sys, tomllib
        # The environment's own pip (this is its bin/python; without site, sys.prefix may be the base's).
        sys.path += glob.glob(os.path.dirname(os.path.dirname(sys.executable)) + "/lib/python*/site-packages")
        from pip._vendor.packaging.markers import Marker
        lock = tomllib.load(open(sys.argv[1], "rb"))
        packages = lock.get("package", [])
        def local(package):
            return any(kind in package.get("source", {}) for kind in ("editable", "virtual", "directory"))
        def find(edge):
            named = [p for p in packages if p["name"] == edge["name"]]
            return next((p for p in named if p.get("version") == edge.get("version")), named[0] if named else None)
        stack = [(p, ()) for p in packages if local(p)]
        # A lock without its project: every package in it.
        needed = {} if stack else {(p["name"], p.get("version")): p for p in packages}
        while stack:
            package, extras = stack.pop()
            edges = list(package.get("dependencies", []))
            for extra in extras:
                edges += package.get("optional-dependencies", {}).get(extra, [])
            for edge in edges:
                if "marker" in edge and not Marker(edge["marker"]).evaluate({"extra": ""}):
                    continue
                target = find(edge)
                key = (edge["name"], tuple(sorted(edge.get("extra", []))))
                if target is not None and key not in needed:
                    needed[key] = target
                    stack.append((target, edge.get("extra", [])))
        pins = set()
        for package in needed.values():
            source = package.get("source", {})
            if "registry" in source:
                pins.add(f"{package['name']}=={package['version']}")
            elif not local(package):
                sys.exit(f"uv.lock: {package.get('name')} comes from {sorted(source)}, not from a package index")
        open(sys.argv[2], "w").write("\\n".join(sorted(pins)) + "\\n")
        """

    /// The environment's site-packages, when the environment is complete.
    func sitePackages(_ folder: String) -> String? {
        guard access(folder + "/" + Self.completeMarker, F_OK) == 0 else { return nil }
        let lib = folder + "/lib"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
        return versions.first { $0.hasPrefix("python") }.map { lib + "/" + $0 + "/site-packages" }
    }

    /// Builds the environment for the plugin in `directory` unless it exists.
    /// - Parameter progress: each line the installer prints.
    /// - Throws: 105 with the installer's last lines when an install step fails
    ///   (a package index that cannot be reached, a requirement that does not exist).
    func build(for directory: String, progress: @escaping @Sendable (String) -> Void) async throws {
        guard let requirements = try Self.requirements(in: directory), let folder = try folder(for: directory), sitePackages(folder) == nil
        else { return }
        mkdir(root, 0o755)
        let building = root + "/" + Self.buildingPrefix + String(folder.split(separator: "/").last!) + "-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            progress("creating a Python environment")
            try await run(python, ["-m", "venv", building], progress: progress)
            // pip reads a copy: the plugin's file is read once, without following links.
            let pinned = building + "/paddock-requirements.txt"
            var pip = ["-m", "pip", "install", "--no-input", "--disable-pip-version-check", "--progress-bar", "off", "--timeout", "20",
                       "--retries", "1", "--only-binary=:all:", "-r", pinned]
            switch requirements.kind {
            case .requirements:
                try Self.write(requirements.text, to: pinned)
            case .uvLock:
                try Self.write(requirements.text, to: building + "/uv.lock")
                try await run(building + "/bin/python", ["-I", "-S", "-c", Self.lockReader, building + "/uv.lock", pinned], progress: progress)
                pip.append("--no-deps")  // the lock names every package
            }
            progress("installing \(requirements.kind.rawValue)")
            try await run(building + "/bin/python", pip, progress: progress)
            progress("byte-compiling")
            // Isolated and without site: no `.pth` file of a package runs as the daemon.
            try await run(building + "/bin/python", ["-I", "-S", "-m", "compileall", "-q", building + "/lib"], progress: progress)
            guard FileManager.default.createFile(atPath: building + "/" + Self.completeMarker, contents: Data()) else {
                throw PaddockError(.fileLimitExceeded, "cannot mark the environment complete")
            }
            if rename(building, folder) != 0 {
                // Another install built the same environment meanwhile: theirs is as good.
                guard sitePackages(folder) != nil else {
                    throw PaddockError(.fileLimitExceeded, "cannot move the environment into place: \(String(cString: strerror(errno)))")
                }
                try? FileManager.default.removeItem(atPath: building)
            }
        } catch {
            try? FileManager.default.removeItem(atPath: building)
            throw error
        }
    }

    private static func write(_ bytes: [UInt8], to path: String) throws(PaddockError) {
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw PaddockError(.fileLimitExceeded, "cannot write \(path)")
        }
    }

    /// Removes environments an interrupted build left, and, given the
    /// environments installed copies use, every complete one outside them.
    func sweep(keeping used: Set<String>? = nil) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        where name.hasPrefix(Self.buildingPrefix) || used.map({ !$0.contains(root + "/" + name) }) == true {
            try? FileManager.default.removeItem(atPath: root + "/" + name)
        }
    }

    /// Runs a step under `setpriv --pdeathsig KILL`, so that it dies with the daemon; its output, line by line, to `progress`.
    private func run(_ executable: String, _ arguments: [String], progress: @escaping @Sendable (String) -> Void) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            DispatchQueue.global().async {
                continuation.resume(with: Result { try Self.runBlocking(executable, arguments, progress: progress) })
            }
        }
    }

    /// The installer's environment: a plain PATH, the daemon's HOME (pip's
    /// cache and configuration), and the daemon's pip and proxy settings (a mirror, say).
    private static func installerEnvironment() -> [String] {
        var entries = ["PATH=/usr/local/bin:/usr/bin:/bin", "LANG=C.UTF-8", "PIP_NO_INPUT=1"]
        for (name, value) in ProcessInfo.processInfo.environment
        where name == "HOME" || name.hasPrefix("PIP_") || ["HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"].contains(name) {
            entries.append("\(name)=\(value)")
        }
        return entries
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], progress: (String) -> Void) throws {
        var fds: [Int32] = [0, 0]
        guard paddock_pipe_cloexec(&fds) == 0 else { throw PaddockError(.fileLimitExceeded, "cannot make a pipe") }
        let pid: pid_t
        do {
            pid = try Spawn.start(
                "/usr/bin/setpriv", arguments: ["--pdeathsig", "KILL", "--", executable] + arguments,
                environment: installerEnvironment(),
                actions: [.nullInput, .duplicate(fds[1], to: 1), .duplicate(fds[1], to: 2), .closeFrom(3)], resetSignals: true)
        } catch {
            close(fds[0])
            close(fds[1])
            throw error
        }
        close(fds[1])
        var last: [String] = []
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = Glibc.read(fds[0], &buffer, buffer.count)
            if count < 0, errno == EINTR { continue }
            guard count > 0 else { break }
            pending += buffer[..<count]
            while let end = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<end], as: UTF8.self).escapingControlCharacters()
                pending.removeSubrange(...end)
                guard !line.isEmpty else { continue }
                progress(line)
                last = Array((last + [line]).suffix(10))
            }
        }
        close(fds[0])
        let (status, _) = Spawn.wait(pid)
        guard status == 0 else {
            throw PaddockError(
                .dependencyUnavailable,
                "installing the plugin's requirements failed (\((executable as NSString).lastPathComponent) \(arguments.prefix(3).joined(separator: " ")), status \(status)): \(last.joined(separator: " | "))",
                field: "requirements")
        }
    }
}
