import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Closes a connection whose request head has not fully arrived within
/// `timeout` of the connection opening, or of the first byte of the next
/// request on a kept-alive connection: a client sending its headers a byte
/// at a time (slowloris) cannot pin a connection. A kept-alive connection
/// with nothing to say is left to the idle timeout.
///
/// It sits after the HTTP decoder (it sees request heads) and puts a
/// watcher of raw bytes at the front of the pipeline (it sees a request begin).
final class HeaderTimeout: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var timer: Scheduled<Void>?
    /// Requests whose head arrived and whose response has not ended.
    private var open = 0
    /// Between requests: the next byte starts the clock.
    private var idle = false

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        let watcher = RequestStartWatcher { [weak self] in self?.bytesArrived(context) }
        try? context.pipeline.syncOperations.addHandler(watcher, position: .first)
        arm(context)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) {
            open += 1
            idle = false
            timer?.cancel()
            timer = nil
        }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) {
            open = max(0, open - 1)
            if open == 0 { idle = true }
        }
        context.write(data, promise: promise)
    }

    private func bytesArrived(_ context: ChannelHandlerContext) {
        guard idle, open == 0 else { return }
        idle = false
        arm(context)
    }

    private func arm(_ context: ChannelHandlerContext) {
        timer?.cancel()
        let channel = context.channel
        timer = context.eventLoop.scheduleTask(in: timeout) { channel.close(promise: nil) }
    }
}

/// Tells when bytes arrive, before any decoding.
private final class RequestStartWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let arrived: () -> Void

    init(arrived: @escaping () -> Void) {
        self.arrived = arrived
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        arrived()
        context.fireChannelRead(data)
    }
}
