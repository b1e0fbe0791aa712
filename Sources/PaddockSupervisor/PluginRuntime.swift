import Glibc
import NIOCore
import NIOPosix
import Synchronization
import PaddockCore
import PaddockRPC
import PaddockSandbox

/// One plugin under supervision: drives its ``PluginLifecycle`` and carries
/// its calls. Everything mutable is confined to one event loop, the one that
/// serves the plugin's connection: a call that finds the plugin running and a
/// worker slot free goes to the socket with no Task and no lock.
final class PluginRuntime: @unchecked Sendable {
    typealias Lifecycle = PluginLifecycle<ContinuousClock.Instant>

    let manifest: Manifest
    let directory: String
    let configuration: EngineConfiguration
    /// A Python plugin's interpreter (``Engine/python(for:)``), by its real path.
    let python: String
    /// The uid the plugin prefers (its registry's); it runs as the lease's.
    let preferredUID: UInt32
    let eventLoop: any EventLoop
    let log: PluginLog
    let host: HostService
    private let sharedSettings = Mutex(JSONValue.object([:]))
    private let sharedChains = Mutex([UInt64: CallChain]())

    // Confined to `eventLoop`.
    private var lifecycle: Lifecycle
    private var processes: [Int: PluginProcess] = [:]
    private var resources: [Int: ProcessResources] = [:]
    private var peer: (generation: Int, peer: RPCPeer)?
    /// Why the host killed a process: it outranks the classifier's verdict.
    private var killReasons: [Int: PaddockError] = [:]
    private var timer: (deadline: ContinuousClock.Instant, task: Scheduled<Void>)?
    private var waiters: [Lifecycle.WaiterID: Waiter] = [:]
    private var slotQueue = CircularBuffer<PendingCall>()
    private var inFlight: [UInt64: PendingCall] = [:]
    /// The copy that took over (``retire(handingOverTo:within:)``): calls that still arrive go there.
    private var successor: PluginRuntime?
    /// Calls handed to the successor, by id here: their id there, for ``cancel(_:reason:)``.
    private var forwarded: [UInt64: UInt64] = [:]
    /// Calls whose connection broke, waiting briefly for the death that explains it.
    private var awaitingDeath: [Int: [PendingCall]] = [:]
    /// Streaming calls whose destination is full: while any is, the plugin's connection is not read.
    private var pausedCalls: Set<UInt64> = []
    /// A process that let a call pass its deadline and cannot be told to stop
    /// it (a Dify plugin: its protocol has no cancellation) gets no new call
    /// until the cancellation's grace has passed: by then it has ended the
    /// call, or it is killed and new calls go to its successor process.
    private var heldGeneration: Int?
    private var nextID: UInt64 = 0
    private var callsServed = 0
    private var deathCounts: [Int: Int] = [:]
    /// Milliseconds of the last 1000 successful calls, a ring.
    private var latencies: [Double] = []
    private var latencyCursor = 0

    private enum Waiter {
        case start(EventLoopPromise<Void>)
        case stop(EventLoopPromise<Void>)
        case call(PendingCall)
    }

    init(
        manifest: Manifest, directory: String, configuration: EngineConfiguration, python: String, uid: UInt32, eventLoop: any EventLoop,
        log: PluginLog, host: HostService
    ) {
        self.manifest = manifest
        self.directory = directory
        self.configuration = configuration
        self.python = python
        self.preferredUID = uid
        self.eventLoop = eventLoop
        self.log = log
        self.host = host
        self.lifecycle = Lifecycle(configuration: .init(
            startTimeout: manifest.format == .dify ? max(configuration.startTimeout, Self.difyStartTimeout) : configuration.startTimeout,
            shutdownTimeout: configuration.shutdownTimeout,
            heartbeatInterval: configuration.heartbeatInterval, heartbeatTimeout: configuration.heartbeatTimeout,
            restart: configuration.restart))
    }

    var settings: JSONValue {
        get { sharedSettings.withLock { $0 } }
        set { sharedSettings.withLock { $0 = newValue } }
    }

    /// The chains of the calls the plugin serves now.
    var servingChains: [CallChain] { sharedChains.withLock { Array($0.values) } }

    // MARK: Operator actions

