import Foundation
import Glibc

/// A real pseudo-terminal for code that talks to a terminal: the test types
/// and reads on the master side, the code under test opens ``path``.
public final class PseudoTerminal {
    /// The terminal's device, such as `/dev/pts/3`.
    public let path: String
    private let master: Int32
    /// Held open so that the terminal lives between the opens of the code under test.
    private let slave: Int32

    public init() throws {
        // Glibc's module leaves out posix_openpt and ptsname, and the ioctl
        // macros do not import: TIOCSPTLCK and TIOCGPTN (asm-generic) by value.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: CInt = 0
        var number: CUnsignedInt = 0
        guard master >= 0, ioctl(master, 0x4004_5431, &unlock) == 0, ioctl(master, 0x8004_5430, &number) == 0 else {
            throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ENODEV)
        }
        path = "/dev/pts/\(number)"
        slave = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard slave >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .ENODEV) }
    }

    /// Types `text` on the terminal.
    public func write(_ text: String) {
        let bytes = Array(text.utf8)
        _ = Glibc.write(master, bytes, bytes.count)
    }

    /// What the terminal shows, up to and including `end` (or all that came
    /// within `timeout` seconds).
    public func read(until end: String, timeout: Double = 5) -> String {
        var shown: [UInt8] = []
        let deadline = Date(timeIntervalSinceNow: timeout)
        // Bytes, not Characters: "\r\n" is one Character, which does not end with "\n".
        while !shown.suffix(end.utf8.count).elementsEqual(end.utf8), Date() < deadline {
            var entry = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            guard poll(&entry, 1, 50) > 0 else { continue }
            var byte: UInt8 = 0
            if Glibc.read(master, &byte, 1) == 1 { shown.append(byte) }
        }
        return String(decoding: shown, as: UTF8.self)
    }

    /// Whether the terminal echoes what is typed.
    public var echoes: Bool {
        var settings = termios()
        return tcgetattr(slave, &settings) == 0 && settings.c_lflag & tcflag_t(ECHO) != 0
    }

    deinit {
        close(slave)
        close(master)
    }
}
