import NIOCore
import NIOEmbedded
import PaddockCore
import PaddockRPC
import Synchronization
import Testing

/// Calls in flight on an `EmbeddedChannel`, with the event loop's clock
/// moved by hand: deadlines, cancellation, late answers, streaming, batches.
@Suite struct RPCHandlerTests {
    private static let cancelOne = RPCMessage.notification(method: "$/cancel", params: Array(#"{"id":1}"#.utf8))

    @Test func aCallPastItsDeadlineFailsWith204AndTheOtherSideIsToldToCancel() throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        let call = Outcome(connection.peer.call("sleep", timeout: .seconds(5)))
        #expect(try connection.written() == [.request(id: .number(1), method: "sleep", params: [])])

        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(5) - .nanoseconds(1))
        #expect(!call.isComplete)
        #expect(try connection.written().isEmpty)
        connection.channel.embeddedEventLoop.advanceTime(by: .nanoseconds(1))
        #expect(call.error?.code == .timedOut)
        #expect(call.error?.details["timeout_seconds"] == "5.0")
        #expect(try connection.written() == [Self.cancelOne])
        // Only the call ended, not the connection.
        #expect(connection.channel.isActive)
        let next = Outcome(connection.peer.call("echo"))
        #expect(try connection.written() == [.request(id: .number(2), method: "echo", params: [])])
        try connection.read(RPCMessage.response(id: .number(2), result: Array("true".utf8)).frame)
        #expect(next.text == "true")
    }

