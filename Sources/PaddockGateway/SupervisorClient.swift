public import NIOCore
public import PaddockControl
public import PaddockCore
public import PaddockRPC
import Synchronization

/// The gateway's connection to `paddockd`'s control socket. It connects on
/// demand and again after the supervisor restarts; while the supervisor is
/// down, a call fails at once with 306 instead of waiting.
public actor SupervisorClient {
    public let socketPath: String
    /// How long a call may wait for the supervisor's answer (then 204).
    public let timeout: Duration
    private var client: ControlClient?
    /// A connection per event loop of the gateway, for calls started on that
    /// loop with no thread hop (``connection(on:)``).
    private let loopClients = Mutex<[ObjectIdentifier: LoopClient]>([:])

    private enum LoopClient {
        case connecting
        case connected(ControlClient)
    }

    public init(socketPath: String, timeout: Duration = .seconds(60)) {
        self.socketPath = socketPath
        self.timeout = timeout
    }

    /// Calls a control method; `onChunk` receives streamed chunks.
    /// - Parameter requestID: the HTTP request the call serves, for paddockd's log.
    /// - Throws: the supervisor's coded error; 306 when it cannot be reached
    ///   or the connection breaks during the call.
    public func call(
        _ method: ControlMethod, _ params: JSONValue = [:], requestID: String? = nil, onChunk: (@Sendable ([UInt8]) -> Void)? = nil,
        registerCancel: RPCPeer.CancelRegistration? = nil
    ) async throws -> [UInt8] {
        let client = try await connected()
        do {
            return try await client.call(
                method, params, requestID: requestID, timeout: timeout, onChunk: onChunk, registerCancel: registerCancel)
        } catch let error as PaddockError where !client.isConnected {
            if self.client === client { self.client = nil }
            throw Self.wentAway(error)
        }
    }

    /// The error of a call whose connection broke: 306, retry in a second.
    public nonisolated static func wentAway(_ error: PaddockError) -> PaddockError {
        PaddockError(.pluginUnavailable, "the supervisor went away during the call (\(error.message))", details: ["retry_after": "1"])
    }

    /// The open connection served on `eventLoop`, or nil while there is none:
    /// then a connection is made in the background, and the caller takes the
    /// general path this once.
    public nonisolated func connection(on eventLoop: any EventLoop) -> ControlClient? {
        let key = ObjectIdentifier(eventLoop)
        let (client, start) = loopClients.withLock { clients -> (ControlClient?, Bool) in
            switch clients[key] {
            case .connected(let client) where client.isConnected: return (client, false)
            case .connecting: return (nil, false)
            default:
                clients[key] = .connecting
                return (nil, true)
            }
        }
        guard start else { return client }
        let socketPath = self.socketPath
        Task {
            let client = await ControlClient.connect(socketPath: socketPath, on: eventLoop)
            loopClients.withLock { $0[key] = client.map(LoopClient.connected) }
        }
        return nil
    }

    /// Calls a streaming method on a connection of its own (with `timeout`
    /// over the client's own: an install that builds an environment is long), so that pausing
    /// it (a consumer that cannot keep up, see ``ControlClient/setReading(_:)``)
    /// holds up no other call. `connected` gets the connection first.
    public nonisolated func streamingCall(
        _ method: ControlMethod, _ params: JSONValue, timeout: Duration? = nil, onChunk: @escaping @Sendable ([UInt8]) -> Void,
        connected: @Sendable (ControlClient) -> Void
    ) async throws -> [UInt8] {
        guard let client = await ControlClient.connect(socketPath: socketPath) else { throw unreachable() }
        defer { client.close() }
        connected(client)
        return try await client.call(method, params, timeout: timeout ?? self.timeout, onChunk: onChunk)
    }

    /// A call's result as JSON.
    public func json(
        _ method: ControlMethod, _ params: JSONValue = [:], requestID: String? = nil, registerCancel: RPCPeer.CancelRegistration? = nil
    ) async throws -> JSONValue {
        try JSONValue(parsing: try await call(method, params, requestID: requestID, registerCancel: registerCancel))
    }

    /// True when the supervisor answers now.
    public func isReachable() async -> Bool {
        (try? await call(.list)) != nil
    }

    private nonisolated func unreachable() -> PaddockError {
        PaddockError(
            .pluginUnavailable, "the supervisor is not reachable at \(socketPath); it may be restarting", details: ["retry_after": "1"])
    }

    private func connected() async throws(PaddockError) -> ControlClient {
        if let client, client.isConnected { return client }
        client?.close()
        client = nil
        guard let fresh = await ControlClient.connect(socketPath: socketPath) else { throw unreachable() }
        if let client, client.isConnected {
            // Another call connected while this one did.
            fresh.close()
            return client
        }
        client = fresh
        return fresh
    }
}
