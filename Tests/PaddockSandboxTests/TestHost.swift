import Foundation
import Glibc
import PaddockTestSupport

/// A machine outside this one, for network tests: a network namespace joined
/// to the host by a veth pair, holding a TCP server that answers "hello".
final class TestHost {
    let namespace: String
    let address: String
    let hostSideAddress: String
    let port = 7000
    private let hostSide: String
    private let server: Background

    /// A host at `<prefix>.2`, the veth's host side at `<prefix>.1` (a /24).
    init(prefix: String) throws {
        let tag = "\(getpid() % 10_000)\(UInt8.random(in: 0...99))"
        namespace = "paddock-th-\(tag)"
        hostSide = "pdk\(tag)h"
        address = prefix + ".2"
        hostSideAddress = prefix + ".1"
        for command in [
            ["netns", "add", namespace],
            ["link", "add", hostSide, "type", "veth", "peer", "name", "pdk\(tag)t", "netns", namespace],
            ["addr", "add", hostSideAddress + "/24", "dev", hostSide], ["link", "set", hostSide, "up"],
            ["-n", namespace, "addr", "add", address + "/24", "dev", "pdk\(tag)t"], ["-n", namespace, "link", "set", "pdk\(tag)t", "up"],
            ["-n", namespace, "link", "set", "lo", "up"], ["-n", namespace, "route", "add", "default", "via", hostSideAddress],
        ] {
            let result = try ProcessRunner.run(URL(fileURLWithPath: "/usr/sbin/ip"), command)
            guard result.status == 0 else { throw TestHostFailure(command: command, stderr: result.stderr) }
        }
        server = try Background(
            URL(fileURLWithPath: "/usr/sbin/ip"), ["netns", "exec", namespace, Sandbox.python, "-c", Self.server, address, String(port)])
        guard server.nextLine() == "ready" else { throw TestHostFailure(command: ["server"], stderr: "did not start") }
    }

    /// A TCP server on ADDRESS PORT that says hello to each client; prints "ready".
    static let server = """
        import socket, sys
        s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
        print("ready", flush=True)
        while True:
            c, _ = s.accept(); c.sendall(b"hello"); c.close()
        """

    func close() {
        server.stop()
        _ = try? ProcessRunner.run(URL(fileURLWithPath: "/usr/sbin/ip"), ["link", "del", hostSide])
        _ = try? ProcessRunner.run(URL(fileURLWithPath: "/usr/sbin/ip"), ["netns", "del", namespace])
    }
}

struct TestHostFailure: Error {
    var command: [String]
    var stderr: String
}
