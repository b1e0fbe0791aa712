import Foundation
import Glibc
import PaddockCore
import PaddockSandbox
import PaddockTestSupport
import Testing

/// What a plugin can see and reach of the host, and how its processes,
/// CPU time and disk are bounded as a whole: real processes under the real
/// launcher, as root.
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: Sandbox.isRoot, "the view is built as root"))
struct ContainmentTests {
    /// Runs a Python script in the default profile.
    private func python(_ script: String, flags: [String] = [], profile: String = "default") throws -> ProcessRunner.Result {
        try Sandbox.run(flags, profile: profile, [Sandbox.python, "-c", script])
    }

    @Test func nothingOfTheHostOutsideTheViewCanBeStatted() throws {
        let directory = try Sandbox.scratch("host")
        defer { try? FileManager.default.removeItem(at: directory) }
        let socketPath = directory.appendingPathComponent("host.sock").path
        let listener = try UnixListener(path: socketPath)
        defer { listener.close() }
        let hostPaths = [
            "/root", "/home", "/work", Sandbox.repository.path, directory.path, socketPath, "/run", "/var", "/sys",
            "/etc/shadow", "/etc/machine-id", "/proc/self/../../proc/1/root",
        ]
        let script = """
            import os, socket, sys
            for path in sys.argv[1:]:
                print(path, os.path.exists(path) or os.path.lexists(path))
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(sys.argv[6]); print("connected")
            except OSError as error:
                print("refused", error.errno)
            """
        let result = try Sandbox.run([], [Sandbox.python, "-c", script] + hostPaths)
        #expect(result.status == 0, "\(result.stderr)")
        for path in hostPaths { #expect(result.stdout.contains("\(path) False\n"), "\(path) is visible: \(result.stdout)") }
        #expect(result.stdout.contains("refused \(ENOENT)"))
        #expect(!listener.wasConnected)
    }

    @Test func procShowsOnlyThePluginsOwnProcesses() throws {
        let script = """
            import os, subprocess
            child = subprocess.Popen(["/bin/sleep", "5"])
            pids = sorted(int(name) for name in os.listdir("/proc") if name.isdigit())
            print(pids == sorted([os.getpid(), child.pid]), pids, os.getpid())
            print(open("/proc/self/cgroup").read().strip().split(":")[-1])
            child.kill()
            """
        let result = try python(script)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("True"), "\(result.stdout)")
        #expect(result.stdout.hasSuffix("\n/\n"), "the cgroup path is hidden: \(result.stdout)")
    }

    @Test func everyProcessDiesWithThePlugin() throws {
        let marker = "31\(UInt32.random(in: 10_000...99_999))"
        // A grandchild in a session of its own, with no parent-death signal.
        let script = """
            import subprocess
            subprocess.Popen(["/bin/sleep", "\(marker)"], start_new_session=True)
            print("spawned", flush=True)
            """
        let result = try python(script)
        #expect(result.stdout == "spawned\n", "\(result.stderr)")
        #expect(HostProcesses.containing(marker).isEmpty)
    }

