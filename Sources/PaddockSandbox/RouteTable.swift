import CLinux
import Glibc
import PaddockCore

/// Adds IPv4 routes to the calling process's network namespace over
/// rtnetlink: "prohibit" routes, which fail a connect at once
/// (EACCES), and routes straight onto an interface.
struct RouteTable: ~Copyable {
    private let fd: Int32
    private var sequence: UInt32 = 0

    /// - Throws: ``PaddockError`` 304 when no rtnetlink socket can be opened.
    init() throws(PaddockError) {
        fd = socket(AF_NETLINK, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0 /* NETLINK_ROUTE */)
        guard fd >= 0 else { throw PaddockError(.sandboxViolation, "no rtnetlink socket: \(String(cString: strerror(errno)))") }
    }

    deinit { close(fd) }

    enum Kind {
        /// Refused at once.
        case prohibit
        /// Sent out of this interface (by index) to the address itself.
        case onLink(interface: UInt32)
    }

    /// Adds a route; one that exists already is left as it is.
    /// - Throws: ``PaddockError`` 304 naming the range when the kernel refuses.
    mutating func add(_ range: IPv4Range, _ kind: Kind) throws(PaddockError) {
        sequence += 1
        var message: [UInt8] = []
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value) { message += $0 } }
        // struct nlmsghdr: length (patched below), RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE, sequence, port 0.
        append(UInt32(0)); append(UInt16(24)); append(UInt16(0x1 | 0x4 | 0x200 | 0x400)); append(sequence); append(UInt32(0))
        // struct rtmsg: AF_INET, prefix length, no source, tos 0, main table, static, scope, type, no flags.
        let (scope, type): (UInt8, UInt8) = if case .prohibit = kind { (0, 8) } else { (253, 1) }  // RTN_PROHIBIT, RTN_UNICAST
        message += [UInt8(AF_INET), UInt8(range.prefixLength), 0, 0, 254, 4, scope, type]
        append(UInt32(0))
        // RTA_DST, and RTA_OIF for a route onto an interface.
        append(UInt16(8)); append(UInt16(1)); message += range.bytes
        if case .onLink(let interface) = kind { append(UInt16(8)); append(UInt16(4)); append(interface) }
        withUnsafeBytes(of: UInt32(message.count)) { message.replaceSubrange(0..<4, with: $0) }
        guard send(fd, message, message.count, 0) == message.count else { throw failure(range, errno) }
        var answer = [UInt8](repeating: 0, count: 1024)
        let count = recv(fd, &answer, answer.count, 0)
        // struct nlmsgerr after the 16-byte header: a negative errno, 0 for success.
        guard count >= 20 else { throw failure(range, EIO) }
        let error = answer[16..<20].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
        guard error == 0 || error == -EEXIST else { throw failure(range, -error) }
    }

    private func failure(_ range: IPv4Range, _ number: Int32) -> PaddockError {
        PaddockError(.sandboxViolation, "cannot route \(range) in the plugin's network: \(String(cString: strerror(number)))")
    }
}
