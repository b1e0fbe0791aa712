import CLinux
import Glibc
import Logging
public import NIOCore
import NIOPosix
import PaddockControl
import PaddockCore
import PaddockRPC
import Synchronization

/// The daemon's control socket, `<data>/paddockd.sock`: mode 0600, and a
/// connection is served only when its peer (SO_PEERCRED) is root or the
/// daemon's own uid. Same JSON-RPC framing as plugins.
public enum ControlServer {
    /// The largest request a control connection takes: a package of 96 MiB in base64.
    public static let maximumFrameSize = 128 << 20

    /// Binds the socket and serves `daemon` on it.
    /// - Returns: the listening channel (close it to stop accepting).
    public static func start(daemon: Daemon, path: String, group: any EventLoopGroup) async throws -> any Channel {
        unlink(path)
        let previous = umask(0o177)  // the socket is created 0600
        defer { umask(previous) }
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let calls = ControlCalls()
                    try channel.pipeline.syncOperations.addHandler(WritabilityWatcher())
                    // A package travels in one frame, base64: 64 MiB and more, from root or paddockd's uid only.
                    _ = try RPCPeer.serve(channel, service: service(daemon, calls), maximumFrameSize: maximumFrameSize)
                    // A client that goes away (a gateway whose HTTP client left, a CLI stopped by ^C) cancels its calls.
                    channel.closeFuture.whenComplete { _ in calls.cancelAll() }
                }.flatMap {
                    authorize(channel)
                }
            }
            .bind(unixDomainSocketPath: path)
            .get()
        chmod(path, 0o600)
        return channel
    }

    /// Closes a connection whose peer is neither root nor the daemon's uid.
    private static func authorize(_ channel: any Channel) -> EventLoopFuture<Void> {
        guard let provider = channel as? any SocketOptionProvider else { return channel.close() }
        let option = SocketOptionName(paddock_so_peercred())
        return provider.unsafeGetSocketOption(level: SocketOptionLevel(SOL_SOCKET), name: option).flatMap { (credentials: paddock_ucred) in
            guard credentials.uid == 0 || credentials.uid == geteuid() else {
                return channel.close()
            }
            return channel.eventLoop.makeSucceededVoidFuture()
        }
    }

    private static func service(_ daemon: Daemon, _ calls: ControlCalls) -> RPCService {
        RPCService(
            request: { method, params, reply in
                if startCall(daemon, calls, method, params, reply) { return }
                calls.run(reply.id) { await answer(daemon, method, params, reply) }
            },
            cancel: { id in calls.cancel(id) })
    }

    /// A tool or endpoint call made for no tenant goes from the control
    /// connection's event loop to the plugin's with no task and no actor:
    /// parsed once, checked, and answered when the plugin answers.
    /// - Returns: false when the call takes the general path.
    private static func startCall(_ daemon: Daemon, _ calls: ControlCalls, _ name: String, _ params: [UInt8], _ reply: RPCReply) -> Bool {
        guard name == ControlMethod.invoke.rawValue || name == ControlMethod.endpoint.rawValue,
            let arguments = try? JSONValue(parsing: params), arguments["tenant"] == nil
        else { return false }
        let engine = daemon.engine
        let method: ControlMethod = name == ControlMethod.invoke.rawValue ? .invoke : .endpoint
        let began = ContinuousClock.now
        let started: StartedCall
        do {
            if method == .invoke {
                let request = try InvokeRequest(params: arguments)
                let sendChunk: (@Sendable ([UInt8]) -> Void)? = request.stream ? { @Sendable chunk in reply.chunk(raw: chunk) } : nil
                started = try engine.startTool(
                    request.id, tool: request.tool, arguments: request.arguments, onChunk: sendChunk,
                    backpressure: request.stream ? reply.backpressure : nil, requestID: request.requestID)
            } else {
                let request = try EndpointRequest(params: arguments)
                started = try engine.startEndpoint(
                    request.id, method: request.method, path: request.path, query: request.query, headers: request.headers, body: request.body,
                    requestID: request.requestID)
            }
        } catch {
            log(daemon.logger, method, arguments, .failure(error), since: began)
            reply.fail(RPCError(error))
            return true
        }
        calls.track(reply.id, cancel: started.cancel)
        let logger = daemon.logger
        started.result.whenComplete { result in
            calls.untrack(reply.id)
            let outcome = result.mapError { error in error as? PaddockError ?? PaddockError(.handlerFailed, "\(error)") }
            log(logger, method, arguments, outcome, since: began)
            switch outcome {
            case .success(let bytes): reply.succeed(bytes)
            case .failure(let error): reply.fail(RPCError(error))
            }
        }
        return true
    }

    private static func answer(_ daemon: Daemon, _ name: String, _ params: [UInt8], _ reply: RPCReply) async {
        let started = ContinuousClock.now
        guard let method = ControlMethod(rawValue: name) else {
            // A protocol error, not a catalog one: no `data.code`.
            daemon.logger.debug("control call refused", metadata: ["method": .string(name)])
            return reply.fail(RPCError(code: RPCError.methodNotFound, message: "paddockd has no method '\(name)'"))
        }
        var arguments: JSONValue = [:]
        let outcome: Result<[UInt8], PaddockError>
        do {
            if !params.isEmpty { arguments = try JSONValue(parsing: params) }
            outcome = .success(try await result(daemon, method, arguments, reply))
        } catch let error as PaddockError {
            outcome = .failure(error)
        } catch {
            outcome = .failure(PaddockError(.handlerFailed, "\(error)"))
        }
        // Logged before the answer leaves: whoever has the answer finds the line written.
        log(daemon.logger, method, arguments, outcome, since: started)
        switch outcome {
        case .success(let bytes): reply.succeed(bytes)
        case .failure(let error): reply.fail(RPCError(error))
        }
    }

    /// One line per control call: `method`, `plugin`, `tenant`, `request_id`,
    /// `duration_ms` and, when it failed, `code`; never other params (they
    /// may hold settings, credentials, keys). Calls that change what is
    /// installed, running or allowed are `info`, the rest `debug`.
    private static func log(
        _ logger: Logger, _ method: ControlMethod, _ params: JSONValue, _ outcome: Result<[UInt8], PaddockError>,
        since started: ContinuousClock.Instant
    ) {
        let changes: Bool =
            switch method {
            case .install, .rollback, .activate, .deactivate, .uninstall, .keysCreate, .keysRevoke: true
            case .settings: params["set"] != nil || params["public_endpoints"] != nil || params["tenants"] != nil
            default: false
            }
        let level: Logger.Level = changes ? .info : .debug
        guard logger.logLevel <= level else { return }
        let elapsed = started.duration(to: .now).components
        var metadata: Logger.Metadata = [
            "method": .string(method.rawValue),
            "duration_ms": .stringConvertible(Double(elapsed.seconds * 1_000_000 + elapsed.attoseconds / 1_000_000_000_000) / 1000),
        ]
        // `id` names a plugin everywhere but in `keys.*`, where it is a key's.
        if !method.rawValue.hasPrefix("keys."), let id = params["id"]?.stringValue, id.utf8.count <= 64 { metadata["plugin"] = .string(id) }
        if let tenant = params["tenant"]?.stringValue, tenant.utf8.count <= 64 { metadata["tenant"] = .string(tenant) }
        if let id = params[RequestID.parameter]?.stringValue, RequestID.isValid(id) { metadata["request_id"] = .string(id) }
        if case .failure(let error) = outcome { metadata["code"] = .stringConvertible(error.code.rawValue) }
        logger.log(level: level, "control call", metadata: metadata)
    }

    private static func result(_ daemon: Daemon, _ method: ControlMethod, _ params: JSONValue, _ reply: RPCReply) async throws -> [UInt8] {
        switch method {
        case .install:
            let request = try InstallRequest(params: params)
            let progress: Daemon.Progress = { stage, message in
                guard request.stream else { return }
                reply.chunk(raw: JSONValue.object(["progress": ["stage": .string(stage), "message": .string(message)]]).jsonBytes)
            }
            return try await daemon.install(request, progress: progress).jsonBytes
        case .rollback: return try await daemon.rollback(PluginRequest(params: params)).jsonBytes
        case .versions: return try await daemon.versions(PluginRequest(params: params)).jsonBytes
        case .activate: return try await daemon.activate(PluginRequest(params: params)).jsonBytes
        case .deactivate: return try await daemon.deactivate(PluginRequest(params: params)).jsonBytes
        case .uninstall: return try await daemon.uninstall(UninstallRequest(params: params)).jsonBytes
        case .settings: return try await daemon.settings(SettingsRequest(params: params)).jsonBytes
        case .list: return try await daemon.list().jsonBytes
        case .status: return try await daemon.status(StatusRequest(params: params)).jsonBytes
        case .logs: return try await daemon.logs(LogsRequest(params: params)).jsonBytes
        case .storageUsage: return try await daemon.storageUsage(PluginRequest(params: params)).jsonBytes
        case .storageCheck: return try await daemon.storageCheck(PluginRequest(params: params)).jsonBytes
        case .storageQuota: return try await daemon.storageQuota(StorageQuotaRequest(params: params)).jsonBytes
        case .audit: return try await daemon.audit(AuditRequest(params: params)).jsonBytes
        case .plugin: return try await daemon.plugin(PluginRequest(params: params)).jsonBytes
        case .metrics: return try await daemon.metrics().jsonBytes
        case .endpoint: return try await daemon.endpoint(EndpointRequest(params: params))
        case .credentialsTest: return try await daemon.testCredentials(CredentialsTestRequest(params: params))
        case .keysCreate: return try await daemon.createKey(KeysCreateRequest(params: params)).jsonBytes
        case .keysList: return try await daemon.listKeys().jsonBytes
        case .keysRevoke: return try await daemon.revokeKey(KeysRevokeRequest(params: params)).jsonBytes
        case .keysVerify: return try await daemon.verifyKey(KeysVerifyRequest(params: params)).jsonBytes
        case .invoke:
            let request = try InvokeRequest(params: params)
            let sendChunk: @Sendable ([UInt8]) -> Void = { reply.chunk(raw: $0) }
            return try await daemon.invoke(request, onChunk: request.stream ? sendChunk : nil, backpressure: request.stream ? reply.backpressure : nil)
        case .model:
            let request = try ModelRequest(params: params)
            let sendChunk: @Sendable ([UInt8]) -> Void = { reply.chunk(raw: $0) }
            return try await daemon.invokeModel(request, onChunk: request.stream ? sendChunk : nil)
        case .flowPut: return try await daemon.putFlow(FlowPutRequest(params: params)).jsonBytes
        case .flowGet: return try await daemon.getFlow(TenantRequest(params: params).named()).jsonBytes
        case .flowList: return try await daemon.listFlows(TenantRequest(params: params)).jsonBytes
        case .flowDelete: return try await daemon.deleteFlow(TenantRequest(params: params).named()).jsonBytes
        case .flowRuns: return try await daemon.flowRuns(TenantRequest(params: params).named()).jsonBytes
        case .flowShow: return try await daemon.showFlowRun(FlowShowRequest(params: params)).jsonBytes
        case .flowRun:
            let request = try FlowRunRequest(params: params)
            return try await daemon.runFlow(request) { event in if request.stream { reply.chunk(raw: event.jsonBytes) } }.jsonBytes
        case .fileUploadStart: return try await daemon.startUpload(FileUploadRequest(params: params)).jsonBytes
        case .fileUploadChunk: return try await daemon.writeChunk(FileChunkRequest(params: params)).jsonBytes
        case .fileUploadStatus: return try await daemon.uploadStatus(TenantRequest(params: params)).jsonBytes
        case .fileUploadAbort: return try await daemon.abortUpload(TenantRequest(params: params)).jsonBytes
        case .fileInfo: return try await daemon.fileInfo(TenantRequest(params: params)).jsonBytes
        case .fileRead: return try await daemon.readFile(FileReadRequest(params: params)).jsonBytes
        case .fileList: return try await daemon.listFiles(TenantRequest(params: params)).jsonBytes
        case .fileDelete: return try await daemon.deleteFile(TenantRequest(params: params)).jsonBytes
        }
    }
}

/// The calls in flight on one control connection, by request id: `$/cancel`
/// cancels one, the end of the connection all of them.
final class ControlCalls: Sendable {
    private let running = Mutex<[RPCID: @Sendable () -> Void]>([:])

    /// Runs `body` as a task that `$/cancel` cancels.
    func run(_ id: RPCID, _ body: @escaping @Sendable () async -> Void) {
        running.withLock { running in
            let task = Task {
                await body()
                self.untrack(id)
            }
            running[id] = { task.cancel() }
        }
    }

    /// Remembers how to cancel a call running without a task.
    func track(_ id: RPCID, cancel: @escaping @Sendable () -> Void) {
        running.withLock { $0[id] = cancel }
    }

    func untrack(_ id: RPCID) {
        _ = running.withLock { $0.removeValue(forKey: id) }
    }

    func cancel(_ id: RPCID) {
        running.withLock { $0[id] }?()
    }

    func cancelAll() {
        for cancel in running.withLock({ Array($0.values) }) { cancel() }
    }
}
