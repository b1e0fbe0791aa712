import Glibc
public import NIOCore
import PaddockCore
public import ServiceLifecycle

/// `paddockd` as a service of a ServiceGroup: it runs until graceful
/// shutdown (SIGTERM, SIGINT), then stops accepting without dropping the
/// connections whose calls are running, lets those calls finish up to a
/// deadline, and stops every plugin.
public struct DaemonService: Service {
    let daemon: Daemon
    let server: any Channel
    let socketPath: String
    let drainTimeout: Duration

    public init(daemon: Daemon, server: any Channel, socketPath: String, drainTimeout: Duration = .seconds(10)) {
        self.daemon = daemon
        self.server = server
        self.socketPath = socketPath
        self.drainTimeout = drainTimeout
    }

    public func run() async throws {
        try? await gracefulShutdown()
        unlink(socketPath)
        try? await server.setOption(ChannelOptions.autoRead, value: false).get()
        await daemon.shutdown(drainTimeout: drainTimeout)
        try? await server.close()
    }
}
