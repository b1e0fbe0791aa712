import Glibc
import NIOCore
import Synchronization
import PaddockCore
import PaddockRPC
import PaddockSandbox

/// Numbers the cgroups this process creates.
private let cgroupSerial = Atomic<Int>(0)

/// One plugin under supervision: starts it in its sandbox, talks to it,
/// restarts it when it dies, and fails its calls with the code of its death.
///
/// An actor: state is re-checked after every `await`, and each process gets
/// a generation number so that events from an old process are ignored.
actor PluginRuntime {
    let manifest: Manifest
    let directory: String
    let configuration: EngineConfiguration
    /// The uid the plugin prefers (its registry's); it runs as ``credentials``.
    let preferredUID: UInt32
    /// The uid of the running process, held host-wide while it runs.
    private var lease: UIDLease?
    let group: any EventLoopGroup
    let log: PluginLog
    let host: HostService
    var settings: JSONValue = .object([:])

    private(set) var state: PluginState = .stopped
    private var generation = 0
    private var process: PluginProcess?
    private var peer: RPCPeer?
    private var cgroup: Cgroup?
    /// Why the host killed the current process: it outranks the classifier's verdict.
    private var killReason: PaddockError?
    private var stopping = false
    private var lastDeath: PaddockError?
    private var deaths: [Int: PaddockError] = [:]
    private var deathWaiters: [Int: [CheckedContinuation<PaddockError, Never>]] = [:]
    private var readyWaiters: [CheckedContinuation<Void, any Error>] = []
    private var restartMachine: RestartStateMachine<ContinuousClock.Instant>
    private var heartbeat: HeartbeatStateMachine<ContinuousClock.Instant>
    private var restarts = 0
    /// Deaths by catalog code, since the supervisor started.
    private var deathCounts: [Int: Int] = [:]
    private var callsServed = 0
    private var inFlight = 0
    private var slotWaiters: [CheckedContinuation<Void, Never>] = []
    /// The chains of the calls in flight, by a number of this runtime.
    private var chains: [Int: CallChain] = [:]
    private var nextChain = 0
    private var heartbeatTask: Task<Void, Never>?

    init(
        manifest: Manifest, directory: String, configuration: EngineConfiguration, uid: UInt32, group: any EventLoopGroup,
        log: PluginLog, host: HostService
    ) {
        self.manifest = manifest
        self.directory = directory
        self.configuration = configuration
        self.preferredUID = uid
        self.group = group
        self.log = log
        self.host = host
        self.restartMachine = RestartStateMachine(configuration: configuration.restart)
        self.heartbeat = HeartbeatStateMachine(
            interval: configuration.heartbeatInterval, timeout: configuration.heartbeatTimeout, now: .now)
    }

    /// The uid and gid of the running plugin (the preferred one when none runs).
    var credentials: SandboxPolicy.Credentials {
        let uid = lease?.uid ?? preferredUID
        return SandboxPolicy.Credentials(uid: uid, gid: uid)
    }

    var status: PluginStatus {
        let counters = cgroup?.counters()
        let sorted = latencies.sorted()
        func percentile(_ p: Int) -> Double? { sorted.isEmpty ? nil : sorted[min(sorted.count - 1, sorted.count * p / 100)] }
        return PluginStatus(
            id: manifest.name, state: state, pid: process.map { $0.pluginPID ?? $0.pid }, uid: credentials.uid, restarts: restarts,
            lastDeath: lastDeath, callsServed: callsServed, inFlight: inFlight,
            droppedLogLines: log.droppedLines,
            memoryBytes: counters?.current, peakMemoryBytes: counters?.peak,
            latencyP50: percentile(50), latencyP99: percentile(99), deathCounts: deathCounts)
    }

    /// Milliseconds of the last 1000 successful calls.
    private var latencies: [Double] = []

    // MARK: Starting

    /// Starts the plugin (an operator's start: past crashes are forgotten).
    /// - Throws: the coded error of a first attempt that failed; restarts
    ///   then go on by the restart policy.
    func start() async throws {
        guard state == .stopped || state == .failed else { return }
        stopping = false
        restartMachine.reset()
        if heartbeatTask == nil { heartbeatTask = Task { [weak self] in await self?.beat() } }
        try await launch()
    }

    private func launch() async throws {
        generation += 1
        let current = generation
        if state != .restarting { state = .starting }
        var spawned: PluginProcess?
        do {
            let arguments = try launcherArguments()
            let log = self.log
            let process = try PluginProcess.spawn(
                launcher: configuration.launcher, arguments: arguments, group: group
            ) { stream, line in log.output(stream, line) }
            self.process = process
            spawned = process
            process.exit.whenSuccess { exit in Task { await self.ended(current, exit) } }
            let peer = try await RPCPeer.connect(
                socket: process.socket, service: service(), maximumFrameSize: configuration.maximumFrameSize, group: group)
            self.peer = peer
            peer.closeFuture.whenComplete { _ in Task { await self.connectionClosed(current) } }
            guard current == generation else { throw deathError(current) }
            let params = JSONValue.object([
                "settings": settings, "credentials": credentialSettings(), "workers": .int(manifest.resource.workers),
            ])
            let answer = try await peer.call("initialize", params: params.jsonBytes, timeout: .init(configuration.startTimeout)).get()
            guard current == generation, process.pid == self.process?.pid else { throw deathError(current) }
            try checkAnnouncement(answer)
            state = .running
            restartMachine.started(at: .now)
            heartbeat.heard(at: .now)
            log.write("info", "running as uid \(credentials.uid), pid \(process.pid)")
            for waiter in readyWaiters { waiter.resume() }
            readyWaiters.removeAll()
        } catch {
            let coded = error as? PaddockError ?? PaddockError(.pluginCrashed, "\(error)")
            guard current == generation else { throw coded }
            guard let process = spawned else {
                // Not even spawned (no launcher, no descriptors): retrying will not help.
                try? cgroup?.remove()
                cgroup = nil
                lease = nil
                state = .failed
                lastDeath = coded
                failReadyWaiters(coded)
                throw coded
            }
            if self.process == nil { throw await death(of: current) }
            // The plugin answered with an error, or did not answer in time: that is why it ends.
            // A closed connection means it died on its own: its death is classified instead.
            if killReason == nil, peer?.channel.isActive ?? false { killReason = coded }
            process.kill()
            throw await death(of: current)
        }
    }

    /// The settings of type `secret`, which the SDK also hands out as credentials.
    private func credentialSettings() -> JSONValue {
        let secrets = Set(manifest.settings.filter { $0.type == .secret }.map(\.name))
        guard case .object(let values) = settings else { return .object([:]) }
        return .object(values.filter { secrets.contains($0.key) })
    }

    private func launcherArguments() throws(PaddockError) -> [String] {
        var overrides = SandboxOverrides(manifest: manifest, pluginDirectory: directory)
        overrides.keptDescriptors = [PluginProcess.pluginDescriptor]
        overrides.environment["PADDOCK_RPC_FD"] = String(PluginProcess.pluginDescriptor)
        overrides.environment["PADDOCK_PLUGIN"] = manifest.name
        overrides.dieWithParent = true
        overrides.allowedRanges = configuration.allowedRanges[manifest.name] ?? []
        overrides.allowedHostPorts = configuration.allowedHostPorts[manifest.name] ?? []
        let program: [String]
        if manifest.runner.language == .python {
            overrides.binds.append(SandboxOverrides.Bind(source: configuration.pythonSDK, target: Self.sdkPath))
            overrides.environment["PYTHONPATH"] = Self.sdkPath
            // An interpreter outside /usr (a version manager's) needs its whole prefix, where it is.
            let prefix = Self.parent(of: Self.parent(of: configuration.python))
            if !prefix.hasPrefix("/usr") { overrides.readable.append(prefix) }
            program = [configuration.python, "-m", "paddock_plugin", manifest.runner.entrypoint]
        } else {
            program = [try nativeExecutable()]
        }
        if geteuid() == 0 {
            let range = configuration.firstUID..<(configuration.firstUID + configuration.uidCount)
            let lease = try UIDLease.take(preferred: preferredUID, range: range, directory: configuration.uidLocks)
            self.lease = lease
            overrides.credentials = SandboxPolicy.Credentials(uid: lease.uid, gid: lease.uid)
            if configuration.useCgroups {
                let memory = manifest.resource.memory ?? ResourceLimits().memory
                // <plugin>-<daemon pid>-<n>: unique in this process; a later daemon
                // recognises leftovers of a dead one by the pid.
                let name = "\(manifest.name)-\(getpid())-\(cgroupSerial.add(1, ordering: .relaxed).newValue)"
                // The launcher and the init of the plugin's pid namespace count too.
                cgroup = try? Cgroup.create(
                    name: name, memory: memory, processes: ResourceLimits().processes + 2, cpuShare: manifest.resource.cpu)
                overrides.cgroups = cgroup?.directories ?? []
            }
        }
        let profile = SandboxOverrides.profilePath(for: manifest, in: configuration.profilesDirectory)
        return ["--profile", profile] + overrides.arguments + ["--chdir", SandboxOverrides.pluginPath, "--"] + program
    }

    /// Where a Python plugin finds the SDK in its view.
    static let sdkPath = "/paddock/sdk"

    private static func parent(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/"), slash != path.startIndex else { return "/" }
        return String(path[..<slash])
    }

    /// A native plugin's executable: its package's product named after it
    /// (release, then debug build), or a product of Paddock's own build next
    /// to the launcher (the examples).
    private func nativeExecutable() throws(PaddockError) -> String {
        let launcherDirectory = String(configuration.launcher[..<(configuration.launcher.lastIndex(of: "/") ?? configuration.launcher.endIndex)])
        let candidates = [
            "\(directory)/.build/release/\(manifest.name)", "\(directory)/.build/debug/\(manifest.name)",
            "\(launcherDirectory)/\(manifest.name)",
        ]
        guard let found = candidates.first(where: { access($0, X_OK) == 0 }) else {
            throw PaddockError(
                .dependencyUnavailable, "\(manifest.name) is not built: run `swift build -c release` in \(directory)",
                field: "runner.entrypoint")
        }
        return found
    }

    /// What the plugin announces must be what its manifest declares, no more and no less.
    private func checkAnnouncement(_ answer: [UInt8]) throws(PaddockError) {
        let announced = try JSONValue(parsing: answer)
        func names(_ key: String) -> Set<String> {
            guard case .array(let items)? = announced[key] else { return [] }
            return Set(items.compactMap { item in
                if let name = item.stringValue { return name }
                guard let method = item["method"]?.stringValue, let path = item["path"]?.stringValue else { return nil }
                return "\(method.uppercased()) \(path)"
            })
        }
        let declared: [(String, Set<String>)] = [
            ("tools", Set(manifest.tools.flatMap { $0.items.map(\.name) })),
            ("models", Set(manifest.models.flatMap { $0.items.map(\.name) })),
            ("endpoints", Set(manifest.endpoints.flatMap { $0.items.map { "\($0.method.rawValue) \($0.path)" } })),
        ]
        var problems: [String] = []
        for (key, expected) in declared {
            let actual = names(key)
            let extra = actual.subtracting(expected).sorted()
            let missing = expected.subtracting(actual).sorted()
            if !extra.isEmpty { problems.append("announces \(key) the manifest does not declare: \(extra.joined(separator: ", "))") }
            if !missing.isEmpty { problems.append("does not implement declared \(key): \(missing.joined(separator: ", "))") }
        }
        guard problems.isEmpty else {
            throw PaddockError(.permissionDenied, "the plugin \(problems.joined(separator: "; "))")
        }
    }

    // MARK: Dying

    private func ended(_ ended: Int, _ exit: ProcessExit) async {
        guard ended == generation else { return }
        let peerFailure = try? await peer?.failure().get()
        let counters = cgroup?.counters()
        let evidence = DeathEvidence(
            waitStatus: exit.waitStatus, maxResidentBytes: exit.maxResidentBytes,
            memoryLimit: (manifest.resource.memory ?? ResourceLimits().memory).bytes,
            cgroup: counters, report: log.takeStderrTail())
        let classified = DeathClassifier.classify(evidence)
        var death = killReason ?? peerFailure ?? classified
            ?? PaddockError(.pluginUnavailable, "the plugin exited with status 0")
        // The classifier's evidence (signal, peak memory, limit) goes along with any verdict.
        if let classified { death.details.merge(classified.details) { mine, _ in mine } }
        let cleanly = evidence.exitStatus == 0 && killReason == nil && peerFailure == nil
        killReason = nil
        lastDeath = death
        deaths[ended] = death
        deathCounts[death.code.rawValue, default: 0] += 1
        deaths = deaths.filter { $0.key >= ended - 4 }
        for waiter in deathWaiters.removeValue(forKey: ended) ?? [] { waiter.resume(returning: death) }
        log.write("error", "died: error \(death.code.rawValue): \(death.message) \(death.details.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " "))")
        peer?.close()
        peer = nil
        process = nil
        try? cgroup?.remove()
        cgroup = nil
        lease = nil  // every process of the plugin is gone: its uid is free

        if stopping {
            state = .stopped
            failReadyWaiters(PaddockError(.pluginUnavailable, "the plugin was stopped"))
            return
        }
        let giveUpNow = death.code == .permissionDenied  // a wrong announcement never fixes itself
        let action = giveUpNow ? .giveUp : restartMachine.exited(at: .now, cleanly: cleanly)
        switch action {
        case .restart(let delay):
            state = .restarting
            restarts += 1
            log.write("info", "restarting in \(delay)")
            Task {
                try? await Task.sleep(for: delay)
                await self.restart(after: ended)
            }
        case .giveUp:
            state = .failed
            log.write("error", "failed: not restarted again until it is activated")
            failReadyWaiters(unavailable())
        case .stop:
            state = .stopped
            failReadyWaiters(unavailable())
        }
    }

    /// The connection to a running plugin closed: it is dying (or broke the
    /// protocol and must). New calls wait for its restart from now on.
    private func connectionClosed(_ closed: Int) async {
        guard closed == generation, let process, state == .running else { return }
        state = .restarting
        if killReason == nil, let failure = try? await peer?.failure().get() { killReason = failure }
        process.kill()
    }

    private func restart(after ended: Int) async {
        guard state == .restarting, generation == ended, !stopping else { return }
        _ = try? await launch()
    }

    /// The classified death of a process generation, once it is known.
    private func death(of generation: Int) async -> PaddockError {
        if let death = deaths[generation] { return death }
        return await withCheckedContinuation { deathWaiters[generation, default: []].append($0) }
    }

    private func deathError(_ generation: Int) -> PaddockError {
        deaths[generation] ?? PaddockError(.pluginUnavailable, "the plugin stopped while starting")
    }

    private func unavailable() -> PaddockError {
        var error = PaddockError(
            .pluginUnavailable,
            state == .failed ? "the plugin \(manifest.name) failed and is not restarted until activated again" : "the plugin \(manifest.name) is not running")
        if let lastDeath {
            error.message += " (last death: error \(lastDeath.code.rawValue): \(lastDeath.message))"
            error.details["last_death_code"] = String(lastDeath.code.rawValue)
        }
        return error
    }

    private func failReadyWaiters(_ error: PaddockError) {
        for waiter in readyWaiters { waiter.resume(throwing: error) }
        readyWaiters.removeAll()
    }

    /// Kills the current process for `reason` (a missed heartbeat, an unhonoured cancel).
    func kill(generation target: Int, reason: PaddockError) {
        guard target == generation, let process else { return }
        log.write("warn", "killing pid \(process.pid): \(reason.message)")
        killReason = killReason ?? reason
        process.kill()
    }

    // MARK: Calls

    /// Calls the plugin. Waits for a restarting plugin; holds one of its
    /// `resource.workers` slots, queueing up to the limit.
    /// - Throws: the plugin's coded error, 204 past the deadline, 206 when
    ///   the queue is full, 306 when the plugin is failed or stopped, or the
    ///   code of its death when it dies during the call.
    func call(
        _ method: String, params: JSONValue, onChunk: (@Sendable ([UInt8]) -> Void)?, chain: CallChain = .outside
    ) async throws -> [UInt8] {
        nextChain += 1
        let chainNumber = nextChain
        chains[chainNumber] = chain
        defer { chains[chainNumber] = nil }
        try await waitUntilRunning()
        try await acquireSlot()
        defer { releaseSlot() }
        guard state == .running, let peer else { throw unavailable() }
        let current = generation
        let started = ContinuousClock.now
        heartbeat.callStarted()
        defer { heartbeat.callFinished(at: .now) }
        do {
            let result = try await peer.call(
                method, params: params.jsonBytes, timeout: .init(configuration.callTimeout), onChunk: onChunk,
                cancellationGrace: .init(configuration.cancellationGrace),
                onUnhonouredCancel: { [weak self] in
                    Task {
                        await self?.kill(generation: current, reason: PaddockError(.timedOut, "the plugin did not honour the cancellation of a call past its deadline"))
                    }
                }
            ).get()
            callsServed += 1
            let (seconds, attoseconds) = started.duration(to: .now).components
            if latencies.count == 1000 { latencies.removeFirst() }
            latencies.append(Double(seconds) * 1000 + Double(attoseconds) / 1e15)
            return result
        } catch let error as PaddockError {
            guard !peer.channel.isActive || process == nil || current != generation else { throw error }
            // The connection broke: the call fails with the code of the death (wait briefly for it).
            return try await failWithDeath(of: current, fallback: error)
        }
    }

    private func failWithDeath(of target: Int, fallback: PaddockError) async throws -> [UInt8] {
        if let process, target == generation {
            // A broken connection with a live process (bad frame): end it so that it restarts.
            if killReason == nil, let failure = try? await peer?.failure().get() { killReason = failure }
            process.kill()
        }
        let death = await withTaskGroup(of: PaddockError?.self) { group in
            group.addTask { await self.death(of: target) }
            group.addTask {
                // Calls of a dying plugin fail at once: waiting for its classification is brief.
                try? await Task.sleep(for: .milliseconds(500))
                return nil
            }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        throw death ?? fallback
    }

    /// The chains of the calls the plugin serves now.
    var servingChains: [CallChain] { Array(chains.values) }

    private func waitUntilRunning() async throws {
        switch state {
        case .running: return
        case .failed, .stopped: throw unavailable()
        case .starting, .restarting:
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await self.readiness() }
                group.addTask {
                    try await Task.sleep(for: self.configuration.callTimeout)
                    throw PaddockError(.pluginUnavailable, "the plugin did not come back within the call deadline")
                }
                try await group.next()
                group.cancelAll()
            }
        }
    }

    private func readiness() async throws {
        if state == .running { return }
        try await withCheckedThrowingContinuation { readyWaiters.append($0) }
    }

    private func acquireSlot() async throws {
        if inFlight < manifest.resource.workers {
            inFlight += 1
            return
        }
        guard slotWaiters.count < configuration.queueLimit else {
            throw PaddockError(.rateLimited, "\(manifest.name) has \(inFlight) calls running and \(slotWaiters.count) waiting; the queue is full")
        }
        await withCheckedContinuation { slotWaiters.append($0) }
    }

    private func releaseSlot() {
        if slotWaiters.isEmpty {
            inFlight -= 1
        } else {
            slotWaiters.removeFirst().resume()
        }
    }

    // MARK: Heartbeat and host service

    private func beat() async {
        let step = max(configuration.heartbeatInterval / 4, .milliseconds(20))
        while !Task.isCancelled {
            try? await Task.sleep(for: step)
            guard state == .running, let peer else { continue }
            switch heartbeat.tick(at: .now) {
            case .none: break
            case .ping:
                let current = generation
                let timeout = configuration.heartbeatTimeout
                Task {
                    if (try? await peer.call("ping", timeout: .init(timeout)).get()) != nil { self.heard(current) }
                }
            case .wedged:
                kill(generation: generation, reason: PaddockError(.timedOut, "the plugin did not answer a heartbeat ping within \(configuration.heartbeatTimeout)"))
            }
        }
    }

    /// One heartbeat round trip, on demand.
    func ping() async throws -> [UInt8] {
        guard state == .running, let peer else { throw unavailable() }
        return try await peer.call("ping", timeout: .init(configuration.heartbeatTimeout)).get()
    }

    private func heard(_ target: Int) {
        if target == generation { heartbeat.heard(at: .now) }
    }

    private func service() -> RPCService {
        let log = self.log
        let host = self.host
        return RPCService(
            request: { method, params, reply in host.answer(method: method, params: params, reply: reply) },
            notification: { method, params in
                guard method == "log", let entry = try? JSONValue(parsing: params) else { return }
                let call = entry["call"].flatMap { $0 == .null ? nil : $0.jsonText }
                log.write(entry["level"]?.stringValue ?? "info", entry["message"]?.stringValue ?? entry.jsonText, call: call)
            }
        )
    }

    // MARK: Stopping

    /// Kills the plugin now, with every process in its cgroup, and removes the cgroup.
    func terminate() {
        stopping = true
        heartbeatTask?.cancel()
        heartbeatTask = nil
        process?.kill()
        try? cgroup?.remove()
    }

    /// Stops the plugin: `shutdown`, then a kill if it does not exit in time.
    func stop() async {
        stopping = true
        heartbeatTask?.cancel()
        heartbeatTask = nil
        guard let process, let peer else {
            state = .stopped
            return
        }
        let current = generation
        _ = try? await peer.call("shutdown", timeout: .init(configuration.shutdownTimeout)).get()
        let exited = await withTaskGroup(of: Bool.self) { group in
            group.addTask { _ = await self.death(of: current); return true }
            group.addTask {
                try? await Task.sleep(for: self.configuration.shutdownTimeout)
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
        if !exited {
            killReason = PaddockError(.pluginUnavailable, "stopped")
            process.kill()
            _ = await death(of: current)
        }
    }
}
