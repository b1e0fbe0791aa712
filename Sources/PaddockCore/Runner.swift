/// How a plugin is started: its language, the minimum version of that
/// language's runtime, and its entry point relative to the plugin directory.
public struct Runner: Hashable, Sendable, Codable {
    public var language: Language
    /// The minimum runtime version (`"3.11"` means 3.11 or newer); nil for any.
    public var version: RuntimeVersion?
    /// For Python, the script to run; for Swift, the package's `Package.swift`,
    /// whose executable product is named after the plugin.
    public var entrypoint: String

    public init(language: Language, version: RuntimeVersion? = nil, entrypoint: String) {
        self.language = language
        self.version = version
        self.entrypoint = entrypoint
    }

    /// The languages a plugin can be written in.
    public enum Language: String, CaseIterable, Hashable, Sendable, Codable {
        case python
        case swift
    }
}

/// What a plugin may consume.
public struct Resource: Hashable, Sendable, Codable {
    /// The memory cap; nil leaves the supervisor's default.
    public var memory: ByteSize?
    /// The CPU-time limit in seconds; nil leaves the supervisor's default.
    public var cpuSeconds: Int?
    /// How many calls the plugin handles at once.
    public var workers: Int
    /// The share of one CPU the plugin's processes may use together (0.5 is
    /// half a CPU); nil leaves them unthrottled.
    public var cpu: Double?
    /// The size of the plugin's writable filesystem (its data directory,
    /// `/tmp` and `/dev/shm` together); nil leaves the supervisor's default.
    public var disk: ByteSize?
    /// How many files and directories that filesystem may hold; nil leaves the default.
    public var diskFiles: Int?

    public init(
        memory: ByteSize? = nil, cpuSeconds: Int? = nil, workers: Int = 1, cpu: Double? = nil, disk: ByteSize? = nil,
        diskFiles: Int? = nil
    ) {
        self.memory = memory
        self.cpuSeconds = cpuSeconds
        self.workers = workers
        self.cpu = cpu
        self.disk = disk
        self.diskFiles = diskFiles
    }

    enum CodingKeys: String, CodingKey {
        case memory, workers, cpu, disk
        case cpuSeconds = "cpu_seconds"
        case diskFiles = "disk_files"
    }
}
