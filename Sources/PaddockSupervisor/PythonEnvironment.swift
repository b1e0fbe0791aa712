import CLinux
import Crypto
import Dispatch
import Foundation
import Glibc
import PaddockCore

/// The libraries a Python plugin's `requirements.txt` names, installed at
/// install time, outside the sandbox, into `<data>/envs/<key>/`: a virtual
/// environment of the daemon's interpreter, built under a temporary name,
/// byte-compiled, marked complete and only then renamed into place. The key
/// is a hash of the interpreter and the requirements' text, so plugins and
/// versions with the same requirements share one environment. A plugin
/// sees its environment's site-packages, read-only, at ``mountPoint``.
struct PythonEnvironment: Sendable {
    static let requirementsFile = "requirements.txt"
    /// Where a plugin finds its libraries, on its `PYTHONPATH`.
    static let mountPoint = "/paddock/env"
    private static let completeMarker = ".paddock-complete"
    private static let buildingPrefix = ".building-"

    /// `<data>/envs`.
    let root: String
    /// The interpreter, by its real path.
    let python: String

    /// The environment for the plugin in `directory`, nil when it has no requirements.
    func folder(for directory: String) throws(PaddockError) -> String? {
        guard let fd = try FileSystem.openInside(directory, Self.requirementsFile) else { return nil }
        defer { close(fd) }
        let requirements = try FileSystem.read(descriptor: fd, limit: 1 << 20, name: Self.requirementsFile)
        let key = Array(SHA256.hash(data: Array((python + "\n").utf8) + requirements)).hexString
        return root + "/" + String(key.prefix(32))
    }

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
        guard let folder = try folder(for: directory), sitePackages(folder) == nil else { return }
        mkdir(root, 0o755)
        let building = root + "/" + Self.buildingPrefix + String(folder.split(separator: "/").last!) + "-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            progress("creating a Python environment")
            try await run(python, ["-m", "venv", building], progress: progress)
            progress("installing \(Self.requirementsFile)")
            try await run(
                building + "/bin/python",
                ["-m", "pip", "install", "--no-input", "--disable-pip-version-check", "--progress-bar", "off", "--timeout", "20",
                 "--retries", "1", "-r", directory + "/" + Self.requirementsFile], progress: progress)
            progress("byte-compiling")
            try await run(building + "/bin/python", ["-m", "compileall", "-q", building + "/lib"], progress: progress)
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

    /// Removes environments an interrupted build left.
    func sweep() {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? [] where name.hasPrefix(Self.buildingPrefix) {
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
                actions: [.nullInput, .duplicate(fds[1], to: 1), .duplicate(fds[1], to: 2)], resetSignals: true)
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
            let count = read(fds[0], &buffer, buffer.count)
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
                field: requirementsFile)
        }
    }
}
