import PaddockCore

/// The rules a path in a package obeys, the same when packing and unpacking.
enum PackagePath {
    /// A relative path of non-empty components, none `.` or `..`, with no
    /// backslash, control character or line separator, at most 1024 bytes
    /// and 255 a component.
    static func check(_ path: String) throws(PaddockError) {
        let problem: String? =
            if path.isEmpty || path.utf8.count > 1024 { "a path must have 1 to 1024 bytes" }
            else if path.hasPrefix("/") { "an absolute path" }
            else if path.unicodeScalars.contains(where: { $0 == "\\" || $0.properties.generalCategory == .control
                || $0.properties.generalCategory == .lineSeparator || $0.properties.generalCategory == .paragraphSeparator }) {
                "a backslash or control character in a path"
            } else if path.split(separator: "/", omittingEmptySubsequences: false).contains(where: {
                $0.isEmpty || $0 == "." || $0 == ".." || $0.utf8.count > 255
            }) {
                "an empty, '.' or '..' component, or one over 255 bytes"
            } else { nil }
        if let problem { throw PackageProblem.unsafePath.error("\(problem): \(PackageProblem.shown(path))", path: path) }
    }

    /// A link at `path` to `target` must be relative and stay inside the package.
    static func checkLink(from path: String, to target: [UInt8]) throws(PaddockError) {
        guard let text = String(validating: target, as: UTF8.self), !text.isEmpty, !text.hasPrefix("/"), !target.contains(0) else {
            throw PackageProblem.linkOutside.error("\(PackageProblem.shown(path)) is a link to an absolute path", path: path)
        }
        var depth = path.split(separator: "/").count - 1
        for component in text.split(separator: "/", omittingEmptySubsequences: true) {
            switch component {
            case ".": continue
            case "..": depth -= 1
            default: depth += 1
            }
            guard depth >= 0 else {
                throw PackageProblem.linkOutside.error("\(PackageProblem.shown(path)) is a link that leaves the package", path: path)
            }
        }
    }
}
