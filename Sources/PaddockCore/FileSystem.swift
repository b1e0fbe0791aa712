import Glibc
import SystemPackage

/// The few file-system questions Paddock asks, without Foundation so that the
/// sandbox launcher, which links Core, starts in well under a millisecond.
public enum FileSystem {
    public enum Kind: Sendable {
        case regular, directory, other
    }

    /// What is at `path` (following symbolic links), or nil when nothing is.
    public static func kind(of path: String) -> Kind? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        switch info.st_mode & S_IFMT {
        case S_IFREG: return .regular
        case S_IFDIR: return .directory
        default: return .other
        }
    }

    /// Reads at most `limit` bytes of a file.
    /// - Throws: ``PaddockError`` 302 when the file cannot be opened or read.
    public static func read(_ path: String, limit: Int) throws(PaddockError) -> [UInt8] {
        do {
            let file = try FileDescriptor.open(FilePath(path), .readOnly, options: [.closeOnExec])
            return try file.closeAfter {
                var bytes: [UInt8] = []
                var chunk = [UInt8](repeating: 0, count: 65_536)
                while bytes.count < limit {
                    let count = try chunk.withUnsafeMutableBytes { try file.read(into: $0) }
                    if count == 0 { break }
                    bytes += chunk[..<min(count, limit - bytes.count)]
                }
                return bytes
            }
        } catch {
            throw PaddockError(.fileLimitExceeded, "cannot read \(path): \(error)", underlying: error as? Errno)
        }
    }

    /// `base` and `component` joined with one slash.
    public static func join(_ base: String, _ component: String) -> String {
        base.hasSuffix("/") ? base + component : base + "/" + component
    }
}
