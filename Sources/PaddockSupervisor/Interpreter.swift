import Glibc
import PaddockCore

/// Questions about a plugin runtime's interpreter.
enum Interpreter {
    /// The version of a Python interpreter (`3.11.2`).
    /// - Throws: ``PaddockError`` 105 when it does not run.
    static func version(of python: String) throws(PaddockError) -> RuntimeVersion {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw PaddockError(.dependencyUnavailable, "no pipe to ask \(python) its version") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
        posix_spawn_file_actions_addclose(&actions, fds[0])
        let arguments: [String] = [python, "-S", "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"]
        let argv = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, python, &actions, nil, argv, environ)
        close(fds[1])
        defer { close(fds[0]) }
        guard spawned == 0 else { throw PaddockError(.dependencyUnavailable, "cannot run \(python): \(String(cString: strerror(spawned)))") }
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 256)
        while case let count = read(fds[0], &buffer, buffer.count), count > 0 { output += buffer[..<count] }
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        let text = String(decoding: output, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
        guard status == 0, let version = try? RuntimeVersion(parsing: text) else {
            throw PaddockError(.dependencyUnavailable, "\(python) did not report its version")
        }
        return version
    }
}