    @Test func anAnswerBeforeTheDeadlineIsKeptAndNothingIsCancelled() throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        let call = Outcome(connection.peer.call("sleep", timeout: .seconds(5)))
        _ = try connection.written()
        try connection.read(RPCMessage.response(id: .number(1), result: Array("1".utf8)).frame)
        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(call.text == "1")
        #expect(try connection.written().isEmpty)
    }

    /// A call started with ``RPCPeer/startCall`` and cancelled through ``RPCPeer/cancel(_:error:)``.
    private func startCancellable(
        _ connection: EmbeddedConnection,
        grace: TimeAmount,
        unhonoured: Calls
    ) throws -> (RPCID?, Outcome) {
        let promise = connection.channel.eventLoop.makePromise(of: [UInt8].self)
        let id = connection.peer.startCall(
            "sleep",
            params: Array(#"{"s":1}"#.utf8),
            timeout: nil,
            onChunk: nil,
            cancellationGrace: grace,
            onUnhonouredCancel: unhonoured.callback,
            promise: promise
        )
        let outcome = Outcome(promise.futureResult)
        #expect(
            try connection.written() == [.request(id: .number(1), method: "sleep", params: Array(#"{"s":1}"#.utf8))]
        )
        return (id, outcome)
    }

    @Test func cancellingACallFailsItAtOnceAndSendsCancel() throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        let unhonoured = Calls()
        let (id, call) = try startCancellable(connection, grace: .seconds(2), unhonoured: unhonoured)
        #expect(id == .number(1))
        #expect(!call.isComplete)

        let reason = PaddockError(.timedOut, "the client went away")
        connection.peer.cancel(.number(1), error: reason)
        #expect(call.error == reason)
        #expect(try connection.written() == [Self.cancelOne])
        // Cancelling again, or an id never used, does nothing.
        connection.peer.cancel(.number(1), error: reason)
        connection.peer.cancel(.number(99), error: reason)
        #expect(try connection.written().isEmpty)

        // No answer within the grace: the cancellation was not honoured, once.
        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(2) - .nanoseconds(1))
        #expect(unhonoured.value == 0)
        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(unhonoured.value == 1)
    }

    @Test(arguments: [
        RPCMessage.response(id: .number(1), result: Array(#"{"late":true}"#.utf8)),
        .failure(id: .number(1), error: RPCError(PaddockError(.timedOut, "cancelled"))),
    ])
    func aLateAnswerToACancelledCallIsIgnoredAndHonoursTheCancellation(late: RPCMessage) throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        let unhonoured = Calls()
        let (_, call) = try startCancellable(connection, grace: .seconds(2), unhonoured: unhonoured)
        let reason = PaddockError(.timedOut, "the client went away")
        connection.peer.cancel(.number(1), error: reason)
        _ = try connection.written()

        try connection.read(late.frame)
        #expect(call.error == reason)
        #expect(connection.channel.isActive)
        #expect(connection.peer.failureOnLoop == nil)
        #expect(try connection.written().isEmpty)
        connection.channel.embeddedEventLoop.advanceTime(by: .seconds(10))
        #expect(unhonoured.value == 0)
        // An answer to a call that never was is ignored as well.
        try connection.read(RPCMessage.response(id: .number(42), result: Array("0".utf8)).frame)
        #expect(connection.channel.isActive)
    }

    @Test func aCallOnAClosedConnectionFailsAtOnceAndPendingCallsFailWhenItCloses() throws {
        let connection = try EmbeddedConnection()
        let pending = Outcome(connection.peer.call("sleep"))
        try connection.channel.close().wait()
        #expect(pending.error?.code == .pluginCrashed)

        let promise = connection.channel.eventLoop.makePromise(of: [UInt8].self)
        let id = connection.peer.startCall(
            "sleep",
            params: [],
            timeout: nil,
            onChunk: nil,
            cancellationGrace: nil,
            onUnhonouredCancel: nil,
            promise: promise
        )
        let late = Outcome(promise.futureResult)
        #expect(id == nil)
        #expect(late.error?.code == .pluginUnavailable)
        try connection.finish()
    }

    @Test func streamChunksReachOnChunkInOrderBeforeTheResult() throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        let chunks = Mutex<[String]>([])
        let other = Mutex<[String]>([])
        let call = Outcome(
            connection.peer.call("count") { chunk in
                chunks.withLock { $0.append(String(decoding: chunk, as: UTF8.self)) }
            }
        )
        let second = Outcome(
            connection.peer.call("count") { chunk in
                other.withLock { $0.append(String(decoding: chunk, as: UTF8.self)) }
            }
        )
        _ = try connection.written()

        func chunk(_ id: Int, _ raw: String) -> String {
            RPCMessage.notification(method: "stream.chunk", params: Array(#"{"id":\#(id),"chunk":\#(raw)}"#.utf8)).frame
        }
        try connection.read(chunk(1, "0"))
        try connection.read(chunk(1, #""one""#) + chunk(2, "[2]") + chunk(1, #"{"n": [2, 3]}"#))
        // A chunk for no call in flight is dropped; so is one that is not {"id", "chunk"}.
        try connection.read(
            chunk(9, "9") + RPCMessage.notification(method: "stream.chunk", params: Array(#"{"id":1}"#.utf8)).frame
        )
        #expect(chunks.withLock { $0 } == ["0", #""one""#, #"{"n": [2, 3]}"#])
        #expect(!call.isComplete)

        try connection.read(RPCMessage.response(id: .number(1), result: Array("3".utf8)).frame + chunk(1, "4"))
        #expect(call.text == "3")
        #expect(chunks.withLock { $0 }.count == 3)
        #expect(other.withLock { $0 } == ["[2]"])
        #expect(!second.isComplete)
        // Chunks are the peer's business, not the service's.
        #expect(connection.received.all.isEmpty)
    }

    @Test func aBatchIsDispatchedMemberByMember() throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        let call = Outcome(connection.peer.call("sleep"))
        _ = try connection.written()
        let batch = [
            #"{"jsonrpc":"2.0","id":"r1","method":"echo","params":{"a":1}}"#,
            #"{"jsonrpc":"2.0","method":"log","params":["x"]}"#,
            #"{"jsonrpc":"2.0","id":1,"result":{"done":true}}"#,
            #"{"jsonrpc":"2.0","method":"$/cancel","params":{"id":"r0"}}"#,
            #"{"jsonrpc":"2.0","id":"r2","method":"echo"}"#,
        ]
        try connection.read("[" + batch.joined(separator: ",") + "]\n")
        #expect(
            connection.received.all == [
                .request(.string("r1"), "echo", #"{"a":1}"#), .notification("log", #"["x"]"#), .cancel(.string("r0")),
                .request(.string("r2"), "echo", ""),
            ]
        )
        #expect(call.text == #"{"done":true}"#)
        #expect(
            try connection.written() == [
                .response(id: .string("r1"), result: Array(#"{"a":1}"#.utf8)),
                .response(id: .string("r2"), result: Array("null".utf8)),
            ]
        )
        #expect(connection.channel.isActive)
    }

    @Test func aBatchWithAnInvalidMemberIsRefusedWhole() throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        try connection.read(#"[{"jsonrpc":"2.0","method":"log"},{"jsonrpc":"2.0","id":1,"method":7}]"# + "\n")
        #expect(connection.received.all.isEmpty)
        let answer = try connection.written()
        guard case .failure(nil, let error)? = answer.first, answer.count == 1 else {
            Issue.record("not one error without an id: \(answer)")
            return
        }
        #expect(error.code == RPCError.invalidRequest)
        #expect(!connection.channel.isActive)
    }
}
