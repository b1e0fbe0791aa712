@_exported public import PaddockCore
import Synchronization

/// A native plugin's handlers. Register them, then `try await plugin.run()`:
///
///     let plugin = Plugin()
///     plugin.tool("echo") { params, context in params }
///     try await plugin.run()
///
/// Handlers run on the connection's event loop: one that does not suspend
/// answers with no thread hop. Put long computations in a detached task.
public final class Plugin: Sendable {
    public typealias ToolHandler = @Sendable (_ params: JSONValue, _ context: PluginContext) async throws -> JSONValue
    public typealias StreamHandler = @Sendable (_ params: JSONValue, _ context: PluginContext) -> AsyncThrowingStream<JSONValue, any Error>
    public typealias EndpointHandler = @Sendable (_ request: EndpointRequest, _ context: PluginContext) async throws -> EndpointResponse
    public typealias ModelHandler = @Sendable (_ messages: JSONValue, _ params: JSONValue, _ context: PluginContext) async throws -> JSONValue
    public typealias CredentialsHandler = @Sendable (_ credentials: JSONValue, _ context: PluginContext) async throws -> Bool

    struct Handlers {
        var tools: [String: ToolHandler] = [:]
        var endpoints: [String: EndpointHandler] = [:]
        var models: [String: ModelHandler] = [:]
        var credentials: CredentialsHandler?
    }

    let handlers = Mutex(Handlers())

    public init() {}

    /// A tool; `context.stream` sends partial results before the returned one.
    public func tool(_ name: String, _ handler: @escaping ToolHandler) {
        handlers.withLock { $0.tools[name] = handler }
    }

    /// A tool whose results arrive as an AsyncSequence: each element is a
    /// chunk; the call's result is `{"chunks": N}`.
    public func tool(_ name: String, stream handler: @escaping StreamHandler) {
        tool(name) { params, context in
            var count = 0
            for try await chunk in handler(params, context) {
                try context.checkCancellation()
                try await context.stream(chunk)
                count += 1
            }
            return ["chunks": .int(count)]
        }
    }

    /// An endpoint for `method path`.
    public func endpoint(_ method: HTTPMethod, _ path: String, _ handler: @escaping EndpointHandler) {
        handlers.withLock { $0.endpoints["\(method.rawValue) \(path)"] = handler }
    }

    /// A model; `context.stream` sends partial results.
    public func model(_ name: String, _ handler: @escaping ModelHandler) {
        handlers.withLock { $0.models[name] = handler }
    }

    /// The credentials validator ("test connection"): return true, or throw
    /// a ``PaddockError`` saying what is wrong.
    public func credentials(_ handler: @escaping CredentialsHandler) {
        handlers.withLock { $0.credentials = handler }
    }

    /// What the plugin implements, as `initialize` answers it.
    var announcement: JSONValue {
        handlers.withLock { handlers in
            [
                "sdk": .string(PluginServer.sdkVersion),
                "tools": .array(handlers.tools.keys.sorted().map(JSONValue.string)),
                "endpoints": .array(handlers.endpoints.keys.sorted().map { key in
                    let parts = key.split(separator: " ", maxSplits: 1)
                    return ["method": .string(String(parts[0])), "path": .string(String(parts[1]))]
                }),
                "models": .array(handlers.models.keys.sorted().map(JSONValue.string)),
                "credentials": .bool(handlers.credentials != nil),
            ]
        }
    }
}
