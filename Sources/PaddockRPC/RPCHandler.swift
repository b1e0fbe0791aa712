import NIOCore
public import PaddockCore

/// What a peer does with the other side's requests and notifications.
/// Called on the connection's event loop.
public struct RPCService: Sendable {
    /// Handles a request; must eventually answer through the reply.
    public var request: @Sendable (_ method: String, _ params: [UInt8], _ reply: RPCReply) -> Void
    /// Handles a notification (not `stream.chunk` or `$/cancel`, which the peer handles).
    public var notification: @Sendable (_ method: String, _ params: [UInt8]) -> Void
    /// The other side cancelled one of its requests.
    public var cancel: @Sendable (_ id: RPCID) -> Void

    public init(
        request: @escaping @Sendable (String, [UInt8], RPCReply) -> Void,
        notification: @escaping @Sendable (String, [UInt8]) -> Void = { _, _ in },
        cancel: @escaping @Sendable (RPCID) -> Void = { _ in }
    ) {
        self.request = request
        self.notification = notification
        self.cancel = cancel
    }

    /// Refuses every request with -32601 and ignores notifications.
    public static let none = RPCService { method, _, reply in
        reply.fail(RPCError(code: RPCError.methodNotFound, message: "method '\(method)' not found"))
    }
}

/// Answers one incoming request: partial results, then one result or error.
public struct RPCReply: Sendable {
    public let id: RPCID
    let channel: any Channel

    /// Sends a partial result as a `stream.chunk` notification.
    public func chunk(_ value: JSONValue) {
        chunk(raw: value.jsonBytes)
    }

    /// Sends a partial result that is already JSON bytes.
    public func chunk(raw: [UInt8]) {
        let params = Array(#"{"id":\#(id.jsonValue.jsonText),"chunk":"#.utf8) + raw + [UInt8(ascii: "}")]
        write(.notification(method: "stream.chunk", params: params))
    }

    /// The backpressure of the connection the reply goes out on (it needs a ``WritabilityWatcher``).
    public var backpressure: Backpressure { Backpressure(channel: channel) }

    public func succeed(_ result: [UInt8]) {
        write(.response(id: id, result: result))
    }

    public func fail(_ error: RPCError) {
        write(.failure(id: id, error: error))
    }

    private func write(_ message: RPCMessage) {
        let bytes = RPCCodec.encode(message)
        channel.writeAndFlush(channel.allocator.buffer(bytes: bytes), promise: nil)
    }
}

/// The JSON-RPC state of one connection: calls in flight matched by id,
/// deadlines, streaming and cancellation. Lives on the channel's event loop.
final class RPCHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    struct PendingCall {
        var promise: EventLoopPromise<[UInt8]>
        var onChunk: (@Sendable ([UInt8]) -> Void)?
        var deadline: Scheduled<Void>?
        var cancellation: Cancellation?
    }

    /// What happens after a call's deadline: the other side has `grace` to
    /// answer the `$/cancel`, else `unhonoured` runs.
    struct Cancellation {
        var grace: TimeAmount
        var unhonoured: @Sendable () -> Void
    }

    let service: RPCService
    private var pending: [RPCID: PendingCall] = [:]
    /// Calls past their deadline whose cancellation is not answered yet.
    private var abandoned: [RPCID: Scheduled<Void>] = [:]
    private var nextID = 1
    private var context: ChannelHandlerContext?
    /// Why the connection ended, when it ended with an error.
    private(set) var failure: PaddockError?

    init(service: RPCService) {
        self.service = service
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    // MARK: Outgoing

    @discardableResult
    func call(
        _ method: String,
        params: [UInt8],
        timeout: TimeAmount?,
        onChunk: (@Sendable ([UInt8]) -> Void)?,
        cancellation: Cancellation?,
        promise: EventLoopPromise<[UInt8]>
    ) -> RPCID? {
        guard let context, context.channel.isActive else {
            promise.fail(failure ?? PaddockError(.pluginUnavailable, "the connection is closed"))
            return nil
        }
        let id = RPCID.number(nextID)
        nextID += 1
        var call = PendingCall(promise: promise, onChunk: onChunk, cancellation: cancellation)
        if let timeout {
            call.deadline = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [weak self] in
                self?.expire(id, after: timeout)
            }
        }
        pending[id] = call
        send(.request(id: id, method: method, params: params), context: context)
        return id
    }

