import Glibc
import NIOCore
import NIOPosix
public import PaddockCore
import PaddockRPC
import Synchronization

extension Plugin {
    /// Serves the handlers on the socket in `PADDOCK_RPC_FD` until the host
    /// says `shutdown` or closes the socket; then exits the process.
    public func run() async throws -> Never {
        guard let text = getenv("PADDOCK_RPC_FD").map({ String(cString: $0) }), let fd = Int32(text) else {
            let message = "PaddockPluginKit: PADDOCK_RPC_FD is not set; plugins are started by Paddock\n"
            _ = message.withCString { write(2, $0, strlen($0)) }
            exit(2)
        }
        try await serve(socket: fd)
        exit(0)
    }

    /// Serves on a connected socket until `shutdown` or the end of the connection.
    public func serve(socket: Int32) async throws {
        let server = PluginServer(plugin: self)
        // The peer is known before the first byte is read: the host may send
        // a call right behind `initialize`.
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let peer = try RPCPeer.serve(channel, service: server.service())
                    server.peer.withLock { $0 = peer }
                }
            }
            .withConnectedSocket(socket)
            .get()
        try? await channel.closeFuture.get()
    }
}

/// Answers the host's requests: `ping` at once on the I/O thread, handlers on tasks.
final class PluginServer: Sendable {
    static let sdkVersion = "paddock-swift/0.1.0"

    let plugin: Plugin
    let peer = Mutex<RPCPeer?>(nil)
    private let state = Mutex(State())

    struct State {
        var settings: JSONValue = [:]
        var credentials: JSONValue = [:]
        var initialized = false
        var calls: [RPCID: (Task<Void, Never>, CancellationFlag)] = [:]
    }

    init(plugin: Plugin) {
        self.plugin = plugin
    }

    func service() -> RPCService {
        RPCService(
            request: { [self] method, params, reply in handle(method, params, reply) },
            cancel: { [self] id in
                guard let (task, flag) = state.withLock({ $0.calls[id] }) else { return }
                flag.set()
                task.cancel()
            }
        )
    }

    private func handle(_ method: String, _ params: [UInt8], _ reply: RPCReply) {
        switch method {
        case "ping":
            reply.succeed(Array("{}".utf8))
        case "initialize":
            let arguments = (try? JSONValue(parsing: params)) ?? [:]
            state.withLock { state in
                state.settings = arguments["settings"] ?? [:]
                state.credentials = arguments["credentials"] ?? [:]
                state.initialized = true
            }
            reply.succeed(plugin.announcement.jsonBytes)
        case "shutdown":
            reply.succeed(Array("{}".utf8))
            peer.withLock { $0 }?.close()
        case "tool.invoke", "endpoint.invoke", "model.invoke", "credentials.validate":
            guard let peer = peer.withLock({ $0 }), state.withLock({ $0.initialized }) else {
                return reply.fail(RPCError(PaddockError(.pluginUnavailable, "the plugin is not initialized")))
            }
            let arguments: JSONValue
            do {
                arguments = params.isEmpty ? JSONValue.object([:]) : try JSONValue(parsing: params)
            } catch {
                return reply.fail(RPCError(error))
            }
            // A call made for a tenant carries that tenant's settings and credentials.
            let scope = arguments["context"]
            let (settings, credentials) = state.withLock { ($0.settings, $0.credentials) }
            let flag = CancellationFlag()
            let context = PluginContext(
                settings: scope?["settings"] ?? settings, credentials: scope?["credentials"] ?? credentials,
                tenant: scope?["tenant"]?.stringValue, callID: reply.id.description,
                requestID: arguments[RequestID.parameter]?.stringValue.flatMap { RequestID.isValid($0) ? $0 : nil },
                id: reply.id.jsonValue, peer: peer, cancelled: flag)
            // On the connection's event loop: a handler that does not suspend
            // answers with no thread hop. Long computations belong in a detached task.
            let task = Task(executorPreference: EventLoopTaskExecutor(peer.channel.eventLoop)) { [self] in
                do {
                    reply.succeed(try await dispatch(method, arguments, context).jsonBytes)
                } catch let error as PaddockError {
                    reply.fail(RPCError(error))
                } catch is CancellationError {
                    reply.fail(RPCError(PaddockError(.timedOut, "the call was cancelled")))
                } catch {
                    reply.fail(RPCError(PaddockError(.handlerFailed, "\(type(of: error)): \(error)", details: ["error": String(reflecting: error)])))
                }
                _ = state.withLock { $0.calls.removeValue(forKey: reply.id) }
            }
            state.withLock { $0.calls[reply.id] = (task, flag) }
        default:
            reply.fail(RPCError(code: RPCError.methodNotFound, message: "method '\(method)' not found"))
        }
    }

    private func dispatch(_ method: String, _ arguments: JSONValue, _ context: PluginContext) async throws -> JSONValue {
        let handlers = plugin.handlers.withLock { $0 }
        switch method {
        case "tool.invoke":
            let name = arguments["tool"]?.stringValue ?? ""
            guard let handler = handlers.tools[name] else { throw PaddockError(.permissionDenied, "the plugin has no tool '\(name)'") }
            return try await handler(arguments["params"] ?? [:], context)
        case "endpoint.invoke":
            let method = arguments["method"]?.stringValue?.uppercased() ?? "GET"
            let path = arguments["path"]?.stringValue ?? "/"
            guard let handler = handlers.endpoints["\(method) \(path)"] else {
                throw PaddockError(.permissionDenied, "the plugin has no endpoint \(method) \(path)")
            }
            let body = Base64.decode(arguments["body"]?.stringValue ?? "") ?? []
            let request = EndpointRequest(
                method: method, path: path, query: arguments["query"] ?? [:], headers: arguments["headers"] ?? [:],
                body: body, params: arguments["params"] ?? [:])
            let response = try await handler(request, context)
            return [
                "status": .int(response.status), "headers": .object(response.headers.mapValues(JSONValue.string)),
                "body": .string(Base64.encode(response.body)),
            ]
        case "model.invoke":
            let name = arguments["model"]?.stringValue ?? ""
            guard let handler = handlers.models[name] else { throw PaddockError(.permissionDenied, "the plugin has no model '\(name)'") }
            return try await handler(arguments["messages"] ?? [], arguments["params"] ?? [:], context)
        default:
            guard let validator = handlers.credentials else { return ["valid": true] }
            do {
                return ["valid": .bool(try await validator(arguments["credentials"] ?? [:], context))]
            } catch let error as PaddockError {
                return ["valid": false, "message": .string(error.message)]
            }
        }
    }
}
