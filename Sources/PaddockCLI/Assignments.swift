import PaddockCore

/// `k=v` command-line assignments (`--setting`, `--set`, `--query`).
enum Assignments {
    /// Each `k=v` as a pair; `k` alone has an empty value.
    static func pairs(_ assignments: [String]) -> [String: String] {
        var values: [String: String] = [:]
        for pair in assignments {
            let parts = pair.split(separator: "=", maxSplits: 1)
            values[String(parts.first ?? "")] = parts.count > 1 ? String(parts[1]) : ""
        }
        return values
    }

    /// Each value as JSON when it parses as JSON, else as a string.
    static func json(_ assignments: [String]) -> [String: JSONValue] {
        pairs(assignments).mapValues { text in (try? JSONValue(parsing: Array(text.utf8))) ?? .string(text) }
    }
}
