import Foundation
import PaddockCore
import PaddockTestSupport
import Testing

@Suite struct JSONParserTests {
    @Test func parsesEveryKindOfValue() throws {
        let value = try JSONValue(parsing: Array(#"{"a":[1,-2.5,1e3,true,false,null],"b":"x\"\\\/\n\u00e9\ud83d\ude00","c":{}}"#.utf8))
        #expect(value == .object([
            "a": .array([.int(1), .double(-2.5), .double(1000), .bool(true), .bool(false), .null]),
            "b": .string("x\"\\/\né😀"),
            "c": .object([:]),
        ]))
    }

    @Test func serialisesCompactlyAndRoundTrips() throws {
        let value = JSONValue.object(["z": .string("line\nbreak \u{2028} \"q\""), "a": .array([.int(-3), .double(0.5), .null])])
        let text = value.jsonText
        #expect(!text.contains("\n"))
        #expect(text.hasPrefix(#"{"a":[-3,0.5,null],"z":"#))
        #expect(try JSONValue(parsing: Array(text.utf8)) == value)
        // Foundation reads it the same way.
        let foreign = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(foreign?["z"] as? String == "line\nbreak \u{2028} \"q\"")
    }

    @Test(arguments: [
        "", "{", "[1,]", "{\"a\":1,}", "01", "1.", "-", "tru", "\"\\x\"", "\"\\ud800\"", "\"a", "{\"a\" 1}",
        "[1] [2]", "nul", "\"\u{01}\"", "1e", "{1:2}", String(repeating: "[", count: 200) + String(repeating: "]", count: 200),
    ])
    func rejectsMalformedJSONWith202(text: String) {
        let error = #expect(throws: PaddockError.self) { try JSONValue(parsing: Array(text.utf8)) }
        #expect(error?.code == .unparsableData)
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: PaddockError.self) { try JSONValue(parsing: [0x22, 0xC3, 0x28, 0x22]) }
    }

    @Test func keepsChosenMembersRaw() throws {
        let text = Array(#"{"id":7, "method":"tool.invoke","params":{"a": [1, 2]} }"#.utf8)
        let (members, raw) = try text.withUnsafeBytes { try JSONParser.parseObject($0, keepingRaw: ["params"]) }
        #expect(members["id"] == .int(7))
        #expect(members["params"] == nil)
        let range = try #require(raw["params"])
        #expect(String(decoding: text[range], as: UTF8.self) == #"{"a": [1, 2]}"#)
    }

    @Test func randomBytesNeverCrashTheParser() {
        var generator = SeededGenerator(seed: 99)
        let seed = Array(#"{"jsonrpc":"2.0","id":1,"method":"m","params":{"a":[1,"x",null,true]}}"#.utf8)
        for _ in 0..<5000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            if let value = try? JSONValue(parsing: bytes) {
                #expect((try? JSONValue(parsing: value.jsonBytes)) == value)
            }
        }
    }
}
