public import NIOCore
import Synchronization

/// Where a stream's chunks go, as a source needs to know it: whether the
/// destination takes more now, and a way to hear when it does again. A
/// source that is told "not writable" stops reading until then.
public struct Backpressure: Sendable {
    public var isWritable: @Sendable () -> Bool
    /// Runs the callback once the destination is writable again (or closed).
    public var whenWritable: @Sendable (_ callback: @escaping @Sendable () -> Void) -> Void

    public init(isWritable: @escaping @Sendable () -> Bool, whenWritable: @escaping @Sendable (@escaping @Sendable () -> Void) -> Void) {
        self.isWritable = isWritable
        self.whenWritable = whenWritable
    }

    /// The backpressure of a channel with a ``WritabilityWatcher`` in its pipeline.
    public init(channel: any Channel) {
        self.init(
            isWritable: { channel.isWritable },
            whenWritable: { callback in
                channel.pipeline.handler(type: WritabilityWatcher.self).whenComplete { result in
                    switch result {
                    case .success(let watcher): watcher.whenWritable(callback, on: channel)
                    case .failure: callback()
                    }
                }
            })
    }
}

/// Tells waiters when its channel becomes writable again, or closes.
public final class WritabilityWatcher: ChannelInboundHandler, Sendable {
    public typealias InboundIn = NIOAny

    private let waiters = Mutex<[@Sendable () -> Void]>([])

    public init() {}

    func whenWritable(_ callback: @escaping @Sendable () -> Void, on channel: any Channel) {
        channel.eventLoop.execute {
            guard channel.isActive, !channel.isWritable else { return callback() }
            self.waiters.withLock { $0.append(callback) }
        }
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { release() }
        context.fireChannelWritabilityChanged()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    private func release() {
        let callbacks = waiters.withLock { waiters in
            defer { waiters.removeAll() }
            return waiters
        }
        for callback in callbacks { callback() }
    }
}
