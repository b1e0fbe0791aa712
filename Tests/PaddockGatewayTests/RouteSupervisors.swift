import Foundation
import Glibc
import NIOCore
import NIOPosix
import PaddockCore
import PaddockRPC
import PaddockTestSupport

/// A real `paddockd` on a fresh data directory, for an in-process gateway:
/// started, and ready once it says it serves its socket.
final class RealSupervisor {
    let data: String
    var socket: String { data + "/paddockd.sock" }
    private let process: Background
    private var stopped = false

    init() throws {
        data = "/tmp/paddock-routes-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(data, 0o700)
        // paddockd says "serving" on standard error once the socket answers; the shell brings that to the pipe.
        process = try Background(
            URL(fileURLWithPath: "/bin/sh"),
            ["-c", #"exec "$0" --data "$1" 2>&1"#, ProcessRunner.product("paddockd").path, data]
        )
        var line = process.nextLine()
        while !line.isEmpty, !line.hasPrefix("paddockd: serving") { line = process.nextLine() }
        guard !line.isEmpty else { throw PaddockError(.pluginUnavailable, "paddockd ended before it served \(data)") }
    }

    /// Runs `paddock ARGUMENTS --data DATA` and returns its standard output.
    /// - Throws: when it exits with a failure.
    @discardableResult
    func paddock(_ arguments: String...) throws -> String {
        let result = try ProcessRunner.run(ProcessRunner.product("paddock"), arguments + ["--data", data])
        guard result.status == 0 else {
            throw PaddockError(.pluginUnavailable, "paddock \(arguments): \(result.stderr)")
        }
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Installs and activates an example plugin.
    func activate(_ example: String) throws {
        try paddock("install", RunningGateway.example(example))
        try paddock("activate", example)
    }

    /// Kills paddockd and removes its data; once.
    func stop() {
        guard !stopped else { return }
        stopped = true
        process.stop()
        try? FileManager.default.removeItem(atPath: data)
    }

    deinit {
        stop()
    }
}

/// A stand-in for `paddockd` on a Unix socket: each control method answers
/// what it was given (a result, or a coded error), whatever the params.
/// For answers a real supervisor cannot be made to give on demand.
final class StandInSupervisor {
    let socket: String
    private let server: any Channel

    init(answers: [String: Result<JSONValue, PaddockError>]) async throws {
        socket = "/tmp/paddock-stand-in-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).sock"
        let service = RPCService { method, _, reply in
            switch answers[method] {
            case .success(let result)?: reply.succeed(result.jsonBytes)
            case .failure(let error)?: reply.fail(RPCError(error))
            case nil: RPCService.none.request(method, [], reply)
            }
        }
        server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { _ = try RPCPeer.serve(channel, service: service) }
            }
            .bind(unixDomainSocketPath: socket, cleanupExistingSocketFile: true).get()
    }

    /// Stops serving and removes the socket file.
    func close() async throws {
        try await server.close()
        unlink(socket)
    }
}
