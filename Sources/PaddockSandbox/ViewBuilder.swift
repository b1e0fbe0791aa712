import CLinux
import Glibc
import PaddockCore

/// Makes a ``SandboxView`` real in the calling process's own mount namespace
/// (which must be private to it), as bubblewrap does: a tmpfs root is filled
/// with the view's entries, taken from the old root while still privileged,
/// then becomes `/` with the old root detached; `/proc` is mounted fresh.
enum ViewBuilder {
    /// Where the old root is while the view is built.
    private static let oldRoot = "/oldroot"
    /// Where the new root is while it is built.
    private static let newRoot = "/newroot"

    /// Builds the view and enters it.
    /// - Throws: ``PaddockError`` 105 naming the path that cannot be shown and why.
    static func enter(_ view: SandboxView, uid: UInt32, gid: UInt32) throws(PaddockError) {
        var entries: [SandboxView.Entry] = []
        for entry in view.entries { if let resolved = try resolve(entry) { entries.append(resolved) } }
        try mount(nil, "/", nil, paddock_ms_rec() | paddock_ms_private(), nil, what: "/")
        // A scratch root to hold both the old root and the new one while building.
        try mount("tmpfs", "/tmp", "tmpfs", paddock_ms_nodev() | paddock_ms_nosuid(), "size=64k,nr_inodes=64,mode=0755", what: "/tmp")
        guard chdir("/tmp") == 0, mkdir("newroot", 0o755) == 0, mkdir("oldroot", 0o755) == 0,
            paddock_pivot_root("/tmp", "/tmp/oldroot") == 0, chdir("/") == 0
        else { throw failure("/", "cannot pivot to a scratch root") }
        try mount("tmpfs", newRoot, "tmpfs", paddock_ms_nodev() | paddock_ms_nosuid(), "size=1m,nr_inodes=4096,mode=0755", what: "/")
        for entry in entries { try add(entry, uid: uid, gid: gid) }
        guard mkdir(newRoot + "/proc", 0o555) == 0 || errno == EEXIST else { throw failure("/proc", "cannot create") }
        guard paddock_umount_detach(oldRoot) == 0, chdir(newRoot) == 0, paddock_pivot_root(".", ".") == 0,
            paddock_umount_detach(".") == 0, chdir("/") == 0
        else { throw failure("/", "cannot pivot into the plugin's root") }
        // hidepid: the plugin sees only its own uid's processes, not its init (root).
        try mount("proc", "/proc", "proc", paddock_ms_nosuid() | paddock_ms_nodev() | paddock_ms_noexec(), "hidepid=2", what: "/proc")
        try mount(nil, "/", nil, paddock_ms_remount() | paddock_ms_bind() | paddock_ms_rdonly() | paddock_ms_nosuid() | paddock_ms_nodev(), nil, what: "/")
    }

