import NIOCore
import NIOHTTPTypes
import PaddockRPC
import Synchronization

/// Cancels the call a connection is waiting for when its client goes away
/// (the connection closes, or its input ends): the supervisor then sends the
/// plugin `$/cancel`. One per connection, after the HTTP decoder; HTTP/1
/// serves one request at a time on it.
final class DisconnectWatcher: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart

    /// The watcher of each open connection, by channel.
    private static let watchers = Mutex<[ObjectIdentifier: DisconnectWatcher]>([:])
    private let running = Mutex<(@Sendable () -> Void)?>(nil)
    private let gone = Atomic<Bool>(false)

    func handlerAdded(context: ChannelHandlerContext) {
        let key = ObjectIdentifier(context.channel)
        Self.watchers.withLock { $0[key] = self }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        clientWent(ObjectIdentifier(context.channel))
    }

    func channelInactive(context: ChannelHandlerContext) {
        clientWent(ObjectIdentifier(context.channel))
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { clientWent(ObjectIdentifier(context.channel)) }
        context.fireUserInboundEventTriggered(event)
    }

    private func clientWent(_ key: ObjectIdentifier) {
        _ = Self.watchers.withLock { $0.removeValue(forKey: key) }
        gone.store(true, ordering: .relaxed)
        running.withLock { cancel in
            defer { cancel = nil }
            return cancel
        }?()
    }

    /// Runs `body` with a registration for the cancel of its call: the
    /// client of `channel` going away during `body` runs that cancel.
    static func whileConnected<T: Sendable>(
        _ channel: any Channel, _ body: (_ registerCancel: RPCPeer.CancelRegistration?) async throws -> T
    ) async throws -> T {
        guard let watcher = watchers.withLock({ $0[ObjectIdentifier(channel)] }) else { return try await body(nil) }
        defer { watcher.running.withLock { $0 = nil } }
        return try await body { cancel in
            watcher.running.withLock { $0 = cancel }
            if watcher.gone.load(ordering: .relaxed) { cancel() }
        }
    }
}
