import Foundation
import Glibc
import PaddockTestSupport
import Testing

/// A plugin with network permission reaches the outside and nothing of the
/// host: real network namespaces, a real pasta, real TCP.
@Suite(
    .serialized, .timeLimit(.minutes(2)),
    .enabled(if: Sandbox.isRoot && access("/usr/bin/pasta", X_OK) == 0, "needs root and pasta (Debian package passt)"))
struct NetworkTests {
    /// Connects to each `host:port` from inside the sandbox; prints "hello",
    /// or the errno name when the connection fails.
    private static let client = """
        import errno, socket, sys
        for target in sys.argv[1:]:
            host, port = target.rsplit(":", 1)
            try:
                s = socket.socket(); s.settimeout(3)
                s.connect((host, int(port))); print(target, s.recv(16).decode() or "empty")
            except OSError as error:
                print(target, errno.errorcode.get(error.errno, "timeout"))
        """

    private func connect(_ targets: [String], flags: [String] = []) throws -> [String: String] {
        let result = try Sandbox.run(flags, profile: "network", [Sandbox.python, "-c", Self.client] + targets)
        #expect(result.status == 0, "\(result.stderr)")
        var answers: [String: String] = [:]
        for line in result.stdout.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2 { answers[String(words[0])] = String(words[1]) }
        }
        return answers
    }

    @Test func theOutsideIsReachableAndTheHostIsNot() throws {
        let outside = try TestHost(prefix: "198.18.\(UInt8.random(in: 1...250))")
        defer { outside.close() }
        // Services of the host: one on loopback only, one on every address.
        let loopback = try Background(URL(fileURLWithPath: Sandbox.python), ["-c", TestHost.server, "127.0.0.1", "7001"])
        defer { loopback.stop() }
        let everywhere = try Background(URL(fileURLWithPath: Sandbox.python), ["-c", TestHost.server, "0.0.0.0", "7002"])
        defer { everywhere.stop() }
        #expect(loopback.nextLine() == "ready" && everywhere.nextLine() == "ready")
        let targets = [
            "\(outside.address):\(outside.port)", "127.0.0.1:7001", "127.0.0.1:7002", "\(outside.hostSideAddress):7002",
            "169.254.169.254:80", "10.1.2.3:80", "192.168.1.1:80", "172.16.0.1:80",
        ]
        let answers = try connect(targets)
        #expect(answers["\(outside.address):\(outside.port)"] == "hello", "\(answers)")
        #expect(answers["127.0.0.1:7001"] == "ECONNREFUSED")
        #expect(answers["127.0.0.1:7002"] == "ECONNREFUSED")
        for refused in targets.dropFirst(3) { #expect(answers[refused] == "EACCES", "\(refused): \(answers)") }
    }

    @Test func aPrivateRangeIsReachableOnlyWhenAllowed() throws {
        let prefix = "10.213.\(UInt8.random(in: 1...250))"
        let inside = try TestHost(prefix: prefix)
        defer { inside.close() }
        let target = "\(inside.address):\(inside.port)"
        #expect(try connect([target])[target] == "EACCES")
        #expect(try connect([target], flags: ["--allow-range", prefix + ".0/24"])[target] == "hello")
        // The host's own address in that range stays out of reach.
        let host = "\(inside.hostSideAddress):22"
        #expect(try connect([host], flags: ["--allow-range", prefix + ".0/24"])[host] == "EACCES")
    }

    @Test func namesResolveThroughTheHostsResolver() throws {
        // An answer, or "no such name", means a resolver answered; EAI_AGAIN means none did.
        let script = """
            print(open("/etc/resolv.conf").read().split()[1])
            import socket
            try:
                socket.getaddrinfo("deb.debian.org", 80); print("answered")
            except socket.gaierror as error:
                print("answered" if error.errno == socket.EAI_NONAME else f"no answer {error}")
            """
        let result = try Sandbox.run([], profile: "network", [Sandbox.python, "-c", script])
        #expect(result.stdout == "169.254.1.53\nanswered\n", "\(result.stderr)")
    }

    @Test func withoutPermissionThereAreNoInternetSockets() throws {
        let outside = try TestHost(prefix: "198.18.\(UInt8.random(in: 1...250))")
        defer { outside.close() }
        let result = try Sandbox.run(["--allow-range", "10.0.0.0/8"], [Sandbox.python, "-c", Self.client, "\(outside.address):\(outside.port)"])
        #expect(result.stdout.contains("EPERM"), "\(result.stdout) \(result.stderr)")
    }
}
