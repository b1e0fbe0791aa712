import PaddockCore
import PaddockTestSupport
import Testing

@Suite struct YAMLParserTests {
    private func parse(_ text: String) throws(PaddockError) -> YAMLNode? {
        try YAMLParser().parse(Array(text.utf8))
    }

    @Test func buildsATreeWithPositions() throws {
        let root = try #require(try parse("a: 1\nb:\n  - x\n  - 'y'\n"))
        guard case .mapping(let pairs) = root.kind else {
            Issue.record("root is not a mapping")
            return
        }
        #expect(pairs.count == 2)
        #expect(pairs[0].value.kind == .scalar("1", quoted: false))
        guard case .sequence(let items) = pairs[1].value.kind else {
            Issue.record("b is not a list")
            return
        }
        #expect(items[1].kind == .scalar("y", quoted: true))
        #expect(items[1].line == 4)
        #expect(items[1].column == 5)
    }

    @Test func resolvesPlainScalarsAsJSON() throws {
        let root = try #require(try parse("[1, 1.5, true, ~, '2', text, -7]"))
        #expect(JSONValue(yaml: root) == .array([.int(1), .double(1.5), .bool(true), .null, .string("2"), .string("text"), .int(-7)]))
    }

    @Test func emptyDocumentIsNil() throws {
        #expect(try parse("") == nil)
        #expect(try parse("# only a comment\n") == nil)
    }

    @Test func syntaxErrorNamesLineAndColumn() {
        do {
            _ = try parse("a: 1\nb: [1, 2\nc: 3\n")
            Issue.record("parsed")
        } catch {
            #expect(error.code == .wrongFormat)
            #expect(error.details["line"] != nil)
            #expect(error.details["column"] != nil)
            #expect(error.message.contains("line"))
        }
    }

    @Test func aliasBombIsRefused() {
        var text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        for level in 1...8 {
            let previous = level == 1 ? "a" : "l\(level - 1)"
            text += "l\(level): &l\(level) [" + Array(repeating: "*\(previous)", count: 10).joined(separator: ", ") + "]\n"
        }
        #expect(throws: PaddockError.self) { try parse(text) }
    }

    @Test func deepNestingIsRefused() {
        let text = String(repeating: "[", count: 500) + String(repeating: "]", count: 500)
        #expect(throws: PaddockError.self) { try parse(text) }
    }

    @Test func oversizedInputIsRefused() {
        #expect(throws: PaddockError.self) {
            try YAMLParser(maximumBytes: 16).parse(Array("key: a value longer than sixteen bytes".utf8))
        }
    }

    @Test(arguments: [[0xff, 0xfe, 0x00], [0x61, 0x3a, 0x20, 0xc3, 0x28], [0x00]] as [[UInt8]])
    func invalidEncodingIsA102(bytes: [UInt8]) {
        let error = #expect(throws: PaddockError.self) { try YAMLParser().parse(bytes) }
        #expect(error?.code == .wrongFormat)
    }
}
