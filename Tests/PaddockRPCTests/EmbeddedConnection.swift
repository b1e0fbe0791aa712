import NIOCore
import NIOEmbedded
import PaddockCore
import PaddockRPC
import Synchronization

/// A peer served on an `EmbeddedChannel`: the test plays the other side by
/// writing inbound bytes and reading what the peer wrote, and moves the
/// event loop's clock by hand. Used from one thread (the embedded loop's rule).
final class EmbeddedConnection {
    let channel: EmbeddedChannel
    let peer: RPCPeer
    let received = Received()

    /// - Parameter watcher: puts a ``WritabilityWatcher`` in front of the peer, as paddockd does.
    init(maximumFrameSize: Int = RPCPeer.defaultMaximumFrameSize, watcher: Bool = false) throws {
        channel = EmbeddedChannel()
        if watcher { try channel.pipeline.syncOperations.addHandler(WritabilityWatcher()) }
        peer = try RPCPeer.serve(channel, service: received.service, maximumFrameSize: maximumFrameSize)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    /// Delivers `text` as one read.
    func read(_ text: String) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    /// Delivers `text` one byte per read, running `between` after each byte but the last.
    func readByteByByte(_ text: String, between: () -> Void = {}) throws {
        let bytes = Array(text.utf8)
        for (index, byte) in bytes.enumerated() {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
            if index < bytes.count - 1 { between() }
        }
    }

    /// Everything the peer wrote since the last look, as text. Runs the loop
    /// first: the peer flushes at the end of a loop tick (``FlushBatcher``).
    func writtenText() throws -> String {
        channel.embeddedEventLoop.run()
        var text = ""
        while let buffer = try channel.readOutbound(as: ByteBuffer.self) { text += String(buffer: buffer) }
        return text
    }

    /// Everything the peer wrote since the last look, one decoded message per frame.
    func written() throws -> [RPCMessage] {
        try written(of: writtenText())
    }

    /// Frames already read as text, decoded.
    func written(of text: String) throws -> [RPCMessage] {
        try text.split(separator: "\n").flatMap { frame in
            try Array(frame.utf8).withUnsafeBytes { buffer in
                Result { () throws(RPCError) in try RPCCodec.decode(buffer).messages }
            }.get()
        }
    }

    /// Ends the channel, accepting that the peer may have closed it already.
    func finish() throws {
        _ = try channel.finish(acceptAlreadyClosed: true)
    }
}

/// What the served peer's ``RPCService`` was given, in order. Requests are
/// answered: `echo` with its params, anything else never.
final class Received: Sendable {
    enum Event: Equatable, Sendable {
        case request(RPCID, String, String)
        case notification(String, String)
        case cancel(RPCID)
    }

    private let events = Mutex<[Event]>([])
    private let replies = Mutex<[RPCReply]>([])

    var all: [Event] { events.withLock { $0 } }
    /// The replies of requests left unanswered.
    var unanswered: [RPCReply] { replies.withLock { $0 } }

    var service: RPCService {
        RPCService(
            request: { method, params, reply in
                self.events.withLock { $0.append(.request(reply.id, method, String(decoding: params, as: UTF8.self))) }
                if method == "echo" { reply.succeed(params) } else { self.replies.withLock { $0.append(reply) } }
            },
            notification: { method, params in
                self.events.withLock { $0.append(.notification(method, String(decoding: params, as: UTF8.self))) }
            },
            cancel: { id in self.events.withLock { $0.append(.cancel(id)) } }
        )
    }
}

/// How a call's future ended, once it has: the embedded loop completes
/// futures synchronously, so a test reads this right after the event.
final class Outcome: Sendable {
    private let result = Mutex<Result<[UInt8], any Error>?>(nil)

    init(_ future: EventLoopFuture<[UInt8]>) {
        future.whenComplete { result in self.result.withLock { $0 = result } }
    }

    var isComplete: Bool { result.withLock { $0 != nil } }

    /// The result as text, if the call succeeded.
    var text: String? {
        guard case .success(let bytes)? = result.withLock({ $0 }) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The error, if the call failed with a ``PaddockError``.
    var error: PaddockError? {
        guard case .failure(let error)? = result.withLock({ $0 }) else { return nil }
        return error as? PaddockError
    }
}

/// Counts how often a callback ran.
final class Calls: Sendable {
    private let count = Mutex(0)
    var value: Int { count.withLock { $0 } }
    var callback: @Sendable () -> Void { { self.count.withLock { $0 += 1 } } }
}

extension RPCMessage {
    /// A frame as the other side would send it.
    var frame: String { String(decoding: RPCCodec.encode(self), as: UTF8.self) }
}
