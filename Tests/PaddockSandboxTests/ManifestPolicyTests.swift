import Foundation
import Glibc
import PaddockCore
import PaddockSandbox
import PaddockTestSupport
import Testing

/// A plugin's manifest resolved to a policy and enforced for real: it reads
/// its own directory at /plugin, writes its disk (/data, /tmp) and nothing else.
@Suite(.timeLimit(.minutes(1)))
struct ManifestPolicyTests {
    @Test(.enabled(if: Sandbox.isRoot, "needs root"))
    func manifestPolicyConfinesThePlugin() throws {
        // Below a private (0700) directory, as under /root: the plugin's uid could not traverse it.
        let root = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let plugin = root + "/weather"
        mkdir(plugin, 0o755)
        try FileManager.default.createDirectory(atPath: plugin + "/endpoints", withIntermediateDirectories: true)
        try Data().write(to: URL(fileURLWithPath: plugin + "/endpoints/weather.py"))
        try Data("print('plugin code')\n".utf8).write(to: URL(fileURLWithPath: plugin + "/main.py"))
        chmod(plugin + "/main.py", 0o644)
        try Data(Fixture.weather.utf8).write(to: URL(fileURLWithPath: plugin + "/manifest.yaml"))
        let script = """
            import os
            open("/data/state", "w").write("ok")
            open(os.path.join(os.environ["TMPDIR"], "scratch"), "w").write("ok")
            print(os.getcwd(), os.environ["HOME"])
            print(open("main.py").read().strip())
            for path in ["/plugin/escape", "/escape", "/usr/escape"]:
                try:
                    open(path, "w")
                    print("escaped")
                except OSError as error:
                    print("denied", error.errno in (1, 13, 30))
            """
        let manifest = try ManifestLoader().manifest(in: plugin)
        var overrides = SandboxOverrides(manifest: manifest, pluginDirectory: plugin)
        overrides.credentials = SandboxPolicy.Credentials(uid: 70_123, gid: 70_123)
        let profile = SandboxOverrides.profilePath(for: manifest, in: Sandbox.repository.appendingPathComponent("sandbox-profiles").path)
        let result = try ProcessRunner.run(
            Sandbox.launcher,
            ["--profile", profile] + overrides.arguments + ["--chdir", SandboxOverrides.pluginPath, "--", "python3", "-c", script]
        )
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "/plugin /data\nprint('plugin code')\ndenied True\ndenied True\ndenied True\n")
        // Nothing it wrote reached the host.
        #expect(try FileManager.default.contentsOfDirectory(atPath: plugin).sorted() == ["endpoints", "main.py", "manifest.yaml"])
    }
}
