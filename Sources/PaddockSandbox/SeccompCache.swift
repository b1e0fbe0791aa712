import CLinux
import CSeccomp
import Glibc
import PaddockCore

/// Compiled seccomp filters kept on disk (a ``TrustedCache``), so that a
/// launch with a policy seen before skips libseccomp's compiler.
struct SeccompCache {
    static let defaultDirectory = "/var/cache/paddock/seccomp"
    private let files: TrustedCache
    var directory: String { files.directory }

    init?(directory: String = Self.defaultDirectory) {
        guard let files = TrustedCache(directory: directory) else { return nil }
        self.files = files
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

    /// The program compiled for `key`, when there is a whole one.
    func program(for key: String) -> [UInt8]? {
        guard let program = files.read(key), !program.isEmpty, program.count % 8 == 0 else { return nil }
        return program
    }

    func store(_ program: [UInt8], for key: String) {
        files.store(program, for: key)
    }

    private static var seccompVersion: String {
        guard let version = seccomp_version() else { return "?" }
        return "\(version.pointee.major).\(version.pointee.minor).\(version.pointee.micro)"
    }
}
