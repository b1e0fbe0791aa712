import Glibc
import PaddockCore

extension SettingAssignment {
    /// The largest value read from a file or standard input: a secret, not a data set.
    static let maximumBytes = 1 << 20

    /// The settings as the daemon and the engine take them. Values read from a
    /// file, standard input or the terminal are strings exactly as read (less
    /// one trailing line ending); inline values are JSON when they parse.
    /// - Parameters:
    ///   - input: the descriptor `k=-` reads (standard input).
    ///   - terminal: the terminal `k=?` asks on.
    /// - Throws: ``PaddockError`` 101 when a file cannot be read or there is
    ///   no terminal to ask on; 102 when a value is over 1 MiB or not UTF-8.
    static func values(
        _ assignments: [SettingAssignment], input: Int32 = STDIN_FILENO, terminal: String = TerminalPrompt.terminal
    ) throws(PaddockError) -> [String: JSONValue] {
        var values: [String: JSONValue] = [:]
        for assignment in assignments {
            values[assignment.name] = try assignment.value(input: input, terminal: terminal)
        }
        return values
    }

    /// This assignment's value, read from its source.
    func value(input: Int32 = STDIN_FILENO, terminal: String = TerminalPrompt.terminal) throws(PaddockError) -> JSONValue {
        switch source {
        case .inline(let text):
            return (try? JSONValue(parsing: Array(text.utf8))) ?? .string(text)
        case .file(let path):
            return .string(try text(readingFrom: path))
        case .standardInput:
            return .string(try text(try Self.bounded("standard input") { () throws(PaddockError) in
                try FileSystem.read(descriptor: input, limit: Self.maximumBytes + 1, name: "standard input")
            }))
        case .prompt:
            let hint = "there is no terminal to ask for the setting '\(name)' on; use \(name)=@FILE or \(name)=-"
            return .string(try TerminalPrompt.ask("Value for \(name): ", terminal: terminal, otherwise: hint))
        }
    }

    private func text(readingFrom path: String) throws(PaddockError) -> String {
        do throws(PaddockError) {
            return try text(try Self.bounded(path) { () throws(PaddockError) in
                try FileSystem.read(path, limit: Self.maximumBytes + 1)
            })
        } catch where error.code == .fileLimitExceeded {
            throw PaddockError(.configurationMissing, "the setting '\(name)': \(error.message)", field: name, underlying: error)
        }
    }

    /// The bytes `read` returns, refused when there are more than ``maximumBytes``.
    private static func bounded(_ what: String, _ read: () throws(PaddockError) -> [UInt8]) throws(PaddockError) -> [UInt8] {
        let bytes = try read()
        guard bytes.count <= maximumBytes else {
            throw PaddockError(.wrongFormat, "\(what) holds more than 1 MiB; a setting's value is at most 1 MiB")
        }
        return bytes
    }

    /// UTF-8 text without its one trailing line ending (`\n` or `\r\n`), which
    /// editors and `echo` add but no secret means to hold.
    private func text(_ bytes: [UInt8]) throws(PaddockError) -> String {
        var end = bytes.endIndex
        if bytes.last == UInt8(ascii: "\n") {
            end -= 1
            if end > bytes.startIndex, bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        }
        guard let text = String(validating: bytes[..<end], as: UTF8.self) else {
            throw PaddockError(.wrongFormat, "the value of the setting '\(name)' is not UTF-8 text", field: name)
        }
        return text
    }
}
