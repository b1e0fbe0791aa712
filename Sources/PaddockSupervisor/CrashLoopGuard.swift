import Glibc

/// Breaks a crash loop that involves paddockd itself: a plugin that found a
/// way to kill the daemon would kill it again after every restart, when the
/// active plugins come back. `<data>/paddockd.unclean` counts the starts in
/// a row that ended neither in a clean stop nor after running
/// ``settleAfter``; from ``limit`` of them on, paddockd starts in safe mode
/// (every plugin left inactive), as `paddockd --safe` does on request.
public struct CrashLoopGuard: Sendable {
    /// Unclean starts in a row that make the next one safe.
    public static let limit = 3
    /// Running this long makes a start count as clean.
    public static let settleAfter: Duration = .seconds(600)

    let path: String

    public init(dataDirectory: String) {
        path = dataDirectory + "/paddockd.unclean"
    }

    /// Counts this start as unclean until ``settled()``.
    /// - Returns: the unclean starts in a row before this one.
    public func begin() -> Int {
        let before = read()
        write(before + 1)
        return before
    }

    /// This start is clean: it stopped cleanly or ran long enough.
    public func settled() {
        write(0)
    }

    private func read() -> Int {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { return 0 }
        defer { close(fd) }
        var bytes = [UInt8](repeating: 0, count: 20)
        let count = Glibc.read(fd, &bytes, bytes.count)
        guard count > 0 else { return 0 }
        return String(decoding: bytes[..<count], as: UTF8.self).split(separator: "\n").first.flatMap { Int($0) } ?? 0
    }

    /// Replaces the file whole (written, synced, renamed), so a crash leaves the old count or the new one.
    private func write(_ count: Int) {
        let temporary = path + ".new"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { return }
        let text = Array("\(count)\n".utf8)
        _ = text.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        fsync(fd)
        close(fd)
        rename(temporary, path)
    }
}
