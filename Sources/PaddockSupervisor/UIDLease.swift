import Glibc
import PaddockCore

/// A uid held by one running plugin, host-wide: every supervisor on the
/// machine (paddockd, each `paddock run`) takes uids from the same range
/// through lock files, so two plugins that run at once never share one (and
/// never count against each other's RLIMIT_NPROC). The lock is an `flock`
/// on `<directory>/<uid>.lock`: the kernel releases it when the holder closes
/// it or dies, so a killed supervisor leaks nothing.
final class UIDLease: Sendable {
    let uid: UInt32
    private let descriptor: Int32

    private init(uid: UInt32, descriptor: Int32) {
        self.uid = uid
        self.descriptor = descriptor
    }

    deinit { close(descriptor) }

    /// Takes `preferred` when it is free, else the first free uid of `range`.
    /// - Throws: ``PaddockError`` 306 when every uid of the range is taken,
    ///   105 when the lock directory cannot be used.
    static func take(preferred: UInt32, range: Range<UInt32>, directory: String) throws(PaddockError) -> UIDLease {
        try makeDirectory(directory)
        let start = range.contains(preferred) ? preferred : range.lowerBound
        for offset in 0..<UInt32(range.count) {
            let uid = range.lowerBound + (start - range.lowerBound + offset) % UInt32(range.count)
            let fd = open("\(directory)/\(uid).lock", O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw PaddockError(.dependencyUnavailable, "cannot open \(directory)/\(uid).lock: \(String(cString: strerror(errno)))") }
            if flock(fd, LOCK_EX | LOCK_NB) == 0 { return UIDLease(uid: uid, descriptor: fd) }
            close(fd)
        }
        throw PaddockError(.pluginUnavailable, "every plugin uid from \(range.lowerBound) to \(range.upperBound - 1) is in use")
    }

    private static func makeDirectory(_ path: String) throws(PaddockError) {
        var prefix = ""
        for component in path.split(separator: "/") {
            prefix += "/" + component
            guard mkdir(prefix, 0o700) == 0 || errno == EEXIST else {
                throw PaddockError(.dependencyUnavailable, "cannot create \(prefix): \(String(cString: strerror(errno)))")
            }
        }
    }
}
