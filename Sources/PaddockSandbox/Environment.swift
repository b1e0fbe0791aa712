import Glibc
import PaddockCore

/// The plugin's environment, built from scratch: only the variables the
/// policy names, never the caller's.
struct Environment {
    static let defaultPath = "/usr/local/bin:/usr/bin:/bin"

    let variables: [String: String]

    init(_ variables: [String: String]) {
        var variables = variables
        if variables["PATH"] == nil { variables["PATH"] = Self.defaultPath }
        self.variables = variables
    }

    /// The absolute, symlink-free path of `program`, searched in the
    /// policy's PATH (not the caller's) when it has no slash.
    /// - Throws: ``PaddockError`` 105 when no executable file is found.
    func resolve(_ program: String) throws(PaddockError) -> String {
        let candidates =
            program.contains("/")
            ? [program] : (variables["PATH"] ?? "").split(separator: ":").map { "\($0)/\(program)" }
        for candidate in candidates where access(candidate, X_OK) == 0 {
            guard let resolved = realpath(candidate, nil) else { continue }
            defer { free(resolved) }
            return String(cString: resolved)
        }
        throw PaddockError(.dependencyUnavailable, "program '\(program)' not found or not executable")
    }

    /// Replaces this process with `path`; returns only on failure.
    func exec(_ path: String, arguments: [String]) -> PaddockError {
        let argv = arguments.map { strdup($0) } + [nil]
        let envp = variables.sorted { $0.key < $1.key }.map { strdup("\($0.key)=\($0.value)") } + [nil]
        execve(path, argv, envp)
        let reason = String(cString: strerror(errno))
        return PaddockError(.dependencyUnavailable, "could not execute \(path): \(reason)")
    }
}
