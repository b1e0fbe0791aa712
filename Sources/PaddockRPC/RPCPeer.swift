public import NIOCore
import NIOPosix
public import PaddockCore

/// One end of a JSON-RPC 2.0 connection: both sides call and notify each
/// other concurrently over newline-delimited frames.
public final class RPCPeer: Sendable {
    /// The default maximum frame size: 16 MiB.
    public static let defaultMaximumFrameSize = 16 << 20

    public let channel: any Channel
    private let handler: NIOLoopBound<RPCHandler>

    private init(channel: any Channel, handler: NIOLoopBound<RPCHandler>) {
        self.channel = channel
        self.handler = handler
    }

    /// A peer on an already connected stream socket (one end of a socketpair).
    /// The peer owns the descriptor from then on.
    public static func connect(
        socket: Int32,
        service: RPCService,
        maximumFrameSize: Int = defaultMaximumFrameSize,
        group: any EventLoopGroup
    ) async throws -> RPCPeer {
        try await connect(socket: socket, service: service, maximumFrameSize: maximumFrameSize, on: group.next()).get()
    }

    /// A peer on an already connected stream socket, served on `eventLoop`.
    public static func connect(
        socket: Int32,
        service: RPCService,
        maximumFrameSize: Int = defaultMaximumFrameSize,
        on eventLoop: any EventLoop
    ) -> EventLoopFuture<RPCPeer> {
        ClientBootstrap(group: eventLoop)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FlushBatcher())
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumFrameSize: maximumFrameSize)))
                    try channel.pipeline.syncOperations.addHandler(RPCHandler(service: service))
                }
            }
            .withConnectedSocket(socket)
            .flatMapThrowing { channel in
                let handler = try channel.pipeline.syncOperations.handler(type: RPCHandler.self)
                return RPCPeer(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
            }
    }

    /// Sets up JSON-RPC on a channel a server accepted; call it on the
    /// channel's event loop (in a child channel initializer).
    public static func serve(
        _ channel: any Channel,
        service: RPCService,
        maximumFrameSize: Int = defaultMaximumFrameSize
    ) throws -> RPCPeer {
        let handler = RPCHandler(service: service)
        try channel.pipeline.syncOperations.addHandler(FlushBatcher())
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineFrameDecoder(maximumFrameSize: maximumFrameSize)))
        try channel.pipeline.syncOperations.addHandler(handler)
        return RPCPeer(channel: channel, handler: NIOLoopBound(handler, eventLoop: channel.eventLoop))
    }

    /// Calls `method` on the other side.
    /// - Parameters:
    ///   - params: the raw JSON object or array, or empty for none.
    ///   - timeout: the call's deadline; on expiry the call fails with 204
    ///     and the other side gets `$/cancel`.
    ///   - onChunk: receives each `stream.chunk` of the call, raw, on the event loop.
    ///   - cancellationGrace: after the deadline, how long the other side has
    ///     to answer the `$/cancel` before `onUnhonouredCancel` runs.
    /// - Returns: the raw JSON result.
    /// - Throws: ``PaddockError``: the callee's coded error, 204 on timeout,
    ///   202 for a broken connection.
    public func call(
        _ method: String,
        params: [UInt8] = [],
        timeout: TimeAmount? = nil,
        onChunk: (@Sendable ([UInt8]) -> Void)? = nil,
        cancellationGrace: TimeAmount? = nil,
        onUnhonouredCancel: (@Sendable () -> Void)? = nil
    ) -> EventLoopFuture<[UInt8]> {
        let promise = channel.eventLoop.makePromise(of: [UInt8].self)
        let handler = self.handler
        let cancellation = cancellationGrace.map { grace in
            RPCHandler.Cancellation(grace: grace, unhonoured: onUnhonouredCancel ?? {})
        }
        if channel.eventLoop.inEventLoop {
            handler.value.call(method, params: params, timeout: timeout, onChunk: onChunk, cancellation: cancellation, promise: promise)
        } else {
            channel.eventLoop.execute {
                handler.value.call(method, params: params, timeout: timeout, onChunk: onChunk, cancellation: cancellation, promise: promise)
            }
        }
        return promise.futureResult
    }

    /// Calls `method` and waits for its result. Cancelling the waiting task
    /// cancels the call: it fails at once with 204 and the other side gets `$/cancel`.
    /// - Parameter registerCancel: receives a closure that cancels the call
    ///   the same way, for a caller that learns of its end otherwise than by
    ///   task cancellation (a client's connection closing).
    public func perform(
        _ method: String,
        params: [UInt8] = [],
        timeout: TimeAmount? = nil,
        onChunk: (@Sendable ([UInt8]) -> Void)? = nil,
        registerCancel: CancelRegistration? = nil
    ) async throws -> [UInt8] {
        let eventLoop = channel.eventLoop
        let promise = eventLoop.makePromise(of: [UInt8].self)
        let handler = self.handler
        let progress = NIOLoopBoundBox.makeBoxSendingValue(CallProgress.notStarted, eventLoop: eventLoop)
        let cancelled = PaddockError(.timedOut, "the call was cancelled by its caller")
        let cancel: @Sendable () -> Void = {
            eventLoop.execute {
                if case .started(let id) = progress.value { handler.value.cancel(id, error: cancelled) }
                progress.value = .cancelled
            }
        }
        registerCancel?(cancel)
        return try await withTaskCancellationHandler {
            let start: @Sendable () -> Void = {
                if case .cancelled = progress.value { return promise.fail(cancelled) }
                if let id = handler.value.call(method, params: params, timeout: timeout, onChunk: onChunk, cancellation: nil, promise: promise) {
                    progress.value = .started(id)
                }
            }
            if eventLoop.inEventLoop { start() } else { eventLoop.execute(start) }
            return try await promise.futureResult.get()
        } onCancel: {
            cancel()
        }
    }

    /// Hands a caller the closure that cancels its call.
    public typealias CancelRegistration = @Sendable (_ cancel: @escaping @Sendable () -> Void) -> Void

    private enum CallProgress {
        case notStarted
        case started(RPCID)
        case cancelled
    }

    /// Starts a call from the channel's event loop and returns its id, for
    /// ``cancel(_:error:)``; nil when the connection is closed (the promise has failed).
    public func startCall(
        _ method: String,
        params: [UInt8],
        timeout: TimeAmount?,
        onChunk: (@Sendable ([UInt8]) -> Void)?,
        cancellationGrace: TimeAmount?,
        onUnhonouredCancel: (@Sendable () -> Void)?,
        promise: EventLoopPromise<[UInt8]>
    ) -> RPCID? {
        let cancellation = cancellationGrace.map { RPCHandler.Cancellation(grace: $0, unhonoured: onUnhonouredCancel ?? {}) }
        return handler.value.call(method, params: params, timeout: timeout, onChunk: onChunk, cancellation: cancellation, promise: promise)
    }

    /// Cancels a call in flight, from the channel's event loop: it fails with
    /// `error` now, and the other side gets `$/cancel` (and the grace of the call to honour it).
    public func cancel(_ id: RPCID, error: PaddockError) {
        handler.value.cancel(id, error: error)
    }

    /// Why the connection failed, read on the channel's event loop.
    public var failureOnLoop: PaddockError? { handler.value.failure }

    /// Sends a notification.
    public func notify(_ method: String, params: [UInt8] = []) {
        let handler = self.handler
        if channel.eventLoop.inEventLoop {
            handler.value.notify(method, params: params)
        } else {
            channel.eventLoop.execute { handler.value.notify(method, params: params) }
        }
    }

    /// Why the connection failed (bad frame, bad JSON), once it has.
    public func failure() -> EventLoopFuture<PaddockError?> {
        let handler = self.handler
        return channel.eventLoop.submit { handler.value.failure }
    }

    /// Completes when the connection has closed.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    public func close() {
        channel.close(promise: nil)
    }
}
