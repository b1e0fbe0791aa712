import Dispatch
import Glibc
import Synchronization

/// SIGINT, SIGTERM and SIGHUP, caught instead of ending the process at once,
/// so that a command can stop its plugins and clean up first.
enum TerminationSignals {
    static let numbers = [SIGINT, SIGTERM, SIGHUP]
    private static let last = Atomic<Int32>(0)

    /// The signal that came, if one did: the command is stopping, and the
    /// task that caught it ends the process.
    static var received: Int32? {
        let number = last.load(ordering: .acquiring)
        return number == 0 ? nil : number
    }

    /// Catches the signals from now on and waits for the first; returns its
    /// number, or nil when the waiting task is cancelled.
    static func first() async -> Int32? {
        let sources = numbers.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number)
            source.resume()
            return (number, source)
        }
        let received = AsyncStream<Int32> { continuation in
            for (number, source) in sources { source.setEventHandler { continuation.yield(number) } }
        }
        defer { for (_, source) in sources { source.cancel() } }
        for await number in received {
            last.store(number, ordering: .releasing)
            return number
        }
        return nil
    }
}
