import Foundation
import PaddockCore
import PaddockSandbox
import PaddockTestSupport
import Testing

/// The shipped profiles, the profile format, and resolution with a manifest.
@Suite struct ProfileTests {
    @Test(arguments: ["default", "network", "strict"])
    func shippedProfilesLoad(name: String) throws {
        let profile = try SandboxProfile.load(path: Sandbox.profile(name))
        #expect(profile.name == name)
        #expect(profile.seccomp.allow.contains("execve"), "the launcher's own exec must stay allowed")
        #expect(profile.writable.isEmpty, "writable paths come from the plugin, never the profile")
        #expect(profile.environment["PATH"] != nil)
    }

    @Test func networkProfileExtendsTheDefault() throws {
        let base = try SandboxProfile.load(path: Sandbox.profile("default"))
        let network = try SandboxProfile.load(path: Sandbox.profile("network"))
        #expect(network.allowsNetwork)
        #expect(!base.allowsNetwork)
        #expect(network.seccomp == base.seccomp)
        #expect(network.readable == base.readable)
    }

    @Test func defaultProfileAllowsOnlyUnixSocketsUntilNetworkIsAllowed() throws {
        let profile = try SandboxProfile.load(path: Sandbox.profile("default"))
        let socketRules = { (policy: SeccompPolicy) in
            policy.conditional.filter { $0.syscall == "socket" }.flatMap(\.values)
        }
        #expect(socketRules(SandboxPolicy(profile: profile, overrides: SandboxOverrides()).seccomp) == [1])
        var overrides = SandboxOverrides()
        overrides.allowNetwork = true
        #expect(Set(socketRules(SandboxPolicy(profile: profile, overrides: overrides).seccomp)) == [1, 2, 10])
    }

    @Test func manifestResolvesToAPolicy() throws {
        let manifest = try #require(Fixture.load(Fixture.weather).manifest)
        let overrides = SandboxOverrides(manifest: manifest, pluginDirectory: "/plugins/w")
        let profile = try SandboxProfile.load(path: SandboxOverrides.profilePath(for: manifest, in: Sandbox.profile("x").replacingOccurrences(of: "/x.yaml", with: "")))
        let policy = SandboxPolicy(profile: profile, overrides: overrides)
        #expect(profile.name == "default")
        #expect(policy.limits.memory == ByteSize(bytes: 256_000_000))
        #expect(policy.limits.cpuSeconds == 30)
        #expect(!policy.allowNetwork)
        #expect(policy.profile.writable.isEmpty)
        #expect(policy.binds == [SandboxOverrides.Bind(source: "/plugins/w", target: "/plugin")])
        #expect(policy.identity == "weather-forecast")
        #expect(policy.limits.disk == ByteSize(bytes: 64 << 20))
        let view = SandboxView(policy: policy, program: "/usr/bin/python3", uid: 70_001, gid: 70_001)
        #expect(view.entries.contains(.bind(source: "/plugins/w", target: "/plugin", writable: false)))
        #expect(view.writable == ["/data", "/tmp", "/dev/shm"])
        #expect(!view.readable.contains("/plugins/w"))
    }

    @Test func manifestDiskAndCPUReachThePolicy() throws {
        let yaml = Fixture.weather(replacing: "resource: {memory: 256MB, cpu_seconds: 30, workers: 4}",
            with: "resource: {memory: 256MB, cpu_seconds: 2, workers: 4, disk: 8MB, disk_files: 100, cpu: 0.5}")
        let manifest = try #require(Fixture.load(yaml).manifest)
        #expect(manifest.resource.cpu == 0.5)
        let overrides = SandboxOverrides(manifest: manifest, pluginDirectory: "/p")
        #expect(overrides.arguments.contains("--disk"))
        let policy = SandboxPolicy(profile: try SandboxProfile.load(path: Sandbox.profile("default")), overrides: overrides)
        #expect(policy.limits.disk == ByteSize(bytes: 8_000_000))
        #expect(policy.limits.diskFiles == 100)
        #expect(policy.limits.cpuSeconds == 2)
    }

    @Test func networkPermissionPicksTheNetworkProfile() throws {
        let yaml = Fixture.weather(replacing: "network: false", with: "network: true")
        let manifest = try #require(Fixture.load(yaml).manifest)
        #expect(SandboxOverrides.profilePath(for: manifest, in: "/p") == "/p/network.yaml")
        #expect(SandboxOverrides(manifest: manifest, pluginDirectory: "/a").allowNetwork)
    }