    /// Starts the plugin (an operator's start: past crashes are forgotten).
    /// - Throws: the coded error of a first attempt that failed; restarts
    ///   then go on by the restart policy.
    func start() async throws {
        try await onLoop { runtime, promise in
            let id = runtime.newID()
            runtime.waiters[id] = .start(promise)
            runtime.handle(.start(waiter: id, at: .now))
        }.get()
    }

    /// Stops the plugin: `shutdown`, then a kill at the shutdown deadline.
    /// Returns when the process has ended (at most a second past the deadline).
    func stop() async {
        _ = try? await onLoop { runtime, promise in
            let id = runtime.newID()
            runtime.waiters[id] = .stop(promise)
            runtime.handle(.stop(waiter: id, at: .now))
        }.get()
    }

    /// Hands over to `next` (an upgrade or rollback of the same plugin):
    /// calls that arrive from now on and calls waiting for a worker go to
    /// it; calls in flight finish here, for at most `limit`; then this copy stops.
    func retire(handingOverTo next: PluginRuntime, within limit: Duration) async {
        _ = try? await onLoop { runtime, promise in
            runtime.successor = next
            while let call = runtime.slotQueue.popFirst() {
                call.timer?.cancel()
                runtime.forward(call, to: next)
            }
            promise.succeed(())
        }.get()
        let deadline = ContinuousClock.now + limit
        while await status.inFlight > 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(10))
        }
        await stop()
    }

    private func forward(_ call: PendingCall, to next: PluginRuntime) {
        let chain = sharedChains.withLock { $0[call.id] } ?? .outside
        let started = next.call(call.method, params: call.params, onChunk: call.onChunk, backpressure: call.backpressure, chain: chain)
        forwarded[call.id] = started.id
        started.result.cascade(to: call.promise)
        call.promise.futureResult.assumeIsolated().whenComplete { [self] _ in forwarded[call.id] = nil }
    }

    /// Kills the plugin now, with everything in its cgroup and pid namespace.
    func terminate() async {
        _ = try? await onLoop { runtime, promise in
            runtime.handle(.stop(waiter: nil, at: .now))
            for (generation, process) in runtime.processes {
                runtime.killReasons[generation] = runtime.killReasons[generation] ?? PaddockError(.pluginUnavailable, "stopped")
                process.kill()
            }
            for resources in runtime.resources.values { resources.release() }
            promise.succeed(())
        }.get()
    }

    /// Kills the current process for `reason` (an unhonoured cancel).
    func kill(generation: Int, reason: PaddockError) {
        eventLoop.execute { [self] in execute([.kill(generation: generation, reason: reason)]) }
    }

    /// One heartbeat round trip, on demand.
    func ping() async throws {
        try await onLoop { (runtime, promise: EventLoopPromise<Void>) in
            guard runtime.lifecycle.isRunning, let peer = runtime.peer?.peer else {
                return promise.fail(runtime.lifecycle.unavailableError())
            }
            peer.call("ping", timeout: .init(runtime.configuration.heartbeatTimeout)).map { _ in }.cascade(to: promise)
        }.get()
    }

    var status: PluginStatus {
        get async {
            (try? await onLoop { runtime, promise in promise.succeed(runtime.currentStatus()) }.get())
                ?? PluginStatus(id: manifest.name, state: .stopped, uid: preferredUID, restarts: 0, callsServed: 0, inFlight: 0)
        }
    }

    private func currentStatus() -> PluginStatus {
        let live = lifecycle.liveGeneration
        let counters = live.flatMap { resources[$0]?.cgroup?.counters() }
        let sorted = latencies.sorted()
        func percentile(_ p: Int) -> Double? { sorted.isEmpty ? nil : sorted[min(sorted.count - 1, sorted.count * p / 100)] }
        let process = live.flatMap { processes[$0] }
        let state: PluginState =
            switch lifecycle.state {
            case .running: .running
            case .failed: .failed
            case .idle, .stopped, .stopping: .stopped
            default: lifecycle.isRestarting ? .restarting : .starting
            }
        return PluginStatus(
            id: manifest.name, state: state, pid: process.map { $0.pluginPID ?? $0.pid },
            uid: live.flatMap { resources[$0]?.lease?.uid } ?? preferredUID, restarts: lifecycle.restarts,
            lastDeath: lifecycle.lastDeath, callsServed: callsServed, inFlight: inFlight.count, droppedLogLines: log.droppedLines,
            memoryBytes: counters?.current, peakMemoryBytes: counters?.peak,
            latencyP50: percentile(50), latencyP99: percentile(99), deathCounts: deathCounts)
    }

    // MARK: Calls

    /// Calls the plugin. Waits for a restarting plugin; holds one of its
    /// `resource.workers` slots, queueing up to the limit; the whole call is
    /// bounded by the call timeout from now.
    /// - Returns: the call's id (for ``cancel(_:)``) and its raw JSON result.
    ///   The result fails with the plugin's coded error, 204 past the
    ///   deadline, 206 when the queue is full, 306 when the plugin is failed
    ///   or stopped, or the code of its death when it dies during the call.
    /// - Parameter backpressure: where `onChunk` writes; while it is not
    ///   writable the plugin's connection is not read, so the plugin's writes block.
    func call(
        _ method: String, params: [UInt8], onChunk: (@Sendable ([UInt8]) -> Void)?, backpressure: Backpressure? = nil,
        chain: CallChain = .outside
    ) -> (id: UInt64, result: EventLoopFuture<[UInt8]>) {
        let promise = eventLoop.makePromise(of: [UInt8].self)
        let id = CallIDs.next()
        let call = PendingCall(
            id: id, method: method, params: params, onChunk: onChunk, backpressure: backpressure,
            deadline: .now() + .init(configuration.callTimeout), promise: promise)
        sharedChains.withLock { $0[id] = chain }
        promise.futureResult.whenComplete { [self] _ in _ = sharedChains.withLock { $0.removeValue(forKey: id) } }
        if eventLoop.inEventLoop {
            admit(call)
        } else {
            eventLoop.execute { [self] in admit(call) }
        }
        return (id, promise.futureResult)
    }

    /// Cancels a call wherever it is: waiting, queued, or in flight (then
    /// the plugin gets `$/cancel`). A finished call is not affected.
    func cancel(_ id: UInt64, reason: PaddockError = PaddockError(.timedOut, "the call was cancelled by its caller")) {
        eventLoop.execute { [self] in
            if let elsewhere = forwarded[id], let successor {
                successor.cancel(elsewhere, reason: reason)
            } else if let call = inFlight[id], let rpcID = call.rpcID, let peer, peer.generation == call.generation {
                peer.peer.cancel(rpcID, error: reason)
            } else if let index = slotQueue.firstIndex(where: { $0.id == id }) {
                let call = slotQueue.remove(at: index)
                call.timer?.cancel()
                call.promise.fail(reason)
            } else if let (waiterID, call) = waitingCall(id) {
                waiters[waiterID] = nil
                handle(.cancelWaiter(waiterID))
                call.promise.fail(reason)
            }
        }
    }

    private func waitingCall(_ id: UInt64) -> (Lifecycle.WaiterID, PendingCall)? {
        for (waiterID, waiter) in waiters {
            if case .call(let call) = waiter, call.id == id { return (waiterID, call) }
        }
        return nil
    }

    private func admit(_ call: PendingCall) {
        if let successor { return forward(call, to: successor) }
        guard lifecycle.isRunning else {
            let id = newID()
            waiters[id] = .call(call)
            handle(.waitUntilRunning(id, deadline: Self.instant(call.deadline)))
            return
        }
        guard inFlight.count < manifest.resource.workers, heldGeneration == nil || heldGeneration != peer?.generation else {
            guard slotQueue.count < configuration.queueLimit else {
                call.promise.fail(PaddockError(
                    .rateLimited, "\(manifest.name) has \(inFlight.count) calls running and \(slotQueue.count) waiting; the queue is full"))
                return
            }
            call.timer = eventLoop.assumeIsolated().scheduleTask(deadline: call.deadline) { [self] in
                guard let index = slotQueue.firstIndex(where: { $0 === call }) else { return }
                slotQueue.remove(at: index)
                call.promise.fail(PaddockError(.timedOut, "the call waited for a worker of \(manifest.name) past its deadline"))
            }
            slotQueue.append(call)
            return
        }
        dispatch(call)
    }

    private func dispatch(_ call: PendingCall) {
        guard lifecycle.isRunning, let (generation, peer) = peer else { return admit(call) }
        let remaining = call.deadline - .now()
        guard remaining > .zero else {
            return call.promise.fail(PaddockError(.timedOut, "the call did not start before its deadline"))
        }
        let result = eventLoop.makePromise(of: [UInt8].self)
        call.generation = generation
        call.rpcID = peer.startCall(
            call.method, params: call.params, timeout: remaining, onChunk: flowControlled(call, peer: peer),
            cancellationGrace: .init(configuration.cancellationGrace),
            onUnhonouredCancel: { [weak self] in
                self?.kill(generation: generation, reason: PaddockError(.timedOut, "the plugin did not honour the cancellation of a call"))
            },
            promise: result)
        inFlight[call.id] = call
        lifecycle.callStarted()
        let started = ContinuousClock.now
        result.futureResult.assumeIsolated().whenComplete { [self] outcome in
            inFlight[call.id] = nil
            if pausedCalls.remove(call.id) != nil { resumeReading(peer) }
            if let deadline = lifecycle.callFinished(at: .now) { arm(deadline) }
            switch outcome {
            case .success(let bytes):
                callsServed += 1
                record(started.duration(to: .now))
                call.promise.succeed(bytes)
            case .failure(let error):
                let coded = error as? PaddockError ?? PaddockError(.pluginCrashed, "\(error)")
                if !peer.channel.isActive || self.peer?.generation != generation {
                    awaitDeath(of: generation, call: call, fallback: coded)
                } else {
                    if manifest.format == .dify, coded.code == .timedOut, call.deadline <= .now() { hold(generation) }
                    call.promise.fail(coded)
                }
            }
            dispatchQueued()
        }
    }

    /// Starts waiting calls while workers are free (and the process is not held).
    private func dispatchQueued() {
        while inFlight.count < manifest.resource.workers, heldGeneration == nil || heldGeneration != peer?.generation,
            let next = slotQueue.popFirst()
        {
            next.timer?.cancel()
            dispatch(next)
        }
    }

    /// Holds new calls from `generation` for the cancellation's grace (see ``heldGeneration``).
    private func hold(_ generation: Int) {
        heldGeneration = generation
        let grace = TimeAmount(configuration.cancellationGrace) + .milliseconds(100)
        eventLoop.assumeIsolated().scheduleTask(in: grace) { [self] in
            guard heldGeneration == generation else { return }
            heldGeneration = nil
            dispatchQueued()
        }
    }

    /// The call's chunk sink, which stops reading the plugin while the
    /// destination is not writable. Runs on the event loop.
    private func flowControlled(_ call: PendingCall, peer: RPCPeer) -> (@Sendable ([UInt8]) -> Void)? {
        guard let sink = call.onChunk, let backpressure = call.backpressure else { return call.onChunk }
        let id = call.id
        return { [self] chunk in
            sink(chunk)
            guard !backpressure.isWritable(), pausedCalls.insert(id).inserted else { return }
            if pausedCalls.count == 1 { peer.channel.setOption(ChannelOptions.autoRead, value: false).whenFailure { _ in } }
            backpressure.whenWritable { [self] in
                eventLoop.execute { [self] in
                    if pausedCalls.remove(id) != nil { resumeReading(peer) }
                }
            }
        }
    }

    private func resumeReading(_ peer: RPCPeer) {
        guard pausedCalls.isEmpty else { return }
        peer.channel.setOption(ChannelOptions.autoRead, value: true).whenFailure { _ in }
    }

    /// A call broken by a dying connection fails with the code of the death,
    /// when that is known within half a second.
    private func awaitDeath(of generation: Int, call: PendingCall, fallback: PaddockError) {
        if let death = lifecycle.lastDeath, lifecycle.liveGeneration != generation, processes[generation] == nil {
            return call.promise.fail(death)
        }
        awaitingDeath[generation, default: []].append(call)
        eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(500)) { [self] in
            guard var calls = awaitingDeath[generation], let index = calls.firstIndex(where: { $0 === call }) else { return }
            calls.remove(at: index)
            awaitingDeath[generation] = calls.isEmpty ? nil : calls
            call.promise.fail(fallback)
        }
    }

    private func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let milliseconds = Double(seconds) * 1000 + Double(attoseconds) / 1e15
        if latencies.count < 1000 {
            latencies.append(milliseconds)
        } else {
            latencies[latencyCursor] = milliseconds
            latencyCursor = (latencyCursor + 1) % 1000
        }
    }

    // MARK: Driving the lifecycle

    private func handle(_ event: Lifecycle.Event) {
        execute(lifecycle.handle(event))
    }

    private func execute(_ actions: [Lifecycle.Action]) {
        for action in actions {
            switch action {
            case .spawn(let generation): spawn(generation)
            case .initialize(let generation): initialize(generation)
            case .shutdown(let generation):
                guard let peer, peer.generation == generation else { continue }
                _ = peer.peer.call("shutdown", timeout: .init(configuration.shutdownTimeout))
            case .kill(let generation, let reason):
                if let reason, killReasons[generation] == nil { killReasons[generation] = reason }
                if let process = processes[generation] {
                    log.write("warn", "killing pid \(process.pid): \(reason?.message ?? "its connection closed")")
                    process.kill()
                }
            case .ping(let generation):
                guard let peer, peer.generation == generation else { continue }
                peer.peer.call("ping", timeout: .init(configuration.heartbeatTimeout)).assumeIsolated().whenSuccess { [self] _ in
                    handle(.pingAnswered(generation: generation, at: .now))
                }
            case .schedule(let deadline): arm(deadline)
            case .resume(let ids):
                for id in ids { resume(id) }
            case .fail(let ids, let error):
                for id in ids { fail(id, error) }
            case .log(let level, let message): log.write(level, message)
            }
        }
    }

    private func resume(_ id: Lifecycle.WaiterID) {
        switch waiters.removeValue(forKey: id) {
        case .start(let promise)?, .stop(let promise)?: promise.succeed(())
        case .call(let call)?: admit(call)
        case nil: break
        }
    }

    private func fail(_ id: Lifecycle.WaiterID, _ error: PaddockError) {
        switch waiters.removeValue(forKey: id) {
        case .start(let promise)?, .stop(let promise)?: promise.fail(error)
        case .call(let call)?: call.promise.fail(error)
        case nil: break
        }
    }

    /// Makes sure the lifecycle gets a tick no later than `deadline`: one timer, moved only earlier.
    private func arm(_ deadline: ContinuousClock.Instant) {
        if let timer, timer.deadline <= deadline { return }
        timer?.task.cancel()
        let delay = ContinuousClock.now.duration(to: deadline)
        let task = eventLoop.assumeIsolated().scheduleTask(in: .init(max(delay, .zero))) { [self] in
            timer = nil
            handle(.tick(at: .now))
        }
        timer = (deadline, task)
    }

    private func spawn(_ generation: Int) {
        PluginSpawner.run(on: eventLoop) { [self] () throws -> (PluginProcess, ProcessResources) in
            let (arguments, resources) = try launcherArguments()
            do {
                let log = self.log
                let process = try PluginProcess.spawn(launcher: configuration.launcher, arguments: arguments, group: eventLoop) {
                    stream, line in log.output(stream, line)
                }
                return (process, resources)
            } catch {
                resources.release()
                throw error
            }
        }.assumeIsolated().whenComplete { [self] outcome in
            switch outcome {
            case .success(let (process, resources)):
                processes[generation] = process
                self.resources[generation] = resources
                process.exit.hop(to: eventLoop).assumeIsolated().whenSuccess { [self] exit in ended(generation, exit) }
                handle(.spawned(generation: generation))
                if processes[generation] != nil, case .connecting(generation, _) = lifecycle.state { connect(generation, process) }
            case .failure(let error):
                let coded = error as? PaddockError ?? PaddockError(.dependencyUnavailable, "\(error)")
                handle(.spawnFailed(generation: generation, coded))
            }
        }
    }

    private func connect(_ generation: Int, _ process: PluginProcess) {
        RPCPeer.connect(socket: process.socket, service: service(), maximumFrameSize: configuration.maximumFrameSize, on: eventLoop)
            .assumeIsolated().whenComplete { [self] outcome in
                switch outcome {
                case .success(let connected):
                    guard processes[generation] != nil else { return connected.close() }
                    peer = (generation, connected)
                    connected.closeFuture.assumeIsolated().whenComplete { [self] _ in
                        if killReasons[generation] == nil, let failure = connected.failureOnLoop { killReasons[generation] = failure }
                        handle(.connectionClosed(generation: generation))
                    }
                    handle(.connected(generation: generation))
                case .failure(let error):
                    handle(.startFailed(generation: generation, PaddockError(.pluginCrashed, "cannot connect to the plugin: \(error)")))
                }
            }
    }

    private func initialize(_ generation: Int) {
        guard let peer, peer.generation == generation else { return }
        peer.peer.call("initialize", params: initializeParams()).assumeIsolated().whenComplete { [self] outcome in
            do {
                try checkAnnouncement(try outcome.get())
                handle(.initialized(generation: generation, at: .now))
                if case .running = lifecycle.state, let process = processes[generation] {
                    log.write("info", "running as uid \(resources[generation]?.lease?.uid ?? preferredUID), pid \(process.pid)")
                }
            } catch {
                let coded = error as? PaddockError ?? PaddockError(.pluginCrashed, "\(error)")
                // A closed connection means the plugin died on its own: its death is classified instead.
                guard peer.peer.channel.isActive || coded.code == .permissionDenied else { return }
                handle(.startFailed(generation: generation, coded))
            }
        }
    }

    private func ended(_ generation: Int, _ exit: ProcessExit) {
        let connection = peer?.generation == generation ? peer?.peer : nil
        let peerFailure = connection?.failureOnLoop
        let counters = resources[generation]?.cgroup?.counters()
        let evidence = DeathEvidence(
            waitStatus: exit.waitStatus, maxResidentBytes: exit.maxResidentBytes,
            memoryLimit: (manifest.resource.memory ?? ResourceLimits().memory).bytes,
            cgroup: counters, report: log.takeStderrTail())
        let classified = DeathClassifier.classify(evidence)
        let killReason = killReasons.removeValue(forKey: generation)
        var death = killReason ?? peerFailure ?? classified ?? PaddockError(.pluginUnavailable, "the plugin exited with status 0")
        // The classifier's evidence (signal, peak memory, limit) goes along with any verdict.
        if let classified { death.details.merge(classified.details) { mine, _ in mine } }
        let cleanly = evidence.exitStatus == 0 && killReason == nil && peerFailure == nil
        deathCounts[death.code.rawValue, default: 0] += 1
        let details = death.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
        log.write("error", "died: error \(death.code.rawValue): \(death.message) \(details)")
        connection?.close()
        if peer?.generation == generation { peer = nil }
        processes[generation] = nil
        resources.removeValue(forKey: generation)?.release()
        for call in awaitingDeath.removeValue(forKey: generation) ?? [] { call.promise.fail(death) }
        // A wrong announcement never fixes itself.
        handle(.exited(generation: generation, death: death, cleanly: cleanly, retryable: death.code != .permissionDenied, at: .now))
    }

    // MARK: Helpers

    private func newID() -> Lifecycle.WaiterID {
        nextID += 1
        return nextID
    }

    /// Runs `body` on the event loop with a promise it must complete.
    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (PluginRuntime, EventLoopPromise<T>) -> Void) -> EventLoopFuture<T> {
        let promise = eventLoop.makePromise(of: T.self)
        eventLoop.execute { [self] in body(self, promise) }
        return promise.futureResult
    }

    private static func instant(_ deadline: NIODeadline) -> ContinuousClock.Instant {
        .now + .nanoseconds((deadline - .now()).nanoseconds)
    }
}

