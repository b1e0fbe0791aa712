import Foundation
import Glibc
import PaddockCore
import PaddockSandbox
import PaddockTestSupport
import Testing

/// A plugin's manifest resolved to a policy and enforced for real: it writes
/// its data and tmp directories and nothing else, reads its own directory.
@Suite(.timeLimit(.minutes(1)))
struct ManifestPolicyTests {
    @Test(.enabled(if: Sandbox.isRoot && Landlock.abiVersion >= 1, "needs root and Landlock"))
    func manifestPolicyConfinesThePlugin() throws {
        let root = try Sandbox.scratch("plugin")
        defer { try? FileManager.default.removeItem(at: root) }
        let plugin = root.appendingPathComponent("weather"), data = root.appendingPathComponent("data")
        let tmp = root.appendingPathComponent("tmp")
        for directory in [plugin, data, tmp] {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        }
        // The plugin's own uid owns its writable directories.
        for directory in [data, tmp] { chown(directory.path, 70_123, 70_123) }
        chmod(root.path, 0o777)  // so that only Landlock stops a write next to them
        let script = """
            import os, sys
            open(os.path.join(sys.argv[1], "state"), "w").write("ok")
            open(os.path.join(os.environ["TMPDIR"], "scratch"), "w").write("ok")
            print(open(os.path.join(sys.argv[2], "main.py")).read().strip())
            try:
                open(os.path.join(sys.argv[3], "escape"), "w")
                print("escaped")
            except PermissionError:
                print("denied")
            """
        try FileManager.default.createDirectory(at: plugin.appendingPathComponent("endpoints"), withIntermediateDirectories: true)
        try Data().write(to: plugin.appendingPathComponent("endpoints/weather.py"))
        try Data("print('plugin code')\n".utf8).write(to: plugin.appendingPathComponent("main.py"))
        chmod(plugin.appendingPathComponent("main.py").path, 0o644)
        try Data(Fixture.weather.utf8).write(to: plugin.appendingPathComponent("manifest.yaml"))

        let manifest = try ManifestLoader().manifest(in: plugin.path)
        var overrides = SandboxOverrides(manifest: manifest, pluginDirectory: plugin.path, dataDirectory: data.path, tmpDirectory: tmp.path)
        overrides.credentials = SandboxPolicy.Credentials(uid: 70_123, gid: 70_123)
        let profile = SandboxOverrides.profilePath(for: manifest, in: Sandbox.repository.appendingPathComponent("sandbox-profiles").path)
        let result = try ProcessRunner.run(
            Sandbox.launcher,
            ["--profile", profile] + overrides.arguments + ["--", "python3", "-c", script, data.path, plugin.path, root.path]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "print('plugin code')\ndenied\n")
        #expect(FileManager.default.fileExists(atPath: data.appendingPathComponent("state").path))
        #expect(FileManager.default.fileExists(atPath: tmp.appendingPathComponent("scratch").path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("escape").path))
    }
}