    @Test func overridesRoundTripThroughLauncherArguments() throws {
        var overrides = SandboxOverrides()
        overrides.memory = ByteSize(bytes: 64_000_000)
        overrides.cpuSeconds = 5
        overrides.fileSize = ByteSize(bytes: 1 << 20)
        overrides.allowNetwork = true
        overrides.readable = ["/r"]
        overrides.writable = ["/w1", "/w2"]
        overrides.keptDescriptors = [3, 7]
        overrides.credentials = SandboxPolicy.Credentials(uid: 70_001, gid: 70_001)
        overrides.cgroups = ["/sys/fs/cgroup/memory/paddock/x"]
        overrides.environment = ["PADDOCK_RPC_FD": "3"]
        overrides.dieWithParent = true
        overrides.disk = ByteSize(bytes: 8 << 20)
        overrides.diskFiles = 100
        overrides.binds = [SandboxOverrides.Bind(source: "/src", target: "/plugin")]
        overrides.allowedRanges = ["10.1.0.0/16"]
        overrides.allowedHostPorts = [8081, 5432]
        overrides.identity = "weather"
        let parsed = try LauncherArguments(["--profile", "/p.yaml"] + overrides.arguments + ["--", "python3", "-c", "pass"])
        #expect(parsed.overrides == overrides)
        #expect(parsed.program == "python3")
        #expect(parsed.programArguments == ["-c", "pass"])
    }

    @Test(arguments: [
        ["--memory", "64MB", "--", "x"],
        ["--profile", "p", "--uid", "5", "--", "x"],
        ["--profile", "p", "--bogus", "--", "x"],
        ["--profile", "p", "--env", "NOEQUALS", "--", "x"],
        ["--profile", "p", "--cpu", "-1", "--", "x"],
        ["--profile", "p", "--"],
        ["--profile", "p", "--readable", "relative/path", "--", "x"],
        ["--profile", "p", "--bind", "/a", "relative", "--", "x"],
        ["--profile", "p", "--allow-range", "10.0.0.0/33", "--", "x"],
        ["--profile", "p", "--allow-range", "10.0.0", "--", "x"],
        ["--profile", "p", "--allow-host-port", "0", "--", "x"],
        ["--profile", "p", "--allow-host-port", "65536", "--", "x"],
    ])
    func badLauncherArgumentsAreCoded(arguments: [String]) {
        let error = #expect(throws: PaddockError.self) { try LauncherArguments(arguments) }
        #expect([101, 102].contains(error?.code.rawValue ?? 0))
    }

    @Test(arguments: [
        ("name: x\nseccomp: {default_action: maybe}\n", "seccomp.default_action"),
        ("name: x\nseccomp: {default_action: errno EWHAT}\n", "seccomp.default_action"),
        ("name: x\nseccomp: {default_action: kill, conditional: [{syscall: socket, arg: 9, values: [1]}]}\n", "seccomp.conditional[0].arg"),
        ("name: x\nseccomp: {default_action: kill, conditional: [{syscall: socket, arg: 0, values: [AF_BOGUS]}]}\n", "seccomp.conditional[0].values[0]"),
        ("name: x\nseccomp: {default_action: kill}\nrlimits: {core: 1}\n", "rlimits.core"),
        ("name: x\n", "seccomp"),
        ("name: x\nseccomp: {default_action: kill}\nfilesystem: {writeable: [/]}\n", "filesystem.writeable"),
    ])
    func badProfilesAreCoded(yaml: String, field: String) throws {
        let node = try #require(try YAMLParser().parse(Array(yaml.utf8)))
        let error = #expect(throws: PaddockError.self) { try SandboxProfile.decode(node) }
        #expect(error?.field == field)
        #expect([101, 102].contains(error?.code.rawValue ?? 0))
    }

    @Test func unknownSystemCallFailsTheLaunchWithACode() throws {
        let directory = try Sandbox.scratch("profile")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("typo.yaml").path
        try Data("extends: \(Sandbox.profile("default"))\nname: typo\nseccomp: {default_action: kill, allow: [execve, reed]}\n".utf8)
            .write(to: URL(fileURLWithPath: path))
        let result = try ProcessRunner.run(Sandbox.launcher, ["--profile", path, "--", "/bin/true"])
        #expect(result.status == LaunchStep.seccomp.exitStatus)
        #expect(result.stderr.contains("error 102: unknown system call 'reed'"))
    }
}
