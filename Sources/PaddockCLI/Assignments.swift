/// Plain `k=v` command-line assignments: `paddock run --query`. Settings
/// (`--set`, `--setting`) are ``SettingAssignment``s, whose values may come
/// from a file, standard input or the terminal instead.
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
}