    private static func add(_ entry: SandboxView.Entry, uid: UInt32, gid: UInt32) throws(PaddockError) {
        switch entry {
        case .bind(let source, let target, let writable):
            try bind(source, to: target, writable: writable)
        case .symlink(let path, let destination):
            try makeParents(of: newRoot + path, for: path)
            guard symlink(destination, newRoot + path) == 0 || errno == EEXIST else { throw failure(path, "cannot create the link") }
        case .file(let path, let contents):
            try makeParents(of: newRoot + path, for: path)
            let fd = open(newRoot + path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
            guard fd >= 0 else { throw failure(path, "cannot create the file") }
            defer { close(fd) }
            guard contents.withCString({ write(fd, $0, strlen($0)) }) == contents.utf8.count else { throw failure(path, "cannot write") }
        case .system:
            break  // resolved into a bind or a link before
        case .device(let path):
            try makeTarget(newRoot + path, for: path, directory: false)
            try mount(oldRoot + path, newRoot + path, nil, paddock_ms_bind(), nil, what: path)
        case .disk(let size, let files, let directories):
            try addDisk(size: size, files: files, directories: directories, uid: uid, gid: gid)
        }
    }

    /// A bind with its source resolved on the host (absolute links would
    /// not resolve below the old root): a system path that is a link on the
    /// host becomes the same link; one the host lacks (/lib64) is left out.
    /// - Throws: 105 naming a path the caller needs that the host lacks.
    private static func resolve(_ entry: SandboxView.Entry) throws(PaddockError) -> SandboxView.Entry? {
        switch entry {
        case .system(let path):
            var status = stat()
            guard lstat(path, &status) == 0 else { return nil }
            guard status.st_mode & S_IFMT == S_IFLNK else { return try resolve(.bind(source: path, target: path, writable: false)) }
            var buffer = [UInt8](repeating: 0, count: Int(PATH_MAX))
            let length = buffer.withUnsafeMutableBufferPointer { readlink(path, $0.baseAddress!, $0.count - 1) }
            guard length > 0 else { throw failure(path, "cannot read the link") }
            return .symlink(path: path, destination: String(decoding: buffer[..<length], as: UTF8.self))
        case .bind(let source, let target, let writable):
            guard let real = realpath(source, nil) else { throw failure(source, "cannot be shown in the plugin's view") }
            defer { free(real) }
            return .bind(source: String(cString: real), target: target, writable: writable)
        default:
            return entry
        }
    }

    /// Shows a host path (already resolved) at `target`.
    private static func bind(_ source: String, to target: String, writable: Bool) throws(PaddockError) {
        var followed = stat()
        guard stat(oldRoot + source, &followed) == 0 else { throw failure(source, "cannot be shown in the plugin's view") }
        try makeTarget(newRoot + target, for: target, directory: followed.st_mode & S_IFMT == S_IFDIR)
        try mount(oldRoot + source, newRoot + target, nil, paddock_ms_bind(), nil, what: source)
        let flags = paddock_ms_remount() | paddock_ms_bind() | paddock_ms_nosuid() | paddock_ms_nodev() | (writable ? 0 : paddock_ms_rdonly())
        try mount(nil, newRoot + target, nil, flags, nil, what: source)
    }

    /// Mounts the plugin's disk on a scratch point, shows its directories,
    /// and detaches the scratch point: only the binds remain.
    /// - Throws: 102 for a size under 1 MiB or fewer than 16 files: to tmpfs, 0 means no bound at all.
    private static func addDisk(size: Int, files: Int, directories: [SandboxView.DiskDirectory], uid: UInt32, gid: UInt32) throws(PaddockError) {
        guard size >= 1 << 20, files >= 16 else {
            throw PaddockError(.wrongFormat, "the plugin's disk needs at least 1MiB and 16 files, not \(size) bytes and \(files) files")
        }
        let scratch = newRoot + "/.disk"
        guard mkdir(scratch, 0o700) == 0 else { throw failure("/.disk", "cannot create") }
        try mount("tmpfs", scratch, "tmpfs", paddock_ms_nodev() | paddock_ms_nosuid(), "size=\(size),nr_inodes=\(files),mode=0755", what: "the plugin's disk")
        for (index, directory) in directories.enumerated() {
            let inside = scratch + "/\(index)"
            guard mkdir(inside, directory.ownedByPlugin ? 0o700 : 0o1777) == 0, chmod(inside, directory.ownedByPlugin ? 0o700 : 0o1777) == 0,
                !directory.ownedByPlugin || chown(inside, uid, gid) == 0
            else { throw failure(directory.target, "cannot prepare on the plugin's disk") }
            try makeTarget(newRoot + directory.target, for: directory.target, directory: true)
            try mount(inside, newRoot + directory.target, nil, paddock_ms_bind(), nil, what: directory.target)
        }
        guard paddock_umount_detach(scratch) == 0, rmdir(scratch) == 0 else { throw failure("/.disk", "cannot detach") }
    }

    /// Creates the mount point: a directory, or an empty file for a file bind.
    private static func makeTarget(_ path: String, for shown: String, directory: Bool) throws(PaddockError) {
        try makeParents(of: path, for: shown)
        if directory {
            guard mkdir(path, 0o755) == 0 || errno == EEXIST else { throw failure(shown, "cannot create the mount point") }
        } else {
            let fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            guard fd >= 0 || errno == EEXIST || errno == EISDIR else { throw failure(shown, "cannot create the mount point") }
            if fd >= 0 { close(fd) }
        }
    }

    private static func makeParents(of path: String, for shown: String) throws(PaddockError) {
        var prefix = ""
        for component in path.split(separator: "/").dropLast() {
            prefix += "/" + component
            guard mkdir(prefix, 0o755) == 0 || errno == EEXIST else { throw failure(shown, "cannot create \(prefix)") }
        }
    }

    private static func mount(
        _ source: String?, _ target: String, _ type: String?, _ flags: UInt, _ data: String?, what: String
    ) throws(PaddockError) {
        guard paddock_mount(source, target, type, flags, data) == 0 else {
            throw failure(what, "cannot be mounted in the plugin's view")
        }
    }

    private static func failure(_ path: String, _ what: String) -> PaddockError {
        let reason = String(cString: strerror(errno))
        return PaddockError(.dependencyUnavailable, "\(path): \(what): \(reason)", details: ["path": path, "reason": reason])
    }
}
