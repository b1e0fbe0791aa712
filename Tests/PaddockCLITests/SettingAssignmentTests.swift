import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

@testable import PaddockCLI

/// `--set`/`--setting` values from argv, files, standard input and the terminal.
@Suite(.timeLimit(.minutes(1)))
struct SettingAssignmentTests {
    @Test(arguments: [
        ("k=v", SettingAssignment.Source.inline("v")),
        ("k=a=b", .inline("a=b")),
        ("k", .inline("")),
        ("k=", .inline("")),
        ("k=@/run/secret", .file("/run/secret")),
        ("k=@@home", .inline("@home")),
        ("k=-", .standardInput),
        ("k=?", .prompt),
        ("k=-x", .inline("-x")),
    ])
    func eachFormNamesItsSource(text: String, source: SettingAssignment.Source) {
        #expect(SettingAssignment(parsing: text) == SettingAssignment(name: "k", source: source))
    }

    @Test(arguments: [
        ("s3cret\n", "s3cret"),
        ("s3cret\r\n", "s3cret"),
        ("s3cret", "s3cret"),
        ("two lines\n\n", "two lines\n"),
        ("{\"a\": 1}\n", "{\"a\": 1}"),
        ("", ""),
    ])
    func aFileIsReadAsAStringLessOneLineEnding(contents: String, expected: String) throws {
        let path = try PaddockCLI.privateFile(contents)
        defer { unlink(path) }
        let values = try SettingAssignment.values(try SettingAssignment.parse(["api_key=@" + path, "port=8080"]))
        #expect(values == ["api_key": .string(expected), "port": .int(8080)], "inline values stay JSON")
    }

    @Test func standardInputIsReadWhole() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        let sent = Array("line one\nline two\r\n".utf8)
        #expect(write(fds[1], sent, sent.count) == sent.count)
        close(fds[1])
        let values = try SettingAssignment.values([SettingAssignment(parsing: "api_key=-")], input: fds[0])
        #expect(values == ["api_key": .string("line one\nline two")])
    }

    @Test func onlyOneSettingReadsStandardInput() {
        let error = #expect(throws: PaddockError.self) { try SettingAssignment.parse(["a=-", "b=-"]) }
        #expect(error?.code == .wrongFormat)
    }

    @Test func aMissingFileIs101NamingTheFileAndWhy() {
        let error = #expect(throws: PaddockError.self) {
            try SettingAssignment.values([SettingAssignment(parsing: "api_key=@/nonexistent/key")])
        }
        #expect(error?.code == .configurationMissing)
        #expect(error?.message == "the setting 'api_key': cannot read /nonexistent/key: No such file or directory")
    }

    @Test func aFileOver1MiBIs102() throws {
        let path = try PaddockCLI.privateFile(String(repeating: "x", count: SettingAssignment.maximumBytes + 1))
        defer { unlink(path) }
        let error = #expect(throws: PaddockError.self) { try SettingAssignment.values([SettingAssignment(parsing: "k=@" + path)]) }
        #expect(error?.code == .wrongFormat)
    }

    @Test func withoutATerminalThePromptIs101SayingWhatToUse() {
        let error = #expect(throws: PaddockError.self) {
            try SettingAssignment.values([SettingAssignment(parsing: "api_key=?")], terminal: "/nonexistent/tty")
        }
        #expect(error?.code == .configurationMissing)
        #expect(error?.message.hasSuffix("use api_key=@FILE or api_key=-") == true, "\(error?.message ?? "")")
    }

    @Test func thePromptAsksOnATerminalWithoutEchoAndGivesTheTerminalBack() async throws {
        let terminal = try PseudoTerminal()
        let path = terminal.path
        let answer = Task.detached {
            try SettingAssignment.values([SettingAssignment(parsing: "api_key=?")], terminal: path)
        }
        #expect(terminal.read(until: "Value for api_key: ").hasSuffix("Value for api_key: "))
        terminal.write("hunter2\n")
        #expect(try await answer.value == ["api_key": .string("hunter2")])
        #expect(terminal.read(until: "\n") == "\r\n", "only the newline is echoed, not the answer")
        #expect(terminal.echoes, "echo is back on afterwards")
    }

    @Test func onlySecretsGivenInlineAreWarnedAbout() {
        let assignments = ["api_key=abc", "api_base=http://x", "token=@/run/t", "password=", "other_secret=-"].map(SettingAssignment.init(parsing:))
        let lines = SecretWarning.lines(assignments, secrets: ["api_key", "token", "password", "other_secret"])
        #expect(lines.map { $0 + "\n" } == [PaddockCLI.secretWarning("api_key")])
    }
}
