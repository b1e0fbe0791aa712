import Dispatch
import Foundation
import Synchronization

/// The one thread that writes (and rotates) every plugin's log, shared by
/// all ``PluginLog``s of the process. The event loops that read plugin
/// output only queue lines; the disk is this thread's alone, so a slow disk
/// or a flooding plugin never holds an event loop that carries other
/// plugins' calls.
final class LogWriter: Sendable {
    static let shared = LogWriter()

    private enum Work: Sendable {
        /// A log with lines queued (listed once until it is written).
        case log(PluginLog)
        /// Runs once everything listed before it is written.
        case barrier(@Sendable () -> Void)
    }

    private let ready = Mutex<[Work]>([])
    /// Signalled when `ready` goes from empty to not empty: the writer
    /// waits on it only when it has nothing to do, and a signal to a busy
    /// writer is an atomic increment, not a system call.
    private let wake = DispatchSemaphore(value: 0)

    private init() {
        Thread.detachNewThread { [self] in
            Thread.current.name = "paddock-logs"
            run()
        }
    }

    /// Has `log`'s queued lines written soon.
    func schedule(_ log: PluginLog) {
        add(.log(log))
    }

    /// Returns once every line queued so far, in every log, is written.
    func flush() async {
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            add(.barrier { done.resume() })
        }
    }

    private func add(_ work: Work) {
        let first = ready.withLock { ready in
            ready.append(work)
            return ready.count == 1
        }
        if first { wake.signal() }
    }

    private func run() -> Never {
        while true {
            wake.wait()
            let work = ready.withLock { ready in
                var taken: [Work] = []
                swap(&taken, &ready)
                return taken
            }
            for item in work {
                switch item {
                case .log(let log): log.writeQueued()
                case .barrier(let done): done()
                }
            }
        }
    }
}
