import Glibc
import Hummingbird
import NIOCore
import PaddockControl
import PaddockCore

/// OpenAI's API over model plugins, so that OpenAI clients and SDKs can use
/// any of them: `GET /v1/models` (``ModelIndex``) and `POST /v1/chat/completions`
/// (``OpenAIChat``; `stream: true` for server-sent events). Errors come in
/// OpenAI's shape (``OpenAIErrors``).
extension Gateway {
    func listModels(_ context: GatewayContext) async throws -> Response {
        let models = try await models.entries().map { entry -> JSONValue in
            ["id": .string(entry.name), "object": "model", "created": 0, "owned_by": .string(entry.plugin)]
        }
        return Self.json(["object": "list", "data": .array(models)])
    }

    func chatCompletion(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let body = try await jsonBody(request)
        guard let name = body["model"]?.stringValue else {
            throw GatewayError(PaddockError(.configurationMissing, "model (a name from GET /v1/models) is required", field: "model"), fromRequest: true)
        }
        let entry = try await models.resolve(name)
        let chat = try OpenAIChat(
            body, entry: entry, tenant: Self.tenant(request, context), requestID: context.requestID,
            now: time(nil))
        try limitPlugin(entry.plugin)
        if chat.stream {
            return stream(.model, chat.call.params, plugin: entry.plugin, kind: "model", events: chat.events)
        }
        let supervisor = self.supervisor
        let result = try await counted(entry.plugin, "model") {
            try await DisconnectWatcher.whileConnected(context.channel) { [call = chat.call] in
                try await supervisor.call(.model, call.params, registerCancel: $0)
            }
        }
        return Self.json(try chat.completion(result))
    }
}

/// Errors of the OpenAI routes as OpenAI's clients read them:
/// `{"error": {"message", "type", "param", "code"}}` with the same status.
struct OpenAIErrors: RouterMiddleware {
    typealias Context = GatewayContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            let coded = EdgeMiddleware.gatewayError(error)
            return Response(
                status: coded.status, headers: coded.headers,
                body: .init(byteBuffer: ByteBuffer(bytes: OpenAIChat.errorBody(coded).jsonBytes)))
        }
    }
}
