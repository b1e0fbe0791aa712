import NIOCore
import Synchronization

/// The events of one streamed call, between the supervisor's connection and
/// the HTTP response: at most `highWatermark` bytes wait here. Past that the
/// producer is paused (its connection is not read); it resumes once the
/// client has taken the buffer below `lowWatermark`. Dropping the iterator
/// (the client went away) runs `onTermination`.
final class ChunkStream: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    private struct State {
        var buffer: CircularBuffer<ByteBuffer> = []
        var bytes = 0
        var finished = false
        var paused = false
        var waiter: CheckedContinuation<ByteBuffer?, Never>?
    }

    private let state = Mutex(State())
    private let highWatermark: Int
    private let lowWatermark: Int
    private let pause: @Sendable () -> Void
    private let resume: @Sendable () -> Void
    private let terminated: Mutex<(@Sendable () -> Void)?>

    init(
        highWatermark: Int = 256 << 10, lowWatermark: Int = 64 << 10, pause: @escaping @Sendable () -> Void,
        resume: @escaping @Sendable () -> Void
    ) {
        self.highWatermark = highWatermark
        self.lowWatermark = lowWatermark
        self.pause = pause
        self.resume = resume
        self.terminated = Mutex(nil)
    }

    /// Runs once, when the consumer has gone (finished or dropped the iterator).
    func onTermination(_ callback: @escaping @Sendable () -> Void) {
        terminated.withLock { $0 = callback }
    }

    func yield(_ chunk: ByteBuffer) {
        let (waiter, mustPause) = state.withLock { state -> (CheckedContinuation<ByteBuffer?, Never>?, Bool) in
            guard !state.finished else { return (nil, false) }
            if let waiter = state.waiter {
                state.waiter = nil
                return (waiter, false)
            }
            state.buffer.append(chunk)
            state.bytes += chunk.readableBytes
            guard state.bytes > highWatermark, !state.paused else { return (nil, false) }
            state.paused = true
            return (nil, true)
        }
        waiter?.resume(returning: chunk)
        if mustPause { pause() }
    }

    func finish() {
        let waiter = state.withLock { state in
            state.finished = true
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    private func next() async -> ByteBuffer? {
        await withCheckedContinuation { continuation in
            let (ready, mustResume) = state.withLock { state -> (ByteBuffer??, Bool) in
                if let chunk = state.buffer.popFirst() {
                    state.bytes -= chunk.readableBytes
                    let resume = state.paused && state.bytes < lowWatermark
                    if resume { state.paused = false }
                    return (.some(chunk), resume)
                }
                if state.finished { return (.some(nil), false) }
                state.waiter = continuation
                return (nil, false)
            }
            if mustResume { resume() }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    private func end() {
        terminated.withLock { callback in
            defer { callback = nil }
            return callback
        }?()
    }

    func makeAsyncIterator() -> Iterator {
        Iterator(stream: self)
    }

    final class Iterator: AsyncIteratorProtocol {
        private let stream: ChunkStream

        init(stream: ChunkStream) {
            self.stream = stream
        }

        func next() async -> ByteBuffer? {
            guard let chunk = await stream.next() else {
                stream.end()
                return nil
            }
            return chunk
        }

        deinit {
            stream.end()
        }
    }
}
