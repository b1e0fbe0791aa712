import Glibc
public import PaddockCore

/// A plugin's folder read as package entries: every regular file and link
/// that ``PackageIgnore`` keeps, opened without following a link. Refused
/// with a coded error naming the path: a device, FIFO or socket, a file
/// with other hard links (its other name may be any file of the host, and
/// the reader may be root), a link leaving the folder, a name that is not
/// UTF-8 or holds a control character.
public enum PackageSource {
    /// The largest single file a package takes.
    public static let maximumFileBytes = 1 << 30

    /// Reads the folder at `directory`.
    /// - Parameter progress: called after each file with the bytes read so far.
    public static func entries(in directory: String, progress: ((Int) -> Void)? = nil) throws(PaddockError) -> [PackageEntry] {
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else {
            throw PaddockError(.configurationMissing, "cannot open the plugin folder \(directory): \(String(cString: strerror(errno)))")
        }
        defer { close(root) }
        var ignore = PackageIgnore()
        // A Dify plugin's `.difyignore` has the same syntax; Paddock's own file wins.
        for name in [PackageIgnore.fileName, PackageIgnore.difyFileName] {
            guard let fd = try FileSystem.openInside(directory, name) else { continue }
            defer { close(fd) }
            ignore = PackageIgnore(String(decoding: try FileSystem.read(descriptor: fd, limit: 1 << 20, name: name), as: UTF8.self))
            break
        }
        var entries: [PackageEntry] = []
        var total = 0
        try walk(root, prefix: "", ignore: ignore, into: &entries, total: &total, progress: progress)
        return entries
    }

    private static func walk(
        _ folder: Int32, prefix: String, ignore: PackageIgnore, into entries: inout [PackageEntry], total: inout Int,
        progress: ((Int) -> Void)?
    ) throws(PaddockError) {
        for name in try names(in: folder, prefix: prefix) {
            let path = prefix + name
            var info = stat()
            guard fstatat(folder, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw readFailure(path) }
            switch info.st_mode & S_IFMT {
            case S_IFDIR:
                guard !ignore.ignores(path, isDirectory: true) else { continue }
                let child = openat(folder, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else { throw readFailure(path) }
                defer { close(child) }
                try walk(child, prefix: path + "/", ignore: ignore, into: &entries, total: &total, progress: progress)
            case S_IFREG:
                guard !ignore.ignores(path, isDirectory: false) else { continue }
                guard info.st_nlink == 1 else {
                    throw PackageProblem.specialFile.error("\(PackageProblem.shown(path)) has other hard links; copy it instead", path: path)
                }
                let fd = openat(folder, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
                guard fd >= 0 else { throw readFailure(path) }
                defer { close(fd) }
                let contents = try FileSystem.read(descriptor: fd, limit: maximumFileBytes + 1, name: path)
                guard contents.count <= maximumFileBytes else {
                    throw PackageProblem.tooLarge.error("\(PackageProblem.shown(path)) is larger than 1 GiB", path: path)
                }
                entries.append(PackageEntry(path: path, kind: info.st_mode & 0o111 != 0 ? .executable : .file, contents: contents))
                total += contents.count
                progress?(total)
            case S_IFLNK:
                guard !ignore.ignores(path, isDirectory: false) else { continue }
                var target = [UInt8](repeating: 0, count: 4097)
                let count = readlinkat(folder, name, &target, target.count)
                guard count >= 0, count < target.count else { throw readFailure(path) }
                let link = Array(target[..<count])
                try PackagePath.checkLink(from: path, to: link)
                entries.append(PackageEntry(path: path, kind: .link, contents: link))
            default:
                guard !ignore.ignores(path, isDirectory: false) else { continue }
                throw PackageProblem.specialFile.error("\(PackageProblem.shown(path)) is a device, FIFO or socket", path: path)
            }
        }
    }

    /// The names in a folder, sorted by their bytes, checked as package paths.
    private static func names(in folder: Int32, prefix: String) throws(PaddockError) -> [String] {
        let copy = dup(folder)
        guard copy >= 0, let stream = fdopendir(copy) else { throw readFailure(prefix.isEmpty ? "." : prefix) }
        defer { closedir(stream) }
        var names: [String] = []
        while let entry = readdir(stream) {
            let bytes = withUnsafeBytes(of: entry.pointee.d_name) { raw in Array(raw.prefix(while: { $0 != 0 })) }
            if bytes == Array(".".utf8) || bytes == Array("..".utf8) { continue }
            guard let name = String(validating: bytes, as: UTF8.self) else {
                throw PackageProblem.unsafePath.error("a name in \(prefix.isEmpty ? "the plugin folder" : PackageProblem.shown(prefix)) is not UTF-8")
            }
            try PackagePath.check(prefix + name)
            names.append(name)
        }
        return names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
    }

    private static func readFailure(_ path: String) -> PaddockError {
        PaddockError(.fileLimitExceeded, "cannot read \(PackageProblem.shown(path)): \(String(cString: strerror(errno)))")
    }
}
