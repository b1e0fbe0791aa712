public import NIOCore

/// Runs tasks on an event loop: jobs enqueued from the loop itself run in the
/// same turn of the loop, with no thread woken. A task that prefers it and
/// awaits a future of the same loop resumes where the future completed.
public final class EventLoopTaskExecutor: TaskExecutor {
    private let eventLoop: any EventLoop

    public init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
