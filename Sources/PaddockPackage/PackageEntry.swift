/// One file of a plugin package: a path relative to the plugin's folder
/// (`/`-separated, no `.` or `..`), what it is, and its bytes (a link's target).
public struct PackageEntry: Sendable, Equatable {
    public enum Kind: String, Sendable {
        /// A regular file, installed 0644.
        case file
        /// A regular file with an execute bit, installed 0755.
        case executable = "exec"
        /// A symbolic link whose target stays inside the package.
        case link
    }

    public var path: String
    public var kind: Kind
    public var contents: [UInt8]

    public init(path: String, kind: Kind, contents: [UInt8]) {
        self.path = path
        self.kind = kind
        self.contents = contents
    }

    /// The file mode it is installed with.
    var mode: UInt16 {
        switch kind {
        case .file: 0o644
        case .executable: 0o755
        case .link: 0o777
        }
    }
}
