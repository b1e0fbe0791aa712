import Glibc

/// The files `paddock pack` leaves out: those `.paddockignore` names, in
/// gitignore syntax for the common cases (`#` comments, `!` re-includes,
/// a trailing `/` for folders only, a leading or inner `/` anchors the
/// pattern at the plugin's folder, `*`, `?`, `[...]` and `**`), and always
/// `__pycache__`, `.git` and `.build` (with `.build-*`), the data folder
/// `.paddock`, and `.venv` (install builds a plugin's environment).
public struct PackageIgnore: Sendable {
    private struct Rule: Sendable {
        var components: [String]
        var negated: Bool
        var directoriesOnly: Bool
    }

    /// The name of the file in the plugin's folder.
    public static let fileName = ".paddockignore"
    /// A Dify plugin's ignore file, read when there is no `.paddockignore`.
    public static let difyFileName = ".difyignore"
    /// Left out of every package, whatever `.paddockignore` says.
    public static let alwaysIgnored = ["__pycache__", ".git", ".build", ".build-*", ".paddock", ".venv", PackageListing.folder]

    private var rules: [Rule] = []

    /// The rules of `.paddockignore` text (empty for none).
    public init(_ text: String = "") {
        for name in Self.alwaysIgnored { rules.append(Rule(components: ["**", name], negated: false, directoriesOnly: false)) }
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            var line = Substring(rawLine)
            while line.last == " " || line.last == "\t" { line = line.dropLast() }
            guard !line.isEmpty, !line.hasPrefix("#") else { continue }
            let negated = line.hasPrefix("!")
            if negated { line = line.dropFirst() }
            let directoriesOnly = line.hasSuffix("/")
            while line.hasSuffix("/") { line = line.dropLast() }
            let anchored = line.contains("/")
            while line.hasPrefix("/") { line = line.dropFirst() }
            guard !line.isEmpty else { continue }
            let components = line.split(separator: "/").map(String.init)
            rules.append(Rule(components: anchored ? components : ["**"] + components, negated: negated, directoriesOnly: directoriesOnly))
        }
        // The always-ignored come first, so a `!` could re-include them: put them back last.
        for name in Self.alwaysIgnored { rules.append(Rule(components: ["**", name], negated: false, directoriesOnly: false)) }
    }

    /// Whether `path` (relative, `/`-separated) is left out.
    public func ignores(_ path: String, isDirectory: Bool) -> Bool {
        let components = path.split(separator: "/").map(String.init)
        var ignored = false
        for rule in rules where !(rule.directoriesOnly && !isDirectory) {
            if Self.matches(rule.components[...], components[...]) { ignored = !rule.negated }
        }
        return ignored
    }

    private static func matches(_ pattern: ArraySlice<String>, _ path: ArraySlice<String>) -> Bool {
        guard let first = pattern.first else { return path.isEmpty }
        if first == "**" {
            var rest = path
            while true {
                if matches(pattern.dropFirst(), rest) { return true }
                guard !rest.isEmpty else { return false }
                rest = rest.dropFirst()
            }
        }
        guard let name = path.first, fnmatch(first, name, FNM_PERIOD) == 0 || (first.hasPrefix(".") && fnmatch(first, name, 0) == 0)
        else { return false }
        return matches(pattern.dropFirst(), path.dropFirst())
    }
}
