import Foundation
import Glibc
import Logging
import NIOCore
import NIOPosix
import PaddockControl
import PaddockCore
import PaddockLogging
import PaddockPackage
import PaddockSandbox
import PaddockSupervisor
import ServiceLifecycle
import UnixSignals

// paddockd --data DIR: the supervisor daemon. Serves <data>/paddockd.sock,
// brings back the plugins that were active, and on SIGTERM or SIGINT lets
// calls in flight finish and stops the plugins before it exits 0. Its log
// goes to standard error, one line per event (LineLogHandler).

/// A usage or startup error: one line, exit 1.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("paddockd: \(message)\n".utf8))
    exit(1)
}

var arguments = CommandLine.arguments.dropFirst()
var data = ProcessInfo.processInfo.environment["PADDOCK_DATA"] ?? "./.paddock"
var allowedRanges: [String: [String]] = [:]
var allowedHostPorts: [String: [Int]] = [:]
var shutdownTimeout: Duration?
var callTimeout: Duration?
var logLevel: String?
var safe = false
var configPath: String?
var fileLimits = FileStore.Limits()
let usage =
    "usage: paddockd [--data DIR] [--config FILE] [--shutdown-timeout SECONDS] [--call-timeout SECONDS] [--allow-range PLUGIN=CIDR]... [--allow-host-port PLUGIN=PORT]... [--files-quota SIZE] [--file-max-size SIZE] [--file-ttl SECONDS] [--log-level LEVEL] [--safe]   (data: default ./.paddock, or PADDOCK_DATA; config: default DATA/paddockd.yaml, its `packages:` section says which packages may be installed; level: trace, debug, info (default, or PADDOCK_LOG_LEVEL), notice, warning, error, critical; --safe: start no plugin, leave the active ones inactive)"
while let argument = arguments.popFirst() {
    switch argument {
    case "--data":
        guard let value = arguments.popFirst() else { fail("--data needs a directory") }
        data = value
    case "--config":
        guard let value = arguments.popFirst() else { fail("--config needs a file") }
        configPath = value
    case "--shutdown-timeout":
        // How long a stopping plugin has between `shutdown` and its kill.
        guard let value = arguments.popFirst(), let seconds = Double(value), seconds > 0, seconds <= 3600 else {
            fail("error 102: --shutdown-timeout takes seconds, more than 0 and at most 3600")
        }
        shutdownTimeout = .milliseconds(Int64(seconds * 1000))
    case "--call-timeout":
        // A call's deadline (default 30 s): past it the caller gets 204 and the plugin $/cancel.
        guard let value = arguments.popFirst(), let seconds = Double(value), seconds > 0, seconds <= 86_400 else {
            fail("error 102: --call-timeout takes seconds, more than 0 and at most 86400")
        }
        callTimeout = .milliseconds(Int64(seconds * 1000))
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
    case "--files-quota", "--file-max-size":
        // What one tenant's files may take together (default 2GiB); the largest file (default 1GiB).
        guard let value = arguments.popFirst(), let size = try? ByteSize(parsing: value), size.bytes > 0 else {
            fail("error 102: \(argument) takes a size, such as 512MiB")
        }
        if argument == "--files-quota" { fileLimits.tenantQuota = size.bytes } else { fileLimits.maximumFileSize = size.bytes }
    case "--file-ttl":
        // How long an uploaded file (or an unfinished upload) is kept (default a day).
        guard let value = arguments.popFirst(), let seconds = Int(value), seconds > 0, seconds <= 365 * 86_400 else {
            fail("error 102: --file-ttl takes seconds, more than 0 and at most a year")
        }
        fileLimits.lifetime = seconds
    case "--log-level":
        guard let value = arguments.popFirst() else { fail("--log-level needs a level") }
        logLevel = value
    case "--safe":
        // Recovery: no plugin starts; the active ones are left inactive.
        safe = true
    case "--help", "-h":
        print(usage)
        exit(0)
    default: fail("unknown option \(argument); \(usage)")
    }
}
do {
    LineLogHandler.bootstrap(level: try Logger.Level.configured(option: logLevel))
} catch {
    fail("error \(error.code.rawValue): \(error.message)")
}
let logger = Logger(label: "paddockd")
// `paddockd: serving PATH` and `paddockd: stopped` at any level: scripts wait for them.
var announcer = logger
announcer.logLevel = .trace
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
    if let callTimeout { configuration.callTimeout = callTimeout }
    configuration.files = fileLimits
    configuration.logger = logger
    let policyPath = configPath ?? data + "/paddockd.yaml"
    if let configPath, FileSystem.kind(of: configPath) == nil { fail("error 101: \(configPath) does not exist") }
    let daemon = try await Daemon(configuration: configuration, packagePolicy: try PackagePolicy.load(path: policyPath))
    Cgroup.removeLeftovers()
    let server = try await ControlServer.start(daemon: daemon, path: socketPath, group: MultiThreadedEventLoopGroup.singleton)
    announcer.notice("serving \(socketPath)")
    // A daemon that keeps dying soon after it starts is in a crash loop,
    // perhaps one a plugin causes: then it starts safe (see CrashLoopGuard).
    let starts = CrashLoopGuard(dataDirectory: data)
    let unclean = starts.begin()
    if !safe, unclean >= CrashLoopGuard.limit {
        announcer.warning("the last \(unclean) starts ended without a clean stop: starting in safe mode")
        safe = true
    }
    // Plugins that were active come back while the socket already answers status.
    Task { [safe] in _ = await daemon.restore(safe: safe) }
    Task {
        try await Task.sleep(for: CrashLoopGuard.settleAfter)
        starts.settled()
    }

    // SIGTERM/SIGINT: graceful shutdown of the service group (see DaemonService).
    // Its own debug lines (each service described whole) show at trace only.
    var lifecycleLogger = logger
    if logger.logLevel == .debug { lifecycleLogger.logLevel = .info }
    let service = DaemonService(daemon: daemon, server: server, socketPath: socketPath)
    let group = ServiceGroup(
        configuration: .init(
            services: [.init(service: service)], gracefulShutdownSignals: [.sigterm, .sigint], logger: lifecycleLogger))
    try await group.run()
    starts.settled()
    Cgroup.removeLeftovers(of: getpid())
    announcer.notice("stopped")
} catch let error as PaddockError {
    fail("error \(error.code.rawValue): \(error.message)")
} catch {
    fail("\(error)")
}
