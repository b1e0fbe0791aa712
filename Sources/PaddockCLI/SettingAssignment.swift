import PaddockCore

/// One `--set`/`--setting` `k=v`, and where its value comes from. Any process
/// on the host can read argv in `/proc`, so a secret can be given as `k=@FILE`,
/// `k=-` (standard input) or `k=?` (typed on the terminal) instead of inline.
struct SettingAssignment: Equatable, Sendable {
    /// Where a setting's value comes from.
    enum Source: Equatable, Sendable {
        /// Written in argv: JSON when it parses as JSON, else a string.
        case inline(String)
        /// `k=@FILE`: the file's text.
        case file(String)
        /// `k=-`: the whole of standard input.
        case standardInput
        /// `k=?`: one line typed on the terminal, not echoed.
        case prompt
    }

    var name: String
    var source: Source

    /// How to give a value without argv, for the options' help.
    static let help = """
        k=@FILE reads the value from FILE (one trailing newline dropped), k=- from standard input, \
        k=? asks on the terminal without echo: use them for secrets, as other users can read argv. \
        Values read this way are strings, never JSON. An inline value that starts with @ is written @@...
        """

    init(name: String, source: Source) {
        self.name = name
        self.source = source
    }

    /// Parses `k=v`. `@FILE`, `-` and `?` name a source; `@@...` is the inline
    /// value `@...`; `k` alone and `k=` have an empty value.
    init(parsing text: String) {
        let parts = text.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        let value = parts.count > 1 ? String(parts[1]) : ""
        name = String(parts[0])
        source =
            switch value {
            case "-": .standardInput
            case "?": .prompt
            case _ where value.hasPrefix("@@"): .inline(String(value.dropFirst()))
            case _ where value.hasPrefix("@"): .file(String(value.dropFirst()))
            default: .inline(value)
            }
    }

    /// Whether the value itself is in argv, where other users can read it.
    /// An empty value reveals nothing.
    var isInlineValue: Bool {
        if case .inline(let value) = source { !value.isEmpty } else { false }
    }

    /// Parses every assignment.
    /// - Throws: ``PaddockError`` 102 when more than one reads standard input.
    static func parse(_ texts: [String]) throws(PaddockError) -> [SettingAssignment] {
        let assignments = texts.map(SettingAssignment.init(parsing:))
        let fromInput = assignments.filter { $0.source == .standardInput }.map(\.name)
        guard fromInput.count <= 1 else {
            throw PaddockError(
                .wrongFormat, "only one setting can be read from standard input ('-'), not \(fromInput.joined(separator: ", "))")
        }
        return assignments
    }
}
