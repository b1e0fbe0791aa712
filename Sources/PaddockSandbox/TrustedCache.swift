import CLinux
import Glibc
import PaddockCore

/// Files the launcher keeps between launches under `/var/cache/paddock`, so
/// that a launch like one seen before skips work (compiling a seccomp
/// filter, parsing a profile). An entry is trusted only from a directory and
/// file that root owns and nobody else can write; each file starts with the
/// full key it was stored under and is used only when that key matches exactly.
struct TrustedCache {
    let directory: String

    /// The cache at `directory`, created when missing; nil unless running as
    /// root with a directory only root can write.
    init?(directory: String) {
        guard geteuid() == 0 else { return nil }
        var prefix = ""
        for component in directory.split(separator: "/") {
            prefix += "/" + component
            _ = mkdir(prefix, 0o755)
        }
        guard Self.isTrusted(directory, directory: true) else { return nil }
        self.directory = directory
    }

    /// What was stored under `key`, or nil.
    func read(_ key: String) -> [UInt8]? {
        let path = file(for: key)
        guard Self.isTrusted(path, directory: false), let bytes = try? FileSystem.read(path, limit: 1 << 20) else { return nil }
        let header = Array(key.utf8)
        guard bytes.count >= header.count, bytes.starts(with: header) else { return nil }
        return Array(bytes[header.count...])
    }

    /// Stores `bytes` under `key` atomically (a temporary file, then rename);
    /// a failure only means the next launch does the work again.
    func store(_ bytes: [UInt8], for key: String) {
        let path = file(for: key)
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let content = Array(key.utf8) + bytes
        let written = content.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if written != content.count || rename(temporary, path) != 0 { unlink(temporary) }
    }

    private func file(for key: String) -> String {
        // FNV-1a names the file; the header inside decides whether it matches.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return directory + "/" + String(hash, radix: 16)
    }

    /// Owned by root, not a symbolic link, writable by nobody else.
    private static func isTrusted(_ path: String, directory: Bool) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_uid == 0, info.st_mode & 0o022 == 0 else { return false }
        return info.st_mode & S_IFMT == (directory ? S_IFDIR : S_IFREG)
    }
}
