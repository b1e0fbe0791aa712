/// Whether an idle plugin is alive: after `interval` without any message it
/// gets a `ping`; no answer within `timeout` and it is wedged. A plugin with
/// calls in flight is never pinged (its calls have their own deadlines, and
/// the SDKs answer `ping` on their I/O thread anyway). Pure, like
/// ``RestartStateMachine``.
public struct HeartbeatStateMachine<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public enum Action: Equatable, Sendable {
        case none
        case ping
        /// No answer to the ping in time: kill, classify, restart.
        case wedged
    }

    public let interval: Duration
    public let timeout: Duration
    private var lastActivity: Instant
    private var pingSent: Instant?
    private var inFlight = 0

    public init(interval: Duration, timeout: Duration, now: Instant) {
        self.interval = interval
        self.timeout = timeout
        self.lastActivity = now
    }

    /// Any message from the plugin, or the answer to a ping.
    public mutating func heard(at now: Instant) {
        lastActivity = now
        pingSent = nil
    }

    public mutating func callStarted() {
        inFlight += 1
    }

    public mutating func callFinished(at now: Instant) {
        inFlight = max(0, inFlight - 1)
        lastActivity = now
    }

    /// What to do now; call it periodically.
    public mutating func tick(at now: Instant) -> Action {
        if let sent = pingSent {
            return sent.duration(to: now) >= timeout ? .wedged : .none
        }
        guard inFlight == 0, lastActivity.duration(to: now) >= interval else { return .none }
        pingSent = now
        return .ping
    }
}
