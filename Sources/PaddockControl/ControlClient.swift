import Glibc
public import NIOCore
import NIOPosix
public import PaddockCore
public import PaddockRPC

/// A connection to `paddockd`'s control socket, for the `paddock` CLI and the gateway.
public final class ControlClient: Sendable {
    private let peer: RPCPeer

    private init(peer: RPCPeer) {
        self.peer = peer
    }

    /// Connects to the daemon serving `dataDirectory`.
    /// - Throws: ``PaddockError`` 306 with one line saying how to start the
    ///   daemon when none is running there.
    public static func connect(dataDirectory: String) async throws -> ControlClient {
        guard let client = await connect(socketPath: dataDirectory + "/paddockd.sock") else {
            throw PaddockError(
                .pluginUnavailable,
                "paddockd is not running for \(dataDirectory); start it with: paddockd --data \(dataDirectory)")
        }
        return client
    }

    /// Connects to the control socket at `socketPath`, or nil when nothing
    /// serves it (refused at once: no daemon, or a stale socket file).
    public static func connect(socketPath: String) async -> ControlClient? {
        guard let fd = connectSocket(socketPath),
            let peer = try? await RPCPeer.connect(socket: fd, service: .none, group: MultiThreadedEventLoopGroup.singleton)
        else { return nil }
        return ControlClient(peer: peer)
    }

    /// Connects to the control socket at `socketPath` with the connection
    /// served on `eventLoop`, for calls started there (``startCall(_:params:timeout:promise:)``).
    public static func connect(socketPath: String, on eventLoop: any EventLoop) async -> ControlClient? {
        guard let fd = connectSocket(socketPath),
            let peer = try? await RPCPeer.connect(socket: fd, service: .none, on: eventLoop).get()
        else { return nil }
        return ControlClient(peer: peer)
    }

    /// The event loop the connection is served on.
    public var eventLoop: any EventLoop { peer.channel.eventLoop }

    /// Starts a call from the connection's event loop, with params already
    /// JSON, and returns its id for ``cancel(_:)``; nil when the connection
    /// is closed (the promise has failed). The promise gets the result's JSON bytes.
    public func startCall(
        _ method: ControlMethod, params: [UInt8], timeout: Duration?, promise: EventLoopPromise<[UInt8]>
    ) -> RPCID? {
        peer.startCall(
            method.rawValue, params: params, timeout: timeout.map(TimeAmount.init), onChunk: nil, cancellationGrace: nil,
            onUnhonouredCancel: nil, promise: promise)
    }

    /// Cancels a call started with ``startCall(_:params:timeout:promise:)``,
    /// from the connection's event loop: it fails now and paddockd passes `$/cancel` on.
    public func cancel(_ id: RPCID) {
        peer.cancel(id, error: PaddockError(.timedOut, "the call was cancelled by its caller"))
    }

    /// Whether the connection is still open.
    public var isConnected: Bool { peer.channel.isActive }

    /// True when a daemon answers on `path`.
    public static func isServing(_ path: String) -> Bool {
        guard let fd = connectSocket(path) else { return false }
        Glibc.close(fd)
        return true
    }

    /// Calls a control method with its params (a ``ControlRequest``'s
    /// `params`); `onChunk` receives streamed chunks.
    /// - Parameters:
    ///   - requestID: the outside request the call serves (``RequestID``),
    ///     sent as `request_id`: every method takes one, and paddockd logs it with the call.
    ///   - timeout: fail with 204 when there is no answer by then.
    /// - Returns: the result's JSON bytes.
    public func call(
        _ method: ControlMethod, _ params: JSONValue = [:], requestID: String? = nil, timeout: Duration? = nil,
        onChunk: (@Sendable ([UInt8]) -> Void)? = nil, registerCancel: RPCPeer.CancelRegistration? = nil
    ) async throws -> [UInt8] {
        var params = params
        if let requestID, case .object(var members) = params {
            members[RequestID.parameter] = .string(requestID)
            params = .object(members)
        }
        return try await peer.perform(
            method.rawValue, params: params.jsonBytes, timeout: timeout.map(TimeAmount.init), onChunk: onChunk,
            registerCancel: registerCancel)
    }

    /// Stops or resumes reading the connection: a consumer of streamed
    /// chunks that cannot keep up pauses the daemon's writes this way.
    public func setReading(_ reading: Bool) {
        peer.channel.setOption(ChannelOptions.autoRead, value: reading).whenFailure { _ in }
    }

    public func close() {
        peer.close()
    }

    private static func connectSocket(_ path: String) -> Int32? {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return nil }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            Glibc.close(fd)
            return nil
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in bytes.enumerated() { buffer[index] = byte }
        }
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            return nil
        }
        return fd
    }
}
