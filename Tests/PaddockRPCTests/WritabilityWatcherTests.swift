import NIOCore
import NIOEmbedded
import PaddockRPC
import Testing

/// ``Backpressure`` and ``WritabilityWatcher`` on an `EmbeddedChannel`,
/// whose writability the test sets by hand.
@Suite struct WritabilityWatcherTests {
    private func watchedChannel() throws -> (EmbeddedChannel, Backpressure) {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(WritabilityWatcher())
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, Backpressure(channel: channel))
    }

    private func setWritable(_ channel: EmbeddedChannel, _ writable: Bool) {
        channel.isWritable = writable
        channel.pipeline.fireChannelWritabilityChanged()
    }

    @Test func aWritableChannelRunsTheCallbackAtOnce() throws {
        let (channel, backpressure) = try watchedChannel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        let calls = Calls()
        #expect(backpressure.isWritable())
        backpressure.whenWritable(calls.callback)
        channel.embeddedEventLoop.run()
        #expect(calls.value == 1)
    }

    @Test func theCallbackWaitsUntilTheChannelIsWritableAgainAndRunsOnce() throws {
        let (channel, backpressure) = try watchedChannel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        setWritable(channel, false)
        #expect(!backpressure.isWritable())
        let first = Calls()
        let second = Calls()
        backpressure.whenWritable(first.callback)
        backpressure.whenWritable(second.callback)
        channel.embeddedEventLoop.run()
        #expect(first.value == 0 && second.value == 0)

        // A change that leaves it unwritable releases nobody.
        setWritable(channel, false)
        #expect(first.value == 0)
        setWritable(channel, true)
        #expect(first.value == 1 && second.value == 1)
        // Released waiters are forgotten: the next round does not run them again.
        setWritable(channel, false)
        setWritable(channel, true)
        #expect(first.value == 1 && second.value == 1)
    }

    @Test func closingTheChannelReleasesWaiters() throws {
        let (channel, backpressure) = try watchedChannel()
        setWritable(channel, false)
        let calls = Calls()
        backpressure.whenWritable(calls.callback)
        channel.embeddedEventLoop.run()
        #expect(calls.value == 0)
        try channel.close().wait()
        #expect(calls.value == 1)
        // Once closed, a new waiter does not wait.
        let late = Calls()
        backpressure.whenWritable(late.callback)
        channel.embeddedEventLoop.run()
        #expect(late.value == 1)
        _ = try channel.finish(acceptAlreadyClosed: true)
    }

    @Test func withoutAWatcherTheCallbackRunsAtOnceEvenWhenUnwritable() throws {
        let channel = EmbeddedChannel()
        defer { _ = try? channel.finish(acceptAlreadyClosed: true) }
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        channel.isWritable = false
        let calls = Calls()
        Backpressure(channel: channel).whenWritable(calls.callback)
        channel.embeddedEventLoop.run()
        #expect(calls.value == 1)
    }

    @Test func aRepliesBackpressureIsItsConnections() throws {
        let connection = try EmbeddedConnection(watcher: true)
        defer { try? connection.finish() }
        try connection.read(RPCMessage.request(id: .number(1), method: "stream", params: []).frame)
        let reply = try #require(connection.received.unanswered.first)
        setWritable(connection.channel, false)
        #expect(!reply.backpressure.isWritable())
        let calls = Calls()
        reply.backpressure.whenWritable(calls.callback)
        connection.channel.embeddedEventLoop.run()
        #expect(calls.value == 0)
        setWritable(connection.channel, true)
        #expect(calls.value == 1)
        #expect(reply.backpressure.isWritable())
    }
}
