public import PaddockCore

/// One plugin's life as a pure state machine: each event returns the
/// actions a driver must carry out (spawn, initialize, shut down, kill,
/// ping, arm the timer, resume or fail waiters). Time comes in as instants
/// of any clock, like ``RestartStateMachine``, so tests drive it by hand.
///
/// Each process is a *generation*; events about an older generation than the
/// live one only ever lead to killing that process. Stop is legal in every
/// state and ends by the shutdown deadline (plus a second for a kill to land).
public struct PluginLifecycle<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public struct Configuration: Sendable {
        public var startTimeout: Duration
        public var shutdownTimeout: Duration
        public var heartbeatInterval: Duration
        public var heartbeatTimeout: Duration
        /// How long a kill has to land before a stop ends without seeing the exit.
        public var killGrace: Duration
        public var restart: RestartStateMachine<Instant>.Configuration

        public init(
            startTimeout: Duration = .seconds(10), shutdownTimeout: Duration = .seconds(2),
            heartbeatInterval: Duration = .seconds(10), heartbeatTimeout: Duration = .seconds(5), killGrace: Duration = .seconds(1),
            restart: RestartStateMachine<Instant>.Configuration = .init()
        ) {
            self.startTimeout = startTimeout
            self.shutdownTimeout = shutdownTimeout
            self.heartbeatInterval = heartbeatInterval
            self.heartbeatTimeout = heartbeatTimeout
            self.killGrace = killGrace
            self.restart = restart
        }
    }

    public enum State: Equatable, Sendable {
        case idle
        /// The launcher is being started; `deadline` bounds the whole start.
        case spawning(generation: Int, deadline: Instant)
        case connecting(generation: Int, deadline: Instant)
        /// `initialize` is sent and not answered yet.
        case initializing(generation: Int, deadline: Instant)
        case running(generation: Int)
        /// Killed (a failed start, a closed connection, a missed heartbeat): waiting for the exit to restart.
        case dying(generation: Int)
        /// Asked to stop: `shutdown` sent (or a kill when it could not be), waiting for the exit until `deadline`.
        case stopping(generation: Int, deadline: Instant, killed: Bool)
        case backoff(until: Instant)
        /// Given up: not restarted until started again.
        case failed(PaddockError)
        case stopped
    }

    public typealias WaiterID = UInt64

    public enum Event: Sendable {
        /// An operator's start; `waiter` learns how the first attempt ends.
        case start(waiter: WaiterID?, at: Instant)
        case spawned(generation: Int)
        /// The launcher could not even be started: retrying will not help.
        case spawnFailed(generation: Int, PaddockError)
        case connected(generation: Int)
        case initialized(generation: Int, at: Instant)
        /// `initialize` was refused or the announcement was wrong: the start fails with this.
        case startFailed(generation: Int, PaddockError)
        /// The process ended. `retryable` is false for deaths that never fix themselves.
        case exited(generation: Int, death: PaddockError, cleanly: Bool, retryable: Bool, at: Instant)
        case connectionClosed(generation: Int)
        case pingAnswered(generation: Int, at: Instant)
        case stop(waiter: WaiterID?, at: Instant)
        /// A call waits until the plugin runs, at most until `deadline`.
        case waitUntilRunning(WaiterID, deadline: Instant)
        case cancelWaiter(WaiterID)
        /// The timer the driver armed has fired.
        case tick(at: Instant)
    }

    public enum Action: Equatable, Sendable {
        case spawn(generation: Int)
        case initialize(generation: Int)
        case shutdown(generation: Int)
        /// Kill the process of `generation`; `reason` (when given) is its death, over the classifier's.
        case kill(generation: Int, reason: PaddockError?)
        case ping(generation: Int)
        /// Make sure a `tick` arrives no later than this.
        case schedule(Instant)
        case resume([WaiterID])
        case fail([WaiterID], PaddockError)
        case log(level: String, message: String)
    }

    public let configuration: Configuration
    public private(set) var state: State = .idle
    public private(set) var generation = 0
    public private(set) var restarts = 0
    public private(set) var lastDeath: PaddockError?
    private var restartMachine: RestartStateMachine<Instant>
    /// Whether the current start is an operator's (its failure is a start failure, not a restart).
    private var firstAttempt = true
    private var startWaiters: [WaiterID] = []
    private var stopWaiters: [WaiterID] = []
    private var readyWaiters: [WaiterID: Instant] = [:]
    private var lastActivity: Instant?
    private var pingSent: Instant?
    private var inFlight = 0

    public init(configuration: Configuration) {
        self.configuration = configuration
        self.restartMachine = RestartStateMachine(configuration: configuration.restart)
    }

    /// The generation of a live process, if any.
    public var liveGeneration: Int? {
        switch state {
        case .spawning(let g, _), .connecting(let g, _), .initializing(let g, _), .running(let g), .dying(let g), .stopping(let g, _, _): g
        default: nil
        }
    }

    public var isRunning: Bool {
        if case .running = state { true } else { false }
    }

    /// Whether the plugin is coming up after a death (not an operator's start).
    public var isRestarting: Bool {
        switch state {
        case .backoff, .dying: true
        case .spawning, .connecting, .initializing: !firstAttempt
        default: false
        }
    }

    public mutating func handle(_ event: Event) -> [Action] {
        switch event {
        case .start(let waiter, let now): return start(waiter, now)
        case .spawned(let g):
            guard case .spawning(g, let deadline) = state else { return stale(g) }
            state = .connecting(generation: g, deadline: deadline)
            return []
        case .spawnFailed(let g, let error):
            guard g == liveGeneration else { return [] }
            if case .stopping = state { return settle(stoppedOrFailed: .stopped, error: stoppedError()) }
            lastDeath = error
            return settle(stoppedOrFailed: .failed(error), error: error)
        case .connected(let g):
            guard case .connecting(g, let deadline) = state else { return stale(g) }
            state = .initializing(generation: g, deadline: deadline)
            return [.initialize(generation: g)]
        case .initialized(let g, let now):
            guard case .initializing(g, _) = state else { return stale(g) }
            state = .running(generation: g)
            firstAttempt = false
            restartMachine.started(at: now)
            lastActivity = now
            pingSent = nil
            inFlight = 0
            let waiters = startWaiters + Array(readyWaiters.keys)
            startWaiters.removeAll()
            readyWaiters.removeAll()
            return [.resume(waiters), .schedule(now.advanced(by: configuration.heartbeatInterval))]
        case .startFailed(let g, let error):
            guard g == liveGeneration else { return [] }
            if case .stopping = state { return [] }
            state = .dying(generation: g)
            return [.kill(generation: g, reason: error)]
        case .exited(let g, let death, let cleanly, let retryable, let now):
            guard g == liveGeneration else { return [] }
            return exited(death, cleanly: cleanly, retryable: retryable, now)
        case .connectionClosed(let g):
            guard case .running(g) = state else { return [] }
            state = .dying(generation: g)
            return [.kill(generation: g, reason: nil)]
        case .pingAnswered(let g, let now):
            guard case .running(g) = state else { return [] }
            lastActivity = now
            pingSent = nil
            return [.schedule(now.advanced(by: configuration.heartbeatInterval))]
        case .stop(let waiter, let now): return stop(waiter, now)
        case .waitUntilRunning(let id, let deadline):
            switch state {
            case .running: return [.resume([id])]
            case .failed, .stopped, .idle, .stopping: return [.fail([id], unavailable())]
            default:
                readyWaiters[id] = deadline
                return [.schedule(deadline)]
            }
        case .cancelWaiter(let id):
            readyWaiters[id] = nil
            return []
        case .tick(let now): return tick(now)
        }
    }

    // MARK: Calls, for the heartbeat (no actions: a busy plugin is never pinged)

    public mutating func callStarted() {
        inFlight += 1
    }

    /// A call ended; returns the heartbeat deadline the timer must cover when the plugin became idle.
    public mutating func callFinished(at now: Instant) -> Instant? {
        inFlight = max(0, inFlight - 1)
        lastActivity = now
        return inFlight == 0 && isRunning ? now.advanced(by: configuration.heartbeatInterval) : nil
    }

    // MARK: Transitions

    private mutating func start(_ waiter: WaiterID?, _ now: Instant) -> [Action] {
        switch state {
        case .running:
            return waiter.map { [.resume([$0])] } ?? []
        case .spawning, .connecting, .initializing, .dying:
            if let waiter { startWaiters.append(waiter) }
            return []
        case .stopping:
            return waiter.map { [.fail([$0], PaddockError(.pluginUnavailable, "the plugin is stopping; start it again when it has stopped"))] } ?? []
        case .idle, .stopped, .failed, .backoff:
            restartMachine.reset()
            firstAttempt = true
            if let waiter { startWaiters.append(waiter) }
            return spawn(now)
        }
    }

    private mutating func spawn(_ now: Instant) -> [Action] {
        generation += 1
        let deadline = now.advanced(by: configuration.startTimeout)
        state = .spawning(generation: generation, deadline: deadline)
        return [.spawn(generation: generation), .schedule(deadline)]
    }

    private mutating func stop(_ waiter: WaiterID?, _ now: Instant) -> [Action] {
        let deadline = now.advanced(by: configuration.shutdownTimeout)
        var actions: [Action] = []
        switch state {
        case .idle, .stopped, .failed, .backoff:
            return settle(stoppedOrFailed: .stopped, error: stoppedError()) + (waiter.map { [.resume([$0])] } ?? [])
        case .stopping:
            if let waiter { stopWaiters.append(waiter) }
            return []
        case .running(let g):
            state = .stopping(generation: g, deadline: deadline, killed: false)
            actions = [.shutdown(generation: g), .schedule(deadline)]
        case .spawning(let g, _):
            // The spawn is under way: its process is killed as soon as it exists.
            state = .stopping(generation: g, deadline: deadline, killed: false)
            actions = [.schedule(deadline)]
        case .connecting(let g, _), .initializing(let g, _), .dying(let g):
            state = .stopping(generation: g, deadline: deadline, killed: true)
            actions = [.kill(generation: g, reason: stoppedError()), .schedule(deadline)]
        }
        if let waiter { stopWaiters.append(waiter) }
        let error = stoppedError()
        let waiting = startWaiters + Array(readyWaiters.keys)
        startWaiters.removeAll()
        readyWaiters.removeAll()
        return actions + (waiting.isEmpty ? [] : [.fail(waiting, error)])
    }

    private mutating func exited(_ death: PaddockError, cleanly: Bool, retryable: Bool, _ now: Instant) -> [Action] {
        lastDeath = death
        if case .stopping = state {
            state = .stopped
            return settle(stoppedOrFailed: .stopped, error: stoppedError())
        }
        var actions: [Action] = []
        if firstAttempt, !startWaiters.isEmpty {
            actions.append(.fail(startWaiters, death))
            startWaiters.removeAll()
        }
        let decision = retryable ? restartMachine.exited(at: now, cleanly: cleanly) : .giveUp
        switch decision {
        case .restart(let delay):
            restarts += 1
            let until = now.advanced(by: delay)
            state = .backoff(until: until)
            return actions + [.log(level: "info", message: "restarting in \(delay)"), .schedule(until)]
        case .giveUp:
            let error = unavailable(failed: true)
            return actions + [.log(level: "error", message: "failed: not restarted again until it is activated")]
                + settle(stoppedOrFailed: .failed(death), error: error)
        case .stop:
            return actions + settle(stoppedOrFailed: .stopped, error: unavailable(failed: false))
        }
    }

    /// Enters `stopped` or `failed`: every waiter learns it.
    private mutating func settle(stoppedOrFailed next: State, error: PaddockError) -> [Action] {
        state = next
        var actions: [Action] = []
        let failing = startWaiters + Array(readyWaiters.keys)
        startWaiters.removeAll()
        readyWaiters.removeAll()
        if !failing.isEmpty { actions.append(.fail(failing, startFailure(error))) }
        if !stopWaiters.isEmpty { actions.append(.resume(stopWaiters)) }
        stopWaiters.removeAll()
        return actions
    }

    /// What a waiting start learns when the plugin stops or fails.
    private func startFailure(_ error: PaddockError) -> PaddockError {
        if case .failed(let death) = state, firstAttempt { return death }
        return error
    }

    private mutating func tick(_ now: Instant) -> [Action] {
        var actions: [Action] = []
        let expired = readyWaiters.filter { $0.value <= now }.map(\.key)
        if !expired.isEmpty {
            for id in expired { readyWaiters[id] = nil }
            actions.append(.fail(expired, PaddockError(.pluginUnavailable, "the plugin did not come back within the call deadline")))
        }
        switch state {
        case .spawning(let g, let deadline), .connecting(let g, let deadline), .initializing(let g, let deadline):
            if deadline <= now {
                state = .dying(generation: g)
                actions.append(.kill(generation: g, reason: PaddockError(
                    .timedOut, "the plugin did not finish starting within \(configuration.startTimeout)",
                    details: ["timeout_seconds": String(Double(configuration.startTimeout.components.seconds))])))
            }
        case .running(let g):
            if let sent = pingSent {
                if sent.advanced(by: configuration.heartbeatTimeout) <= now {
                    state = .dying(generation: g)
                    actions.append(.kill(generation: g, reason: PaddockError(
                        .timedOut, "the plugin did not answer a heartbeat ping within \(configuration.heartbeatTimeout)")))
                }
            } else if inFlight == 0, let last = lastActivity, last.advanced(by: configuration.heartbeatInterval) <= now {
                pingSent = now
                actions.append(.ping(generation: g))
            }
        case .stopping(let g, let deadline, let killed):
            if deadline <= now {
                if killed {
                    // The kill did not land in time: the stop ends anyway; a late exit is ignored.
                    actions.append(.log(level: "error", message: "generation \(g) did not end \(configuration.killGrace) after it was killed"))
                    actions += settle(stoppedOrFailed: .stopped, error: stoppedError())
                    return actions
                }
                state = .stopping(generation: g, deadline: now.advanced(by: configuration.killGrace), killed: true)
                actions.append(.kill(generation: g, reason: PaddockError(
                    .pluginUnavailable, "stopped: the plugin did not exit within \(configuration.shutdownTimeout) of shutdown")))
            }
        case .backoff(let until):
            if until <= now { actions += spawn(now) }
        case .idle, .dying, .failed, .stopped:
            break
        }
        if let next = nextDeadline { actions.append(.schedule(next)) }
        return actions
    }

    /// The earliest instant at which a tick has work to do.
    public var nextDeadline: Instant? {
        var candidates = Array(readyWaiters.values)
        switch state {
        case .spawning(_, let deadline), .connecting(_, let deadline), .initializing(_, let deadline), .stopping(_, let deadline, _):
            candidates.append(deadline)
        case .backoff(let until):
            candidates.append(until)
        case .running:
            if let sent = pingSent {
                candidates.append(sent.advanced(by: configuration.heartbeatTimeout))
            } else if inFlight == 0, let last = lastActivity {
                candidates.append(last.advanced(by: configuration.heartbeatInterval))
            }
        default: break
        }
        return candidates.min()
    }

    /// A start step of a process the machine is no longer starting (stopped,
    /// timed out, superseded): that process must not survive.
    private func stale(_ g: Int) -> [Action] {
        [.kill(generation: g, reason: stoppedError())]
    }

    private func stoppedError() -> PaddockError {
        PaddockError(.pluginUnavailable, "the plugin was stopped")
    }

    private func unavailable(failed: Bool? = nil) -> PaddockError {
        let isFailed = failed ?? { if case .failed = state { true } else { false } }()
        var error = PaddockError(
            .pluginUnavailable, isFailed ? "the plugin failed and is not restarted until activated again" : "the plugin is not running")
        if let lastDeath {
            error.message += " (last death: error \(lastDeath.code.rawValue): \(lastDeath.message))"
            error.details["last_death_code"] = String(lastDeath.code.rawValue)
        }
        return error
    }

    /// The error a call gets when the plugin is not running and will not come back by itself.
    public func unavailableError() -> PaddockError {
        unavailable()
    }
}
