import Glibc
import PaddockCore

/// Asks for one line on the terminal with echo off, the way `sudo` and `ssh`
/// ask for a password: the answer is neither in argv nor on the screen.
enum TerminalPrompt {
    /// The controlling terminal, even when standard input and output are redirected.
    static let terminal = "/dev/tty"

    /// The longest answer taken.
    static let maximumBytes = 1 << 20

    /// Writes `question` on `terminal`, reads one line with echo turned off,
    /// and gives the terminal back as it was.
    /// - Parameters:
    ///   - otherwise: the message when there is no terminal, saying what to use instead.
    /// - Throws: ``PaddockError`` 101 when there is no terminal; 102 when the
    ///   answer is not UTF-8 text or over 1 MiB.
    static func ask(_ question: String, terminal: String = terminal, otherwise: String) throws(PaddockError) -> String {
        let fd = open(terminal, O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { throw PaddockError(.configurationMissing, otherwise) }
        defer { close(fd) }
        var saved = termios()
        guard isatty(fd) == 1, tcgetattr(fd, &saved) == 0 else { throw PaddockError(.configurationMissing, otherwise) }
        var quiet = saved
        // No echo, but the newline is echoed so that the next output starts on a line of its own.
        quiet.c_lflag = (quiet.c_lflag & ~tcflag_t(ECHO)) | tcflag_t(ICANON | ECHONL)
        Restorer.arm(fd, saved)
        defer { Restorer.disarm() }
        guard tcsetattr(fd, TCSANOW, &quiet) == 0 else { throw PaddockError(.configurationMissing, otherwise) }
        defer { _ = tcsetattr(fd, TCSANOW, &saved) }
        write(fd, question)
        return try line(fd)
    }

    /// Gives the terminal its echo back when Ctrl-C (or another ending
    /// signal) comes during the prompt, then lets the signal end the process.
    private enum Restorer {
        static let signals = [SIGINT, SIGQUIT, SIGTERM, SIGHUP]
        // Set before the handlers are installed and cleared after they are
        // removed, on the one thread that asks; the handler only reads them.
        nonisolated(unsafe) static var descriptor: Int32 = -1
        nonisolated(unsafe) static var saved = termios()
        nonisolated(unsafe) static var previous: [sigaction] = []

        static func arm(_ fd: Int32, _ settings: termios) {
            descriptor = fd
            saved = settings
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                _ = tcsetattr(Restorer.descriptor, TCSANOW, &Restorer.saved)
                Glibc.signal(signal, SIG_DFL)
                raise(signal)
            }
            previous = signals.map { number in
                var old = sigaction()
                sigaction(number, &action, &old)
                return old
            }
        }

        static func disarm() {
            for (number, var old) in zip(signals, previous) { sigaction(number, &old, nil) }
            previous = []
            descriptor = -1
        }
    }

    /// Bytes up to a newline or the end, without the line ending.
    private static func line(_ fd: Int32) throws(PaddockError) -> String {
        var bytes: [UInt8] = []
        var byte: UInt8 = 0
        while bytes.count <= maximumBytes {
            let got = Glibc.read(fd, &byte, 1)
            if got < 0 && errno == EINTR { continue }
            guard got == 1, byte != UInt8(ascii: "\n") else { break }
            bytes.append(byte)
        }
        if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
        guard bytes.count <= maximumBytes, let text = String(validating: bytes, as: UTF8.self) else {
            throw PaddockError(.wrongFormat, "the answer is not UTF-8 text of at most 1 MiB")
        }
        return text
    }

    private static func write(_ fd: Int32, _ text: String) {
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { return }
            bytes = bytes.dropFirst(written)
        }
    }
}
