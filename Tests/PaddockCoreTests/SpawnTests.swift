import Glibc
import PaddockCore
import Testing

@Suite(.timeLimit(.minutes(1))) struct SpawnTests {
    /// Runs `script` under /bin/sh with its standard output on a pipe; what it printed and its status.
    private func shell(
        _ script: String, environment: [String]? = nil, actions: [Spawn.FileAction] = []
    ) throws -> (output: String, status: Int32) {
        try run("/bin/sh", ["-c", script], environment: environment, actions: actions)
    }

    private func run(
        _ program: String, _ arguments: [String], environment: [String]? = nil, actions: [Spawn.FileAction] = [],
        resetSignals: Bool = false
    ) throws -> (output: String, status: Int32) {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let spawned = Result { () throws(PaddockError) in
            try Spawn.start(
                program, arguments: arguments, environment: environment,
                actions: [.duplicate(fds[1], to: 1), .close(fds[0]), .close(fds[1])] + actions, resetSignals: resetSignals)
        }
        close(fds[1])
        let pid = try spawned.get()
        let output = try FileSystem.read(descriptor: fds[0], limit: 1 << 16, name: "sh")
        let status = Spawn.wait(pid).status
        return (String(decoding: output, as: UTF8.self), status)
    }

    @Test func passesArgumentsEnvironmentAndDescriptors() throws {
        let (output, status) = try shell(
            #"echo "$GREETING $0"; cat; echo err >&2"#, environment: ["GREETING=hello"],
            actions: [.nullInput, .duplicate(1, to: 2)])
        #expect(status == 0)
        #expect(output == "hello /bin/sh\nerr\n", "stdin is empty, stderr joins stdout")
    }

    @Test func closeFromLeavesTheChildOnlyItsStandardDescriptors() throws {
        // A descriptor without close-on-exec, as NIO's listening sockets are.
        let open = Glibc.open("/dev/null", O_RDONLY)
        defer { close(open) }
        let inherited = try shell("[ -e /proc/self/fd/\(open) ] && echo inherited || echo closed")
        #expect(inherited.output == "inherited\n")
        let closed = try shell("[ -e /proc/self/fd/\(open) ] && echo inherited || echo closed", actions: [.closeFrom(3)])
        #expect(closed.output == "closed\n")
    }

    @Test func opensFilesForTheChild() throws {
        let path = "/tmp/paddock-spawn-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { unlink(path) }
        _ = try shell("echo one; echo two", actions: [.open(path, flags: O_WRONLY | O_CREAT | O_APPEND, mode: 0o600, as: 1)])
        #expect(String(decoding: try FileSystem.read(path, limit: 100), as: UTF8.self) == "one\ntwo\n")
        var info = stat()
        #expect(stat(path, &info) == 0 && info.st_mode & 0o777 == 0o600)
    }

    @Test func aMissingProgramIs105WithItsErrno() {
        let error = #expect(throws: PaddockError.self) { try Spawn.start("/nonexistent/program", arguments: []) }
        #expect(error?.code == .dependencyUnavailable)
        #expect(error?.underlying != nil)
        #expect(error?.message.hasSuffix("No such file or directory") == true, "\(String(describing: error))")
    }

    @Test func resetSignalsUnblocksWhatTheCallingThreadBlocks() throws {
        var blocked = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        var previous = sigset_t()
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        // cat itself, not under a shell: dash clears the mask it starts with.
        func mask(resetSignals: Bool) throws -> UInt64? {
            try run("/bin/cat", ["/proc/self/status"], resetSignals: resetSignals).output
                .split(separator: "\n").first { $0.hasPrefix("SigBlk:") }?.split(separator: "\t").last
                .flatMap { UInt64($0, radix: 16) }
        }
        // SIGTERM is signal 15: bit 14 of the mask.
        let inherited = try #require(try mask(resetSignals: false))
        #expect(inherited & 1 << 14 != 0)
        #expect(try mask(resetSignals: true) == 0)
    }

    @Test func waitReportsTheExitStatus() throws {
        #expect(try shell("exit 3").status == 3 << 8)
    }
}
