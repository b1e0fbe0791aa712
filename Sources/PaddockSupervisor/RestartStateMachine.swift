/// When a plugin that died is started again: restart policy, exponential
/// backoff reset after a healthy period, and crash-loop detection. Pure:
/// time comes in as instants of any clock, so tests drive it by hand.
public struct RestartStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    /// Whether a plugin is restarted after it ends.
    public enum Policy: String, Sendable, CaseIterable {
        case always
        case onFailure = "on-failure"
        case never
    }

    public struct Configuration: Sendable, Equatable {
        public var policy: Policy
        public var initialBackoff: Duration
        public var maximumBackoff: Duration
        /// Running this long resets the backoff to its initial value.
        public var healthyAfter: Duration
        /// More restarts than this within `crashLoopWindow` and the plugin is given up.
        public var crashLoopLimit: Int
        public var crashLoopWindow: Duration

        public init(
            policy: Policy = .always,
            initialBackoff: Duration = .milliseconds(100),
            maximumBackoff: Duration = .seconds(30),
            healthyAfter: Duration = .seconds(30),
            crashLoopLimit: Int = 5,
            crashLoopWindow: Duration = .seconds(60)
        ) {
            self.policy = policy
            self.initialBackoff = initialBackoff
            self.maximumBackoff = maximumBackoff
            self.healthyAfter = healthyAfter
            self.crashLoopLimit = crashLoopLimit
            self.crashLoopWindow = crashLoopWindow
        }
    }

    public enum Action: Equatable, Sendable {
        /// Start the plugin again after this delay.
        case restart(after: Duration)
        /// Do not restart: the policy says so for this kind of exit.
        case stop
        /// Too many restarts in the window: the plugin is `failed` until an operator acts.
        case giveUp
    }

    public let configuration: Configuration
    private var backoff: Duration
    private var restarts: [Instant] = []
    private var runningSince: Instant?

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
        self.backoff = configuration.initialBackoff
    }

    /// The plugin reached running.
    public mutating func started(at now: Instant) {
        runningSince = now
    }

    /// The plugin ended; `cleanly` when it exited with status 0 on its own.
    public mutating func exited(at now: Instant, cleanly: Bool) -> Action {
        defer { runningSince = nil }
        switch configuration.policy {
        case .never: return .stop
        case .onFailure where cleanly: return .stop
        default: break
        }
        if let since = runningSince, since.duration(to: now) >= configuration.healthyAfter {
            backoff = configuration.initialBackoff
        }
        let window = configuration.crashLoopWindow
        restarts.removeAll { $0.duration(to: now) > window }
        guard restarts.count < configuration.crashLoopLimit else { return .giveUp }
        restarts.append(now)
        let delay = backoff
        backoff = min(backoff * 2, configuration.maximumBackoff)
        return .restart(after: delay)
    }

    /// An operator activated the plugin again: forget past crashes.
    public mutating func reset() {
        backoff = configuration.initialBackoff
        restarts.removeAll()
        runningSince = nil
    }
}
