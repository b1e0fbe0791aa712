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
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw failure(path) }
        defer { close(fd) }
        return try read(descriptor: fd, limit: limit, name: path)
    }

    /// Reads at most `limit` bytes from an open descriptor, up to its end:
    /// a pipe or standard input as well as a file. The descriptor stays open.
    /// - Parameters:
    ///   - name: what the descriptor is, for the error message.
    /// - Throws: ``PaddockError`` 302 when it cannot be read.
    public static func read(descriptor fd: Int32, limit: Int, name: String) throws(PaddockError) -> [UInt8] {
        var info = stat()
        let expected = fstat(fd, &info) == 0 && info.st_size > 0 ? min(Int(info.st_size) + 1, limit) : 4096
        var bytes = [UInt8](repeating: 0, count: max(1, expected))
        var count = 0
        while count < limit {
            if count == bytes.count { bytes += [UInt8](repeating: 0, count: min(bytes.count, limit - count)) }
            let got = bytes.withUnsafeMutableBytes { buffer in
                Glibc.read(fd, buffer.baseAddress! + count, buffer.count - count)
            }
            if got < 0 && errno == EINTR { continue }
            guard got >= 0 else { throw failure(name) }
            if got == 0 { break }
            count += got
        }
        return Array(bytes[..<count])
    }

    private static func failure(_ path: String) -> PaddockError {
        let reason = String(cString: strerror(errno))
        return PaddockError(.fileLimitExceeded, "cannot read \(path): \(reason)", underlying: Errno(rawValue: errno))
    }

    /// Opens the regular file at `relative` inside `directory` for reading,
    /// following no symbolic link below `directory`: a plugin's folder is
    /// its author's, and a link in it could name any file of the host (the
    /// caller may be root). A FIFO or device is not opened for reading, so
    /// it cannot block.
    /// - Returns: the open descriptor (the caller closes it), or nil when
    ///   nothing is there.
    /// - Throws: 102 for a symbolic link or anything but a regular file (the
    ///   message names `relative` only, never what a link points to); 302
    ///   when it cannot be opened.
    public static func openInside(_ directory: String, _ relative: String) throws(PaddockError) -> Int32? {
        let components = relative.split(separator: "/").filter { $0 != "." }
        guard let last = components.last, !components.contains("..") else {
            throw PaddockError(.wrongFormat, "'\(relative)' must be a path inside the plugin directory")
        }
        var parent = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard parent >= 0 else { throw failure(directory) }
        defer { close(parent) }
        for component in components.dropLast() {
            let next = openat(parent, String(component), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            guard next >= 0 else { return try refusal(relative) }
            close(parent)
            parent = next
        }
        let fd = openat(parent, String(last), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY)
        guard fd >= 0 else { return try refusal(relative) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw PaddockError(.wrongFormat, "'\(relative)' in the plugin directory is not a regular file")
        }
        return fd
    }

    /// Why `openat` failed under ``openInside(_:_:)``: nil for nothing there.
    private static func refusal(_ relative: String) throws(PaddockError) -> Int32? {
        switch errno {
        case ENOENT: return nil
        case ELOOP:
            throw PaddockError(
                .wrongFormat, "'\(relative)' in the plugin directory is or passes through a symbolic link; a plugin's files must be in its folder")
        case ENOTDIR: throw PaddockError(.wrongFormat, "'\(relative)' passes through something that is not a directory")
        default: throw failure(relative)
        }
    }

    /// The names in a directory, without `.` and `..`.
    /// - Throws: ``PaddockError`` 302 when it cannot be read.
    public static func directoryEntries(_ path: String) throws(PaddockError) -> [String] {
        guard let directory = opendir(path) else { throw failure(path) }
        defer { closedir(directory) }
        var names: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// `base` and `component` joined with one slash.
    public static func join(_ base: String, _ component: String) -> String {
        base.hasSuffix("/") ? base + component : base + "/" + component
    }
}
