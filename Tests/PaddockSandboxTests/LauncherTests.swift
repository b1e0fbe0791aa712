import Foundation
import Glibc
import PaddockCore
import PaddockSandbox
import PaddockTestSupport
import Testing

/// Real programs under the real launcher, for each restriction it applies.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LauncherTests {
    @Test func pythonAllocatingPastTheCapIs301() throws {
        // Exactly the acceptance command: `python3` is found in the policy's PATH, not the caller's.
        let result = try Sandbox.run(["--memory", "64MB"], ["python3", "-c", "bytearray(512*1024*1024)"])
        #expect(result.status != 0)
        #expect(result.stderr.contains("MemoryError"))
        #expect(Sandbox.classify(result, memoryLimit: 64_000_000)?.code == .memoryLimitExceeded)
    }

    @Test func pythonAllocatingInsideACallIs301() throws {
        let script = "import time\nchunks = []\nwhile True:\n    chunks.append(bytearray(8 << 20))\n"
        let result = try Sandbox.run(["--memory", "64MB"], [Sandbox.python, "-c", script])
        #expect(result.status == 1)
        #expect(Sandbox.classify(result, memoryLimit: 64_000_000)?.code == .memoryLimitExceeded)
    }

    @Test func nativeAllocatingPastTheCapIs301() throws {
        let result = try Sandbox.runProbe("alloc", "512", flags: ["--memory", "64MB"])
        #expect(result.status == 1)
        #expect(!result.stdout.contains("allocated 512"))
        #expect(Sandbox.classify(result, memoryLimit: 64_000_000)?.code == .memoryLimitExceeded)
    }

    @Test func pythonWithinTheCapRunsNormally() throws {
        let result = try Sandbox.run(["--memory", "128MB"], [Sandbox.python, "-c", "import json, threading, ssl, sqlite3; print(len(bytearray(16 << 20)))"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "16777216\n")
        #expect(Sandbox.classify(result) == nil)
    }

    @Test func writingPastTheFileSizeLimitIs302() throws {
        let directory = try Sandbox.scratch("fsize")
        defer { try? FileManager.default.removeItem(at: directory) }
        chmod(directory.path, 0o777)
        let result = try Sandbox.runProbe("write", directory.path + "/big", "8", flags: ["--file-size", "1MiB", "--writable", directory.path])
        #expect(result.signal == SIGXFSZ)
        #expect(Sandbox.classify(result)?.code == .fileLimitExceeded)
    }

    @Test func spinningPastTheCPULimitIs303() throws {
        let result = try Sandbox.runProbe("spin", flags: ["--cpu", "1"])
        #expect(result.signal == SIGXCPU)
        #expect(Sandbox.classify(result)?.code == .cpuLimitExceeded)
    }

    @Test(arguments: ["ptrace", "mount", "reboot", "kexec_load", "bpf", "unshare", "keyctl", "init_module", "perf_event_open"])
    func forbiddenSystemCallIsBlockedAsTheProfileSays(name: String) throws {
        let profile = try SandboxProfile.load(path: Sandbox.profile("default"))
        let result = try Sandbox.runProbe("syscall", name)
        let action = profile.seccomp.actions[name] ?? profile.seccomp.defaultAction
        switch action {
        case .kill:
            #expect(result.signal == SIGSYS, "\(name): \(result)")
            #expect(Sandbox.classify(result)?.code == .sandboxViolation)
        case .errno(let number):
            #expect(result.status == 1, "\(name): \(result)")
            #expect(result.stdout == String(cString: strerror(number)) + "\n")
        case .allow:
            Issue.record("the default profile allows \(name)")
        }
    }

    @Test func inetSocketNeedsNetworkPermission() throws {
        let denied = try Sandbox.runProbe("socket", "inet")
        #expect(denied.stdout == "Operation not permitted\n")
        let denied6 = try Sandbox.runProbe("socket", "inet6")
        #expect(denied6.stdout == "Operation not permitted\n")
        let unix = try Sandbox.runProbe("socket", "unix")
        #expect(unix.stdout == "ok\n")
        let allowed = try Sandbox.runProbe("socket", "inet", flags: ["--allow-network"])
        #expect(allowed.stdout == "ok\n", "\(allowed.stderr)")
        let byProfile = try Sandbox.runProbe("socket", "inet6", profile: "network")
        #expect(byProfile.stdout == "ok\n", "\(byProfile.stderr)")
    }

    @Test(.enabled(if: Sandbox.isRoot, "needs root to switch to a uid of its own"))
    func forkBombIsContainedByTheProcessLimit() throws {
        // A uid of its own: RLIMIT_NPROC counts every process of the uid.
        let uid = UInt32.random(in: 61_000...61_999)
        defer { killAll(uid: uid) }
        let result = try Sandbox.runProbe("forkbomb", "100000", flags: ["--uid", String(uid), "--gid", String(uid)])
        #expect(result.status == 0, "\(result.stderr)")
        let forked = Int(result.stdout.split(separator: " ").last?.dropLast() ?? "") ?? -1
        #expect((0..<64).contains(forked), "forked \(forked)")
        // The host is unaffected: it still starts processes.
        #expect(try ProcessRunner.run(URL(fileURLWithPath: "/bin/true"), []).status == 0)
    }

    @Test func inheritedDescriptorIsClosedUnlessKept() throws {
        let fd = open("/etc/hostname", O_RDONLY)  // deliberately without O_CLOEXEC
        try #require(fd >= 0)
        defer { close(fd) }
        #expect(try Sandbox.runProbe("fd", String(fd)).stdout == "closed\n")
        #expect(try Sandbox.runProbe("fd", String(fd), flags: ["--keep-fd", String(fd)]).stdout == "open\n")
    }

    @Test(.enabled(if: Landlock.abiVersion >= 1, "Landlock is not available in this kernel"))
    func writingOutsideTheWritableDirectoriesIsDenied() throws {
        let directory = try Sandbox.scratch("landlock")
        defer { try? FileManager.default.removeItem(at: directory) }
        chmod(directory.path, 0o777)  // so that only Landlock can refuse
        // Not even there in the plugin's view; Landlock would refuse it as well.
        let outside = try Sandbox.runProbe("touch", directory.path + "/outside")
        #expect(outside.stdout == "No such file or directory\n")
        #expect(!FileManager.default.fileExists(atPath: directory.path + "/outside"))
        let inside = try Sandbox.runProbe("touch", directory.path + "/inside", flags: ["--writable", directory.path])
        #expect(inside.stdout == "ok\n")
    }

    @Test(.enabled(if: Sandbox.isRoot, "needs root to test the uid switch"))
    func childRunsWithoutRoot() throws {
        #expect(try Sandbox.runProbe("uid").stdout == "65534 65534 65534\n")
        #expect(try Sandbox.runProbe("uid", flags: ["--uid", "4242", "--gid", "4343"]).stdout == "4242 4242 4343\n")
        let python = try Sandbox.run([], [Sandbox.python, "-c", "import os; print(os.getuid(), os.getgroups())"])
        #expect(python.stdout == "65534 []\n")
    }

    @Test func callerEnvironmentDoesNotLeak() throws {
        let result = try Sandbox.run(["--env", "PADDOCK_RPC_FD=3"], ["/usr/bin/env"], environment: ["SECRET_TOKEN": "hunter2"])
        #expect(result.status == 0)
        #expect(!result.stdout.contains("SECRET_TOKEN"))
        #expect(!result.stdout.contains("hunter2"))
        #expect(result.stdout.contains("PADDOCK_RPC_FD=3\n"))
        #expect(result.stdout.contains("PATH=/usr/local/bin:/usr/bin:/bin\n"))
    }

    @Test(.enabled(if: Landlock.abiVersion >= 6, "Landlock ABI 6 (signal scoping) is not available"))
    func sandboxedProgramCannotSignalAnother() throws {
        // Both as nobody: the other's pid namespace hides it, and Landlock's scoping would refuse the signal.
        let sleeper = try Background(Sandbox.launcher, ["--profile", Sandbox.profile("default"), "--", Sandbox.probe.get(), "sleep", "30"])
        defer { sleeper.stop() }
        #expect(sleeper.nextLine() == "2")
        // The launcher's child is the namespace's init; its child, the sleeper.
        let initPID = try #require(Self.children(of: sleeper.pid).first)
        let pid = try #require(Self.children(of: initPID).first)
        #expect(kill(pid, 0) == 0, "the sleeper runs")
        let result = try Sandbox.runProbe("kill", String(pid))
        #expect(["No such process\n", "Operation not permitted\n"].contains(result.stdout), "\(result.stdout)")
        #expect(kill(pid, 0) == 0, "the sleeper still runs")
    }

    static func children(of pid: pid_t) -> [pid_t] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { pid_t($0) }
    }

    @Test(
        .enabled(if: Landlock.abiVersion >= 6, "Landlock ABI 6 (abstract socket scoping) is not available"),
        arguments: [false, true]
    )
    func sandboxedProgramCannotReachAnOutsideAbstractSocket(allowNetwork: Bool) throws {
        let name = "paddock-test-\(getpid())-\(allowNetwork)"
        let listener = try AbstractListener(name: name)
        defer { listener.close() }
        // The probe reaches the socket from outside the sandbox, so refusal inside means something.
        let outside = try ProcessRunner.run(URL(fileURLWithPath: try Sandbox.probe.get()), ["connect-abstract", name])
        #expect(outside.stdout == "ok\n")
        let inside = try Sandbox.runProbe("connect-abstract", name, flags: allowNetwork ? ["--allow-network"] : [])
        #expect(inside.stdout != "ok\n")
        #expect(["Operation not permitted\n", "Connection refused\n"].contains(inside.stdout), "\(inside.stdout)")
    }

    @Test func launcherFailureIsACodedErrorWithADistinctStatus() throws {
        let missing = try Sandbox.run([], ["/nonexistent/program"])
        #expect(missing.status == LaunchStep.program.exitStatus)
        #expect(missing.stderr.hasPrefix("paddock-sandbox: error 105:"))
        #expect(Sandbox.classify(missing)?.code == .dependencyUnavailable)

        let usage = try ProcessRunner.run(Sandbox.launcher, ["--memory", "lots", "--", "/bin/true"])
        #expect(usage.status == LaunchStep.arguments.exitStatus)
        #expect(usage.stderr.hasPrefix("paddock-sandbox: error 102:"))

        let keep = try Sandbox.run(["--keep-fd", "987"], ["/bin/true"])
        #expect(keep.status == LaunchStep.descriptors.exitStatus)
        #expect(keep.stderr.hasPrefix("paddock-sandbox: error 101:"))
    }

    @Test func reportNamesTheLandlockABIAndWhatWasApplied() throws {
        let result = try Sandbox.run(["--report"], ["/bin/true"])
        #expect(result.status == 0)
        let abi = Landlock.abiVersion
        #expect(result.stderr.contains(abi > 0 ? "landlock ABI \(abi)" : "landlock unavailable"), "\(result.stderr)")
        #expect(result.stderr.contains("memory cap 256MiB"))
    }

    @Test func pluginDiesWithTheLaunchersParent() throws {
        // sh starts the sandboxed sleeper in the background, prints its pid and exits.
        let script = "\"$0\" --profile \"$1\" --die-with-parent -- \"$2\" sleep 30 & echo $!; sleep 0.3"
        let shell = try ProcessRunner.run(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", script, Sandbox.launcher.path, Sandbox.profile("default"), try Sandbox.probe.get()]
        )
        let pid = try #require(Int32(shell.stdout.split(separator: "\n").first ?? ""))
        var alive = true
        for _ in 0..<100 where alive {
            alive = kill(pid, 0) == 0 && !isZombie(pid)
            if alive { usleep(20_000) }
        }
        #expect(!alive, "the sandboxed process outlived its parent")
    }

    private func isZombie(_ pid: Int32) -> Bool {
        let stat = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        return stat.split(separator: ")").last?.split(separator: " ").first == "Z"
    }

    private func killAll(uid: UInt32) {
        // kill(-1) as the plugin's uid reaches exactly that uid's processes.
        _ = try? ProcessRunner.run(URL(fileURLWithPath: "/usr/bin/setpriv"), ["--reuid", String(uid), "--regid", String(uid), "--clear-groups", "/bin/kill", "-9", "-1"])
    }
}
