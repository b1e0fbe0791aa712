public import PaddockCore

/// Where a plugin is in its life.
public enum PluginState: String, Sendable, Codable {
    case stopped
    case starting
    case running
    case restarting
    /// Given up after a crash loop (or a start that can never succeed): every call is 306.
    case failed
}

/// What an operator sees of a plugin.
public struct PluginStatus: Sendable {
    public var id: String
    public var state: PluginState
    public var pid: Int32?
    public var uid: UInt32
    public var restarts: Int
    /// The last death, with its catalog code and evidence.
    public var lastDeath: PaddockError?
    public var callsServed: Int
    /// Calls running now.
    public var inFlight: Int
    /// Lines of the plugin's output dropped because it wrote them faster
    /// than its log is written (since the supervisor started).
    public var droppedLogLines: Int = 0
    /// Memory charged to the plugin's cgroup now, and at its peak (nil without a cgroup).
    public var memoryBytes: Int?
    public var peakMemoryBytes: Int?
    /// Latency of the last successful calls, in milliseconds (nil before any).
    public var latencyP50: Double?
    public var latencyP99: Double?
    /// Deaths by catalog code, since the supervisor started.
    public var deathCounts: [Int: Int] = [:]
}
