import Foundation
import Glibc
import NIOCore
import NIOPosix
import PaddockControl
import PaddockCore
import PaddockSandbox
import PaddockSupervisor
import Logging
import ServiceLifecycle
import UnixSignals

// paddockd --data DIR: the supervisor daemon. Serves <data>/paddockd.sock,
// brings back the plugins that were active, and on SIGTERM or SIGINT lets
// calls in flight finish and stops the plugins before it exits 0.

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("paddockd: \(message)\n".utf8))
    exit(1)
}

var arguments = CommandLine.arguments.dropFirst()
var data = ProcessInfo.processInfo.environment["PADDOCK_DATA"] ?? "./.paddock"
var allowedRanges: [String: [String]] = [:]
var allowedHostPorts: [String: [Int]] = [:]
var shutdownTimeout: Duration?
let usage =
    "usage: paddockd [--data DIR] [--shutdown-timeout SECONDS] [--allow-range PLUGIN=CIDR]... [--allow-host-port PLUGIN=PORT]...   (data: default ./.paddock, or PADDOCK_DATA)"
while let argument = arguments.popFirst() {
    switch argument {
    case "--data":
        guard let value = arguments.popFirst() else { fail("--data needs a directory") }
        data = value
    case "--shutdown-timeout":
        // How long a stopping plugin has between `shutdown` and its kill.
        guard let value = arguments.popFirst(), let seconds = Double(value), seconds > 0, seconds <= 3600 else {
            fail("error 102: --shutdown-timeout takes seconds, more than 0 and at most 3600")
        }
        shutdownTimeout = .milliseconds(Int64(seconds * 1000))
    case "--allow-range":
        // A private IPv4 range that one plugin with network permission may reach after all.
        guard let value = arguments.popFirst(), let equals = value.firstIndex(of: "="),
            (try? IPv4Range(parsing: String(value[value.index(after: equals)...]))) != nil
        else { fail("error 102: --allow-range takes PLUGIN=CIDR, such as db-tool=10.1.0.0/16") }
        allowedRanges[String(value[..<equals]), default: []].append(String(value[value.index(after: equals)...]))
    case "--allow-host-port":
        // A port of the host's loopback that one plugin with network permission may reach.
        guard let value = arguments.popFirst(), let equals = value.firstIndex(of: "="),
            let port = Int(value[value.index(after: equals)...]), (1...65_535).contains(port)
        else { fail("error 102: --allow-host-port takes PLUGIN=PORT, such as weather-forecast=8081") }
        allowedHostPorts[String(value[..<equals]), default: []].append(port)
    case "--help", "-h":
        print(usage)
        exit(0)
    default: fail("unknown option \(argument); \(usage)")
    }
}
mkdir(data, 0o700)  // only paddockd's: plugins see none of it
guard let resolved = realpath(data, nil) else { fail("cannot use the data directory \(data)") }
data = String(cString: resolved)
free(resolved)
let socketPath = data + "/paddockd.sock"
if ControlClient.isServing(socketPath) { fail("already running for \(data) (\(socketPath))") }

do {
    var configuration = try EngineConfiguration.locate(dataDirectory: data)
    configuration.allowedRanges = allowedRanges
    configuration.allowedHostPorts = allowedHostPorts
    if let shutdownTimeout { configuration.shutdownTimeout = shutdownTimeout }
    let daemon = try await Daemon(configuration: configuration)
    Cgroup.removeLeftovers()
    let server = try await ControlServer.start(daemon: daemon, path: socketPath, group: MultiThreadedEventLoopGroup.singleton)
    FileHandle.standardError.write(Data("paddockd: serving \(socketPath)\n".utf8))
    // Plugins that were active come back while the socket already answers status.
    Task {
        let failures = await daemon.restore()
        for (id, error) in failures.sorted(by: { $0.key < $1.key }) {
            FileHandle.standardError.write(Data("paddockd: \(id) not restored: error \(error.code.rawValue): \(error.message)\n".utf8))
        }
    }

    // SIGTERM/SIGINT: graceful shutdown of the service group (see DaemonService).
    var logger = Logger(label: "paddockd")
    logger.logLevel = .notice
    let service = DaemonService(daemon: daemon, server: server, socketPath: socketPath)
    let group = ServiceGroup(
        configuration: .init(services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger))
    try await group.run()
    Cgroup.removeLeftovers(of: getpid())
    FileHandle.standardError.write(Data("paddockd: stopped\n".utf8))
} catch let error as PaddockError {
    fail("error \(error.code.rawValue): \(error.message)")
} catch {
    fail("\(error)")
}
