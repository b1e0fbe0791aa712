import Glibc

/// Symbolic names a profile may use for numbers: errno names, socket
/// domains and clone flags.
public enum SandboxConstants {
    static let errnos: [String: Int32] = [
        "EPERM": EPERM, "ENOENT": ENOENT, "EACCES": EACCES, "ENOSYS": ENOSYS, "EINVAL": EINVAL,
        "EAGAIN": EAGAIN, "ENOTSUP": ENOTSUP, "EAFNOSUPPORT": EAFNOSUPPORT, "EROFS": EROFS,
    ]

    static let values: [String: UInt64] = [
        "AF_UNIX": 1, "AF_INET": 2, "AF_INET6": 10, "AF_NETLINK": 16, "AF_PACKET": 17,
        "CLONE_NEWNS": 0x0002_0000, "CLONE_NEWCGROUP": 0x0200_0000, "CLONE_NEWUTS": 0x0400_0000,
        "CLONE_NEWIPC": 0x0800_0000, "CLONE_NEWUSER": 0x1000_0000, "CLONE_NEWPID": 0x2000_0000,
        "CLONE_NEWNET": 0x4000_0000,
    ]

    /// The errno for a name such as `EPERM`.
    public static func errno(named name: String) -> Int32? { errnos[name] }

    /// The name of an errno, when the profile format knows it.
    public static func errnoName(_ number: Int32) -> String? {
        errnos.first { $0.value == number }?.key
    }

    /// A number written as decimal, `0x` hex, a known name, or names joined by `|`.
    public static func value(_ text: String) -> UInt64? {
        var total: UInt64 = 0
        var found = false
        for part in text.utf8.split(separator: UInt8(ascii: "|")) {
            let token = String(decoding: part.drop { $0 == 32 }.reversed().drop { $0 == 32 }.reversed(), as: UTF8.self)
            if let number = UInt64(token) {
                total |= number
            } else if token.hasPrefix("0x"), let number = UInt64(token.dropFirst(2), radix: 16) {
                total |= number
            } else if let number = values[token] {
                total |= number
            } else {
                return nil
            }
            found = true
        }
        return found ? total : nil
    }
}
