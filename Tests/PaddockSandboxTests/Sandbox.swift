import Foundation
import Glibc
import PaddockCore
import PaddockSandbox
import PaddockTestSupport
import Testing

/// Runs programs under the built `paddock-sandbox` for the tests.
enum Sandbox {
    static let launcher = ProcessRunner.product("paddock-sandbox")
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent()

    static func profile(_ name: String) -> String {
        repository.appendingPathComponent("sandbox-profiles/\(name).yaml").path
    }

    /// Debian's interpreter: every directory of its prefix is world-readable,
    /// so a plugin under a dropped uid can run it (root's pyenv shim is not).
    static let python = "/usr/bin/python3"

    /// A world-readable scratch directory that outlives the test process
    /// only in /tmp.
    static func scratch(_ name: String) throws -> URL {
        let directory = URL(fileURLWithPath: "/tmp/paddock-\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        chmod(directory.path, 0o755)
        return directory
    }

    /// `Tests/PaddockSandboxTests/Programs/probe.c`, compiled once into a
    /// world-readable place; nil (with the compiler's words) when cc failed.
    static let probe: Result<String, ProbeBuildFailure> = {
        do {
            let directory = try scratch("probe")
            let output = directory.appendingPathComponent("probe").path
            let source = repository.appendingPathComponent("Tests/PaddockSandboxTests/Programs/probe.c").path
            let compiled = try ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/cc"), ["-O2", "-o", output, source])
            guard compiled.status == 0 else { return .failure(ProbeBuildFailure(reason: compiled.stderr)) }
            chmod(output, 0o755)
            return .success(output)
        } catch {
            return .failure(ProbeBuildFailure(reason: "\(error)"))
        }
    }()

    struct ProbeBuildFailure: Error {
        var reason: String
    }

    /// Runs `program` under the launcher with `flags`.
    static func run(
        _ flags: [String] = [],
        profile name: String = "default",
        _ program: [String],
        environment: [String: String] = [:]
    ) throws -> ProcessRunner.Result {
        try ProcessRunner.run(launcher, ["--profile", profile(name)] + flags + ["--"] + program, environment: environment)
    }

    /// Runs the probe program under the launcher.
    static func runProbe(_ arguments: String..., flags: [String] = [], profile name: String = "default") throws -> ProcessRunner.Result {
        try run(flags, profile: name, [probe.get()] + arguments)
    }

    /// The catalog code for a finished run.
    static func classify(_ result: ProcessRunner.Result, memoryLimit: Int? = nil, cgroup: Cgroup.Counters? = nil) -> PaddockError? {
        DeathClassifier.classify(
            DeathEvidence(
                waitStatus: result.waitStatus,
                maxResidentBytes: result.maxResidentBytes,
                memoryLimit: memoryLimit,
                cgroup: cgroup,
                report: result.stderr
            )
        )
    }

    static var isRoot: Bool { geteuid() == 0 }
}
