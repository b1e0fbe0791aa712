import Dispatch
import Foundation
import Glibc
import NIOCore
import NIOPosix
import PaddockCore
import PaddockRPC
import Synchronization
import Testing

/// Two real peers over a real socketpair.
@Suite(.timeLimit(.minutes(1)))
struct RPCPeerTests {
    static let group = MultiThreadedEventLoopGroup.singleton

    static func socketpair() throws -> (Int32, Int32) {
        var fds: [Int32] = [0, 0]
        guard Glibc.socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw PaddockError(.pluginUnavailable, "socketpair") }
        return (fds[0], fds[1])
    }

    /// A service that echoes params, streams on `count`, sleeps on `sleep`, fails on `fail`.
    static let echo = RPCService { method, params, reply in
        switch method {
        case "echo":
            reply.succeed(params)
        case "count":
            let n = (try? JSONValue(parsing: params))?["n"].flatMap { if case .int(let v) = $0 { v } else { nil } } ?? 0
            for i in 0..<n { reply.chunk(.int(i)) }
            reply.succeed(JSONValue.int(n).jsonBytes)
        case "fail":
            reply.fail(RPCError(PaddockError(.upstreamFailed, "the weather service said 503", details: ["status": "503"])))
        case "sleep":
            break  // never answers
        default:
            RPCService.none.request(method, params, reply)
        }
    }

    private func pair(_ a: RPCService, _ b: RPCService, maximumFrameSize: Int = RPCPeer.defaultMaximumFrameSize) async throws -> (RPCPeer, RPCPeer) {
        let (x, y) = try Self.socketpair()
        return (
            try await RPCPeer.connect(socket: x, service: a, maximumFrameSize: maximumFrameSize, group: Self.group),
            try await RPCPeer.connect(socket: y, service: b, maximumFrameSize: maximumFrameSize, group: Self.group)
        )
    }

    @Test func callsFlowBothWaysConcurrently() async throws {
        let (host, plugin) = try await pair(Self.echo, Self.echo)
        defer { host.close(); plugin.close() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<50 {
                group.addTask { () async throws in
                    let params = JSONValue.object(["i": .int(i)]).jsonBytes
                    #expect(try await host.call("echo", params: params).get() == params)
                    #expect(try await plugin.call("echo", params: params).get() == params)
                }
            }
            try await group.waitForAll()
        }
    }

    @Test func streamingDeliversChunksBeforeTheResult() async throws {
        let (host, plugin) = try await pair(.none, Self.echo)
        defer { host.close(); plugin.close() }
        let chunks = Mutex<[String]>([])
        let result = try await host.call("count", params: Array(#"{"n":5}"#.utf8)) { chunk in
            chunks.withLock { $0.append(String(decoding: chunk, as: UTF8.self)) }
        }.get()
        #expect(String(decoding: result, as: UTF8.self) == "5")
        #expect(chunks.withLock { $0 } == ["0", "1", "2", "3", "4"])
    }

    @Test func codedErrorsTravelInErrorData() async throws {
        let (host, plugin) = try await pair(.none, Self.echo)
        defer { host.close(); plugin.close() }
        let error = await #expect(throws: PaddockError.self) { try await host.call("fail").get() }
        #expect(error?.code == .upstreamFailed)
        #expect(error?.details["status"] == "503")
        let missing = await #expect(throws: PaddockError.self) { try await host.call("no.such.method").get() }
        #expect(missing?.code == .unparsableData)
    }

    @Test func deadlineFailsWith204AndCancelsOnTheOtherSide() async throws {
        let cancelled = Mutex<[RPCID]>([])
        var service = Self.echo
        service.cancel = { id in cancelled.withLock { $0.append(id) } }
        let (host, plugin) = try await pair(.none, service)
        defer { host.close(); plugin.close() }
        let error = await #expect(throws: PaddockError.self) { try await host.call("sleep", timeout: .milliseconds(100)).get() }
        #expect(error?.code == .timedOut)
        for _ in 0..<100 where cancelled.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(10)) }
        #expect(cancelled.withLock { $0 } == [.number(1)])
        // The connection is still good.
        #expect(try await host.call("echo", params: Array("[1]".utf8)).get() == Array("[1]".utf8))
    }

    @Test(arguments: ["this is not json\n", "{\"jsonrpc\":\"1.0\",\"id\":1,\"method\":\"x\"}\n", "[]\n", "{\"id\":1}\n"])
    func garbageFailsCallsWith202AndCloses(garbage: String) async throws {
        let (x, y) = try Self.socketpair()
        let host = try await RPCPeer.connect(socket: x, service: .none, group: Self.group)
        defer { close(y) }
        let call = host.call("sleep", timeout: .seconds(10))
        _ = garbage.withCString { write(y, $0, strlen($0)) }
        let error = await #expect(throws: PaddockError.self) { try await call.get() }
        #expect(error?.code == .unparsableData)
        try await host.closeFuture.get()
        #expect(try await host.failure().get()?.code == .unparsableData || !host.channel.isActive)
    }

    @Test func oversizedFrameFailsWith202() async throws {
        let (x, y) = try Self.socketpair()
        let host = try await RPCPeer.connect(socket: x, service: .none, maximumFrameSize: 1 << 20, group: Self.group)
        let call = host.call("sleep", timeout: .seconds(10))
        // 2 MiB without a newline, from a thread since the socket buffer is smaller; it
        // stops when the host closes, and y is closed only after it stopped.
        let writerDone = DispatchSemaphore(value: 0)
        let writer = Thread {
            let block = [UInt8](repeating: 0x61, count: 1 << 16)
            for _ in 0..<32 where send(y, block, block.count, Int32(MSG_NOSIGNAL)) > 0 {}
            writerDone.signal()
        }
        writer.start()
        let error = await #expect(throws: PaddockError.self) { try await call.get() }
        #expect(error?.code == .unparsableData)
        #expect(error?.message.contains("exceeds the limit") == true)
        try await host.closeFuture.get()
        writerDone.wait()
        close(y)
    }

    @Test func otherPeersAreUnaffectedByABrokenOne() async throws {
        let (good, goodPlugin) = try await pair(.none, Self.echo)
        defer { good.close(); goodPlugin.close() }
        let (x, y) = try Self.socketpair()
        let bad = try await RPCPeer.connect(socket: x, service: .none, group: Self.group)
        _ = "garbage\n".withCString { write(y, $0, strlen($0)) }
        try await bad.closeFuture.get()
        close(y)
        #expect(try await good.call("echo", params: Array("{}".utf8)).get() == Array("{}".utf8))
    }
}