/// A call on its way to the plugin. Touched only on the runtime's event loop,
/// which is what makes it safe to send there.
final class PendingCall: @unchecked Sendable {
    let id: UInt64
    let method: String
    let params: [UInt8]
    let onChunk: (@Sendable ([UInt8]) -> Void)?
    let backpressure: Backpressure?
    let deadline: NIODeadline
    let promise: EventLoopPromise<[UInt8]>
    var generation: Int?
    var rpcID: RPCID?
    var timer: Scheduled<Void>?

    init(
        id: UInt64, method: String, params: [UInt8], onChunk: (@Sendable ([UInt8]) -> Void)?, backpressure: Backpressure?,
        deadline: NIODeadline, promise: EventLoopPromise<[UInt8]>
    ) {
        self.id = id
        self.method = method
        self.params = params
        self.onChunk = onChunk
        self.backpressure = backpressure
        self.deadline = deadline
        self.promise = promise
    }
}

/// Numbers calls across every plugin of the process.
enum CallIDs {
    private static let counter = Atomic<UInt64>(0)
    static func next() -> UInt64 { counter.add(1, ordering: .relaxed).newValue }
}

/// Where plugins are spawned: one thread that lives as long as the process,
/// since the launcher's parent-death signal follows the thread that spawned it.
enum PluginSpawner {
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: 1)
        pool.start()
        return pool
    }()

    static func run<T: Sendable>(on eventLoop: any EventLoop, _ body: @escaping @Sendable () throws -> T) -> EventLoopFuture<T> {
        pool.runIfActive(eventLoop: eventLoop, body)
    }
}