    @Test func theDiskIsOneBoundedFilesystemForDataTmpAndShm() throws {
        let before = try Self.freeBytes("/tmp")
        let script = """
            import errno, os
            written = 0
            try:
                for n in range(10_000):
                    where = ["/data", "/tmp", "/dev/shm"][n % 3]
                    with open(f"{where}/f{n}", "wb") as f:
                        f.write(b"x" * (256 << 10))
                    written += 256 << 10
            except OSError as error:
                print(errno.errorcode[error.errno], written)
            """
        let result = try python(script, flags: ["--disk", "8MiB"])
        #expect(result.status == 0, "\(result.stderr)")
        let words = result.stdout.split(separator: " ")
        #expect(words.first == "ENOSPC", "\(result.stdout)")
        let written = Int(words.last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect((6 << 20)...(8 << 20) ~= written, "\(written)")
        #expect(try Self.freeBytes("/tmp") > before - (8 << 20))
    }

    @Test func theDiskHoldsAtMostItsFileCount() throws {
        let script = """
            import errno
            try:
                for n in range(10_000):
                    open(f"/tmp/f{n}", "w").close()
            except OSError as error:
                print(errno.errorcode[error.errno], n)
            """
        let result = try python(script, flags: ["--disk-files", "100"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("ENOSPC"), "\(result.stdout)")
        let created = Int(result.stdout.split(separator: " ").last?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? 0
        #expect((80...100).contains(created), "\(created)")
    }

    @Test(arguments: [["--disk", "0"], ["--disk-files", "0"], ["--disk", "4096"]])
    func aDiskWithoutABoundIsRefused(flags: [String]) throws {
        // tmpfs takes 0 as "no limit": a profile or flag must not be able to ask for that.
        let result = try python("pass", flags: flags)
        #expect(result.status == LaunchStep.view.exitStatus)
        #expect(result.stderr.contains("error 102: the plugin's disk needs at least 1MiB and 16 files"), "\(result.stderr)")
    }

    @Test func theCPUBudgetCountsEveryProcess() throws {
        let cgroup = try Cgroup.create(name: "cpu-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))", memory: ByteSize(bytes: 256 << 20), processes: 64)
        defer { try? cgroup.remove() }
        try #require(cgroup.directories.contains { FileManager.default.fileExists(atPath: $0 + "/cpuacct.usage") || FileManager.default.fileExists(atPath: $0 + "/cpu.stat") })
        // Children that each stay far below the per-process limit, together above it.
        let script = """
            import os
            for _ in range(3):
                if os.fork() == 0:
                    while True: pass
            while True: pass
            """
        let started = ContinuousClock.now
        let result = try python(script, flags: ["--cpu", "2"] + cgroup.directories.flatMap { ["--cgroup", $0] })
        let elapsed = ContinuousClock.now - started
        #expect(result.signal == SIGXCPU, "\(result)")
        #expect(Sandbox.classify(result)?.code == .cpuLimitExceeded)
        #expect(result.stderr.contains("CPU budget of 2 s"))
        #expect(elapsed < .seconds(6), "stopped after \(elapsed)")
    }

    @Test func aPathThatCannotBeShownIsNamed() throws {
        let result = try python("pass", flags: ["--readable", "/nonexistent/paddock-needs-this"])
        #expect(result.status == LaunchStep.view.exitStatus)
        #expect(result.stderr.contains("error 105: /nonexistent/paddock-needs-this"), "\(result.stderr)")
        #expect(result.stderr.contains("No such file or directory"))
    }

    @Test func codeBelowAPrivateDirectoryRuns() throws {
        // As a checkout under /root: the parent is 0700, the code itself is readable.
        let parent = try HostProcesses.privateDirectory()
        defer { try? FileManager.default.removeItem(atPath: parent) }
        let directory = parent + "/code"
        mkdir(directory, 0o755)
        try Data("print('hello from below a 0700 directory')\n".utf8).write(to: URL(fileURLWithPath: directory + "/hello.py"))
        chmod(directory + "/hello.py", 0o644)
        let bound = try Sandbox.run(["--bind", directory, "/code"], [Sandbox.python, "/code/hello.py"])
        #expect(bound.stdout == "hello from below a 0700 directory\n", "\(bound.stderr)")
        let inPlace = try Sandbox.run(["--readable", directory], [Sandbox.python, directory + "/hello.py"])
        #expect(inPlace.stdout == "hello from below a 0700 directory\n", "\(inPlace.stderr)")
    }

    static func freeBytes(_ path: String) throws -> Int {
        var status = statvfs()
        guard statvfs(path, &status) == 0 else { throw PaddockError(.fileLimitExceeded, "statvfs \(path)") }
        return Int(status.f_bavail) * Int(status.f_frsize)
    }
}

/// A listening Unix socket of the host, to check that a plugin cannot reach it.
final class UnixListener {
    private let fd: Int32

    init(path: String) throws {
        fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() where index < buffer.count - 1 { buffer[index] = byte }
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard bound == 0, listen(fd, 8) == 0 else { throw PaddockError(.dependencyUnavailable, "cannot listen on \(path)") }
        chmod(path, 0o777)
        _ = fcntl(fd, F_SETFL, O_NONBLOCK)
    }

    /// Whether anyone connected.
    var wasConnected: Bool {
        let client = accept(fd, nil, nil)
        if client >= 0 { Glibc.close(client) }
        return client >= 0
    }

    func close() { Glibc.close(fd) }
}
