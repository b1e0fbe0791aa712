import HTTPTypes
import Hummingbird
import NIOCore
import PaddockControl
import PaddockCore
import Synchronization

/// `POST /v1/plugins/{id}/tools/{tool}`: the parameters as a JSON body, the
/// tool's result as the answer; with `Accept: text/event-stream`, each
/// partial result as a `chunk` event as it comes, then a `result` (or
/// `error`) event. Results of tools that declare `cache_ttl` are cached.
extension Gateway {
    func invokeTool(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let tool = try context.parameters.require("tool")
        let arguments = try await jsonBody(request)
        try limitPlugin(id)
        let tenant = Self.tenant(request, context)
        var call = InvokeRequest(id: id, tool: tool, arguments: arguments, tenant: tenant, requestID: context.requestID)

        if request.headers[.accept]?.contains("text/event-stream") == true {
            call.stream = true
            return stream(call, plugin: id)
        }
        let ttl = try await catalog.cacheTTL(id, tool: tool)
        let key = ResultCache.key(tenant: tenant, plugin: id, tool: tool, arguments: arguments)
        if ttl != nil, let cached = cache.get(key) {
            metrics.pluginCall(id, kind: "tool", code: 0)
            return Self.raw(cached, headers: [.paddockCache: "hit"])
        }
        let supervisor = self.supervisor
        let result = try await counted(id, "tool") {
            try await DisconnectWatcher.whileConnected(context.channel) { [call] in
                try await supervisor.call(.invoke, call.params, registerCancel: $0)
            }
        }
        guard let ttl else { return Self.raw(result) }
        cache.put(key, result, ttl: .seconds(ttl))
        return Self.raw(result, headers: [.paddockCache: "miss"])
    }

    /// Runs a call to a plugin and counts its outcome (0: success, else its code).
    func counted<T: Sendable>(_ plugin: String, _ kind: String, _ call: () async throws -> T) async throws -> T {
        do {
            let result = try await call()
            metrics.pluginCall(plugin, kind: kind, code: 0)
            return result
        } catch {
            let coded = EdgeMiddleware.gatewayError(error).error
            // A plugin that is not installed is any name a client typed: one
            // label for them all keeps the series bounded.
            let label = coded.reason == .notInstalled ? GatewayMetrics.unknownPlugin : plugin
            metrics.pluginCall(label, kind: kind, code: coded.code.rawValue)
            throw error
        }
    }

    /// The tenant a call is for: a tenant key's own; an admin key may name one in `X-Paddock-Tenant`.
    static func tenant(_ request: Request, _ context: GatewayContext) -> String? {
        guard let caller = context.caller else { return nil }
        return caller.kind == .tenant ? caller.tenant : request.headers[.paddockTenant]
    }

    /// Server-sent events: `chunk` events as the tool streams, then `result`
    /// or `error`.
    private func stream(_ call: InvokeRequest, plugin: String) -> Response {
        stream(.invoke, call.params, plugin: plugin, kind: "tool", events: .paddock)
    }

    /// A streamed call as server-sent events in `events`' shape, counted as
    /// a call of `plugin` when there is one. The call has
    /// a supervisor connection of its own, which is not read while the
    /// client is behind (``ChunkStream``); a client that goes away cancels the call.
    func stream(_ method: ControlMethod, _ params: JSONValue, plugin: String?, kind: String, events format: EventFormat) -> Response {
        let connection = Mutex<ControlClient?>(nil)
        let events = ChunkStream(
            pause: { connection.withLock { $0 }?.setReading(false) },
            resume: { connection.withLock { $0 }?.setReading(true) })
        let supervisor = self.supervisor
        let task = Task {
            do {
                let call = {
                    try await supervisor.streamingCall(
                        method, params, onChunk: { chunk in if let event = format.chunk(chunk) { events.yield(event) } },
                        connected: { client in connection.withLock { $0 = client } })
                }
                let result = if let plugin { try await counted(plugin, kind, call) } else { try await call() }
                events.yield(format.result(result))
            } catch {
                events.yield(format.error(EdgeMiddleware.gatewayError(error).error))
            }
            events.finish()
        }
        events.onTermination { task.cancel() }
        return Response(
            status: .ok,
            headers: [.contentType: "text/event-stream", .cacheControl: "no-cache", .paddockCache: "bypass"],
            body: .init(asyncSequence: events))
    }

    /// How a streamed call's chunks, result and error become events.
    struct EventFormat: Sendable {
        /// A chunk's event; nil leaves it out.
        var chunk: @Sendable ([UInt8]) -> ByteBuffer?
        var result: @Sendable ([UInt8]) -> ByteBuffer
        var error: @Sendable (PaddockError) -> ByteBuffer

        /// Paddock's own: `chunk` events, then a `result` or an `error` event.
        static let paddock = EventFormat(
            chunk: { Gateway.event("chunk", $0) }, result: { Gateway.event("result", $0) },
            error: { Gateway.event("error", Gateway.errorBody($0)) })
    }

    static func event(_ name: String, _ data: [UInt8]) -> ByteBuffer {
        ByteBuffer(bytes: Array("event: \(name)\ndata: ".utf8) + data + Array("\n\n".utf8))
    }
}

extension HTTPField.Name {
    static let paddockTenant = HTTPField.Name("X-Paddock-Tenant")!
}
