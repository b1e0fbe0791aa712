import PaddockCore
import PaddockRPC
import Testing

@Suite struct RPCCodecTests {
    private func decode(_ text: String) throws(RPCError) -> [RPCMessage] {
        let bytes = Array(text.utf8)
        var result: Result<[RPCMessage], RPCError> = .success([])
        bytes.withUnsafeBytes { buffer in
            do throws(RPCError) { result = .success(try RPCCodec.decode(buffer).messages) } catch { result = .failure(error) }
        }
        return try result.get()
    }

    @Test func everyKindOfMessageRoundTrips() throws {
        let messages: [RPCMessage] = [
            .request(id: .number(1), method: "tool.invoke", params: Array(#"{"tool":"wc"}"#.utf8)),
            .request(id: .string("a"), method: "ping", params: []),
            .notification(method: "log", params: Array(#"{"level":"info"}"#.utf8)),
            .response(id: .number(1), result: Array(#"{"words":3}"#.utf8)),
            .failure(id: .number(2), error: RPCError(PaddockError(.handlerFailed, "boom", details: ["traceback": "..."]))),
            .failure(id: nil, error: RPCError(code: RPCError.parseError, message: "bad")),
        ]
        for message in messages {
            let frame = RPCCodec.encode(message)
            #expect(frame.last == UInt8(ascii: "\n"))
            #expect(frame.dropLast().contains(UInt8(ascii: "\n")) == false)
            #expect(try decode(String(decoding: frame, as: UTF8.self)) == [message])
        }
    }

    @Test func aReasonTravelsAsDetailsReasonAndComesBackTyped() throws {
        let sent = PaddockError(.pluginUnavailable, "no plugin named x is installed", reason: .notInstalled, details: ["id": "x"])
        let frame = RPCCodec.encode(.failure(id: .number(3), error: RPCError(sent)))
        #expect(String(decoding: frame, as: UTF8.self).contains(#""reason":"not_installed""#))
        guard case .failure(_, let error)? = try decode(String(decoding: frame, as: UTF8.self)).first else {
            Issue.record("not a failure")
            return
        }
        #expect(error.paddockError.reason == .notInstalled)
        #expect(error.paddockError.details == ["id": "x", "reason": "not_installed"])
    }

    @Test func batchesDecodeToSeveralMessages() throws {
        let messages = try decode(#"[{"jsonrpc":"2.0","id":1,"method":"ping"},{"jsonrpc":"2.0","method":"log","params":{}}]"#)
        #expect(messages.count == 2)
    }

    @Test(arguments: [
        ("not json", RPCError.parseError), (#"{"jsonrpc":"2.0","id":1,"method":5}"#, RPCError.invalidRequest),
        (#"{"jsonrpc":"2.0","id":{},"method":"x"}"#, RPCError.invalidRequest), ("[]", RPCError.invalidRequest),
        (#"{"jsonrpc":"2.0","id":1,"method":"x","params":3}"#, RPCError.invalidRequest), ("42", RPCError.invalidRequest),
    ])
    func invalidMessagesAreProtocolErrorsWithCode202(text: String, code: Int) {
        do {
            _ = try decode(text)
            Issue.record("decoded \(text)")
        } catch {
            #expect(error.code == code)
            #expect(error.paddockError.code == .unparsableData)
        }
    }
}