    func notify(_ method: String, params: [UInt8]) {
        guard let context else { return }
        send(.notification(method: method, params: params), context: context)
    }

    /// Fails a call that ran past its deadline with 204 and asks the other side to stop it.
    private func expire(_ id: RPCID, after timeout: TimeAmount) {
        let seconds = Double(timeout.nanoseconds) / 1e9
        cancel(id, error: PaddockError(.timedOut, "the call did not finish within \(seconds) s", details: ["timeout_seconds": String(seconds)]))
    }

    /// Fails a call in flight with `error` and asks the other side to stop it.
    func cancel(_ id: RPCID, error: PaddockError) {
        guard let call = pending.removeValue(forKey: id) else { return }
        call.deadline?.cancel()
        if let cancellation = call.cancellation, let context {
            abandoned[id] = context.eventLoop.assumeIsolated().scheduleTask(in: cancellation.grace) { [weak self] in
                self?.abandoned[id] = nil
                cancellation.unhonoured()
            }
        }
        call.promise.fail(error)
        notify("$/cancel", params: JSONValue.object(["id": id.jsonValue]).jsonBytes)
    }

    private func send(_ message: RPCMessage, context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: RPCCodec.encode(message))), promise: nil)
    }

    // MARK: Incoming

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        let decoded: (messages: [RPCMessage], isBatch: Bool)
        do {
            decoded = try RPCCodec.withBytes(Array(frame.readableBytesView)) { buffer throws(RPCError) in
                try RPCCodec.decode(buffer)
            }
        } catch {
            send(.failure(id: nil, error: error), context: context)
            fail(with: error.paddockError, context: context)
            return
        }
        for message in decoded.messages { dispatch(message, context: context) }
    }

    private func dispatch(_ message: RPCMessage, context: ChannelHandlerContext) {
        switch message {
        case .request(let id, let method, let params):
            service.request(method, params, RPCReply(id: id, channel: context.channel))
        case .notification("stream.chunk", let params):
            guard let (id, chunk) = Self.chunk(params), let onChunk = pending[id]?.onChunk else { return }
            onChunk(chunk)
        case .notification("$/cancel", let params):
            if let id = (try? JSONValue(parsing: params))?["id"].flatMap(RPCID.init) { service.cancel(id) }
        case .notification(let method, let params):
            service.notification(method, params)
        case .response(let id, let result):
            guard let call = pending.removeValue(forKey: id) else { return settleAbandoned(id) }
            call.deadline?.cancel()
            call.promise.succeed(result)
        case .failure(let id?, let error):
            guard let call = pending.removeValue(forKey: id) else { return settleAbandoned(id) }
            call.deadline?.cancel()
            call.promise.fail(error.paddockError)
        case .failure(nil, let error):
            // The other side could not parse what we sent: nothing to match it to.
            fail(with: error.paddockError, context: context)
        }
    }

    /// A late answer to a cancelled call: the other side honoured the cancellation.
    private func settleAbandoned(_ id: RPCID) {
        abandoned.removeValue(forKey: id)?.cancel()
    }

    /// `{"id": ID, "chunk": VALUE}` with the chunk kept raw.
    private static func chunk(_ params: [UInt8]) -> (RPCID, [UInt8])? {
        params.withUnsafeBytes { buffer in
            guard let (members, raw) = try? JSONParser.parseObject(buffer, keepingRaw: ["chunk"]),
                let id = members["id"].flatMap(RPCID.init), let range = raw["chunk"]
            else { return nil }
            return (id, Array(buffer[range]))
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A frame the decoder refused is a protocol failure (202); an I/O error
        // (a reset from a dying peer) only ends the connection.
        if let protocolError = error as? PaddockError {
            fail(with: protocolError, context: context)
        } else {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(failure ?? PaddockError(.pluginCrashed, "the connection closed"))
        context.fireChannelInactive()
    }

    /// Records why the connection failed, fails every call in flight and closes it.
    private func fail(with error: PaddockError, context: ChannelHandlerContext) {
        if failure == nil { failure = error }
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: PaddockError) {
        let calls = pending
        pending.removeAll()
        for timer in abandoned.values { timer.cancel() }
        abandoned.removeAll()
        for call in calls.values {
            call.deadline?.cancel()
            call.promise.fail(error)
        }
    }
}

