import Dispatch
import Foundation
import Glibc
import NIOCore
import NIOPosix
import PaddockCore
import PaddockSandbox
import PaddockSupervisor

// paddockd --data DIR: the supervisor daemon. Serves <data>/paddockd.sock,
// brings back the plugins that were active, and on SIGTERM or SIGINT stops
// them all before it exits.

/// The signal handlers, kept for the process's lifetime. Only the main
/// code touches the array.
nonisolated(unsafe) var signalSources: [any DispatchSourceSignal] = []

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("paddockd: \(message)\n".utf8))
    exit(1)
}

var arguments = CommandLine.arguments.dropFirst()
var data = ProcessInfo.processInfo.environment["PADDOCK_DATA"] ?? "./.paddock"
while let argument = arguments.popFirst() {
    switch argument {
    case "--data":
        guard let value = arguments.popFirst() else { fail("--data needs a directory") }
        data = value
    case "--help", "-h":
        print("usage: paddockd [--data DIR]   (default ./.paddock, or PADDOCK_DATA)")
        exit(0)
    default: fail("unknown option \(argument); usage: paddockd [--data DIR]")
    }
}
mkdir(data, 0o711)
guard let resolved = realpath(data, nil) else { fail("cannot use the data directory \(data)") }
data = String(cString: resolved)
free(resolved)
let socketPath = data + "/paddockd.sock"
if ControlClient.isServing(socketPath) { fail("already running for \(data) (\(socketPath))") }

do {
    let configuration = try EngineConfiguration.locate(dataDirectory: data)
    let daemon = try Daemon(configuration: configuration)
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

    // SIGTERM/SIGINT: stop accepting, stop the plugins (shutdown, then kill), leave.
    for signalNumber in [SIGTERM, SIGINT] {
        signal(signalNumber, SIG_IGN)
        let source = DispatchSource.makeSignalSource(signal: signalNumber, queue: .main)
        source.setEventHandler {
            Task {
                // Stop accepting (closing the listener would also drop the
                // connections whose calls are still running), drain, stop.
                unlink(socketPath)
                try? await server.setOption(ChannelOptions.autoRead, value: false)
                await daemon.shutdown()
                FileHandle.standardError.write(Data("paddockd: stopped\n".utf8))
                exit(0)
            }
        }
        source.resume()
        signalSources.append(source)
    }
    try await server.closeFuture.get()
} catch let error as PaddockError {
    fail("error \(error.code.rawValue): \(error.message)")
} catch {
    fail("\(error)")
}
