import NIOCore
import NIOEmbedded
import PaddockCore
import PaddockRPC
import Testing

/// Framing on an `EmbeddedChannel`: how reads are cut into frames, and what
/// an oversized or unparsable frame does to the connection.
@Suite struct LineFrameDecoderTests {
    @Test func aFrameSplitByteByByteIsOneMessageOnceItsNewlineArrives() throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        let frame = RPCMessage.request(
            id: .number(7),
            method: "tool.invoke",
            params: Array(#"{"text":"héllo wörld"}"#.utf8)
        ).frame
        try connection.readByteByByte(frame) {
            #expect(connection.received.all.isEmpty)
        }
        #expect(connection.received.all == [.request(.number(7), "tool.invoke", #"{"text":"héllo wörld"}"#)])
    }

    @Test func aResultSplitByteByByteCompletesTheCallOnlyAtItsEnd() throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        let call = Outcome(connection.peer.call("echo", params: Array("[1]".utf8)))
        #expect(try connection.written() == [.request(id: .number(1), method: "echo", params: Array("[1]".utf8))])
        try connection.readByteByByte(RPCMessage.response(id: .number(1), result: Array(#"{"words":2}"#.utf8)).frame) {
            #expect(!call.isComplete)
        }
        #expect(call.text == #"{"words":2}"#)
    }

    @Test func severalFramesInOneReadAreDeliveredInOrder() throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        let frames = [
            RPCMessage.notification(method: "log", params: Array(#"{"n":1}"#.utf8)),
            .request(id: .string("a"), method: "echo", params: Array(#"{"n":2}"#.utf8)),
            .notification(method: "log", params: Array(#"{"n":3}"#.utf8)),
        ]
        // The last frame's first half comes with the others, its second half in a read of its own.
        let text = frames.map(\.frame).joined() + #"{"jsonrpc":"2.0","method":"lo"#
        try connection.read(text)
        #expect(connection.received.all.count == 3)
        try connection.read(#"g","params":{"n":4}}"# + "\n")
        #expect(
            connection.received.all == [
                .notification("log", #"{"n":1}"#), .request(.string("a"), "echo", #"{"n":2}"#),
                .notification("log", #"{"n":3}"#), .notification("log", #"{"n":4}"#),
            ]
        )
        #expect(try connection.written() == [.response(id: .string("a"), result: Array(#"{"n":2}"#.utf8))])
    }

    /// A notification frame of `length` bytes, newline excluded.
    private static func notification(length: Int) -> String {
        let empty = #"{"jsonrpc":"2.0","method":"m","params":{"p":""}}"#
        return #"{"jsonrpc":"2.0","method":"m","params":{"p":""#
            + String(repeating: "x", count: length - empty.utf8.count) + #""}}"#
    }

    @Test func aFrameOfExactlyTheMaximumSizeIsAccepted() throws {
        let connection = try EmbeddedConnection(maximumFrameSize: 100)
        defer { try? connection.finish() }
        try connection.read(Self.notification(length: 100) + "\n")
        #expect(connection.received.all.count == 1)
        #expect(connection.channel.isActive)
    }

    /// One byte over the limit, in one read or byte by byte, with its newline
    /// or without (the decoder must not wait for it before refusing).
    @Test(arguments: [("\n", true), ("", true), ("\n", false), ("", false)])
    func aFrameOverTheMaximumFailsCallsWith202AndClosesTheConnection(tail: String, oneRead: Bool) throws {
        let connection = try EmbeddedConnection(maximumFrameSize: 100)
        defer { try? connection.finish() }
        let call = Outcome(connection.peer.call("sleep"))
        _ = try connection.written()
        let frame = Self.notification(length: 101)
        if oneRead {
            try connection.read(frame + tail)
        } else {
            try connection.readByteByByte(String(frame.prefix(100))) { #expect(connection.channel.isActive) }
            #expect(connection.channel.isActive)
            try connection.read(String(frame.dropFirst(100)) + tail)
        }
        #expect(!connection.channel.isActive)
        #expect(call.error?.code == .unparsableData)
        #expect(
            call.error?.message.contains("exceeds the limit of 100 bytes") == true,
            "\(String(describing: call.error))"
        )
        #expect(connection.peer.failureOnLoop?.code == .unparsableData)
        #expect(connection.received.all.isEmpty)
    }

    @Test(arguments: [
        ("this is not json", RPCError.parseError), (#"{"jsonrpc":"2.0","id":1,"method":"x""#, RPCError.parseError),
        (#"{"jsonrpc":"1.0","id":1,"method":"x"}"#, RPCError.invalidRequest), ("[]", RPCError.invalidRequest),
    ])
    func garbageIsAnsweredWithAnErrorOfIdNullAndClosesTheConnection(garbage: String, code: Int) throws {
        let connection = try EmbeddedConnection()
        defer { try? connection.finish() }
        let call = Outcome(connection.peer.call("sleep"))
        _ = try connection.written()
        try connection.read(garbage + "\n")

        let answer = try connection.writtenText()
        #expect(answer.hasPrefix(#"{"jsonrpc":"2.0","id":null,"error":"#), "\(answer)")
        let messages = try connection.written(of: answer)
        guard case .failure(nil, let error)? = messages.first, messages.count == 1 else {
            Issue.record("not one error without an id: \(answer)")
            return
        }
        #expect(error.code == code)
        #expect(error.paddockError.code == .unparsableData)
        #expect(!connection.channel.isActive)
        #expect(call.error?.code == .unparsableData)
        #expect(connection.peer.failureOnLoop?.code == .unparsableData)
    }
}
