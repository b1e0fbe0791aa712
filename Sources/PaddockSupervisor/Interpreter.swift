import CLinux
import Foundation
import Glibc
import PaddockCore

/// Questions about a plugin runtime's interpreter.
enum Interpreter {
    /// The version of a Python interpreter (`3.11.2`).
    /// - Throws: ``PaddockError`` 105 when it does not run.
    static func version(of python: String) throws(PaddockError) -> RuntimeVersion {
        var fds: [Int32] = [0, 0]
        guard paddock_pipe_cloexec(&fds) == 0 else { throw PaddockError(.dependencyUnavailable, "no pipe to ask \(python) its version") }
        let spawned = Result { () throws(PaddockError) in
            try Spawn.start(python, arguments: ["-S", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"], actions: [.duplicate(fds[1], to: 1), .closeFrom(3)])
        }
        close(fds[1])
        defer { close(fds[0]) }
        let pid = try spawned.get()
        // A version is a few bytes: more is not an interpreter worth asking.
        let output = (try? FileSystem.read(descriptor: fds[0], limit: 256, name: python)) ?? []
        let status = Spawn.wait(pid).status
        let text = String(decoding: output, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard status == 0, let version = try? RuntimeVersion(parsing: text) else {
            throw PaddockError(.dependencyUnavailable, "\(python) did not report its version")
        }
        return version
    }

    /// The Python interpreters installed on this host, by their real paths:
    /// `python3.N` in /usr/bin and /usr/local/bin, and each version a version
    /// manager installed (pyenv's `versions/*/bin/python3`, under
    /// `$PYENV_ROOT`, `~/.pyenv` or /opt/pyenv), never a shim.
    static func candidates() -> [String] {
        var paths: [String] = []
        for folder in ["/usr/bin", "/usr/local/bin"] {
            for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? []
            where name.hasPrefix("python3.") && name.dropFirst("python3.".count).allSatisfy(\.isNumber) {
                paths.append(folder + "/" + name)
            }
        }
        let environment = ProcessInfo.processInfo.environment
        let managers = [environment["PYENV_ROOT"], environment["HOME"].map { $0 + "/.pyenv" }, "/root/.pyenv", "/opt/pyenv"].compactMap { $0 }
        for root in Set(managers) {
            for version in (try? FileManager.default.contentsOfDirectory(atPath: root + "/versions")) ?? [] {
                paths.append(root + "/versions/" + version + "/bin/python3")
            }
        }
        var seen = Set<String>()
        return paths.compactMap { path in
            guard let real = EngineConfiguration.realPath(path), !real.contains("/shims/"), access(real, X_OK) == 0 else { return nil }
            return seen.insert(real).inserted ? real : nil
        }
    }
}
