import CLinux
import CSeccomp
import Glibc
import PaddockCore

/// Compiled seccomp filters kept on disk, so that a launch with a policy
/// seen before skips libseccomp's compiler.
///
/// A cached filter is trusted only from a directory and file that root owns
/// and nobody else can write; each file starts with the full policy text it
/// was compiled from and is used only when that text matches exactly.
struct SeccompCache {
    static let defaultDirectory = "/var/cache/paddock/seccomp"

    let directory: String

    /// The cache at `directory`, created when missing; nil unless running as
    /// root with a directory only root can write.
    init?(directory: String = Self.defaultDirectory) {
        guard geteuid() == 0 else { return nil }
        var prefix = ""
        for component in directory.split(separator: "/") {
            prefix += "/" + component
            _ = mkdir(prefix, 0o755)
        }
        guard Self.isTrusted(directory, directory: true) else { return nil }
        self.directory = directory
    }

    /// The canonical text of a policy, with everything that changes the program.
    static func key(for policy: SeccompPolicy) -> String {
        var text = "paddock-seccomp 1\nlibseccomp \(seccompVersion) arch \(seccomp_arch_native())\n"
        text += "default \(policy.defaultAction)\nallow \(policy.allow.joined(separator: ","))\n"
        for condition in policy.conditional {
            text += "if \(condition.syscall) \(condition.argument) \(condition.op.rawValue) \(condition.mask) "
            text += condition.values.map { String($0) }.joined(separator: ",") + "\n"
        }
        for (name, action) in policy.actions.sorted(by: { $0.key < $1.key }) {
            text += "action \(name) \(action)\n"
        }
        return text
    }

    func program(for key: String) -> [UInt8]? {
        let path = file(for: key)
        guard Self.isTrusted(path, directory: false),
            let bytes = try? FileSystem.read(path, limit: 1 << 20)
        else { return nil }
        let header = Array(key.utf8)
        guard bytes.count > header.count, bytes.starts(with: header) else { return nil }
        let program = Array(bytes[header.count...])
        return program.count % 8 == 0 ? program : nil
    }

    /// Writes the program atomically (a temporary file, then rename); a
    /// failure only means the next launch compiles again.
    func store(_ program: [UInt8], for key: String) {
        let path = file(for: key)
        let temporary = path + ".\(getpid()).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { return }
        let bytes = Array(key.utf8) + program
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        if written != bytes.count || rename(temporary, path) != 0 { unlink(temporary) }
    }

    private func file(for key: String) -> String {
        // FNV-1a names the file; the header inside decides whether it matches.
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in key.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
        return directory + "/" + String(hash, radix: 16) + ".bpf"
    }

    /// Owned by root, not a symbolic link, writable by nobody else.
    private static func isTrusted(_ path: String, directory: Bool) -> Bool {
        var info = stat()
        guard lstat(path, &info) == 0, info.st_uid == 0, info.st_mode & 0o022 == 0 else { return false }
        return info.st_mode & S_IFMT == (directory ? S_IFDIR : S_IFREG)
    }

    private static var seccompVersion: String {
        guard let version = seccomp_version() else { return "?" }
        return "\(version.pointee.major).\(version.pointee.minor).\(version.pointee.micro)"
    }
}
