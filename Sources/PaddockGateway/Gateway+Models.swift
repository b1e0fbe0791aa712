import Hummingbird
import PaddockControl
import PaddockCore

/// `POST /v1/plugins/{id}/models/{model}`: `{"messages": [{"role", "content"}, ...],
/// "params"?: {...}}` as the body, the model's result as the answer; with
/// `Accept: text/event-stream`, each partial answer as a `chunk` event as it
/// comes, then a `result` (or `error`) event, as for tools.
extension Gateway {
    func invokeModel(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        let model = try context.parameters.require("model")
        let body = try await jsonBody(request)
        let (messages, parameters) = try Self.modelCall(body)
        try limitPlugin(id)
        var call = ModelRequest(
            id: id, model: model, messages: messages, parameters: parameters, tenant: Self.tenant(request, context),
            requestID: context.requestID)
        if request.headers[.accept]?.contains("text/event-stream") == true {
            call.stream = true
            return stream(.model, call.params, plugin: id, kind: "model", events: .paddock)
        }
        let supervisor = self.supervisor
        return Self.raw(
            try await counted(id, "model") {
                try await DisconnectWatcher.whileConnected(context.channel) { [call] in
                    try await supervisor.call(.model, call.params, registerCancel: $0)
                }
            })
    }

    /// The messages and parameters of a model call's body.
    /// - Throws: 400 naming the field: `messages` missing or not a non-empty
    ///   array of objects with a `role`, `params` not an object, any other field.
    static func modelCall(_ body: JSONValue) throws(GatewayError) -> (messages: JSONValue, parameters: JSONValue) {
        do throws(PaddockError) {
            if case .object(let fields) = body, let unknown = fields.keys.sorted().first(where: { $0 != "messages" && $0 != "params" }) {
                throw PaddockError(.wrongFormat, "a model call takes messages and params, not '\(unknown.prefix(64))'", field: unknown)
            }
            let messages = try checkedMessages(body["messages"])
            let parameters = body["params"] ?? [:]
            guard case .object = parameters else {
                throw PaddockError(.wrongFormat, "params must be an object of the model's parameters", field: "params")
            }
            return (messages, parameters)
        } catch {
            throw GatewayError(error, fromRequest: true)
        }
    }

    /// A conversation as model plugins take it: a non-empty array of objects, each with a string `role`.
    static func checkedMessages(_ messages: JSONValue?) throws(PaddockError) -> JSONValue {
        guard let messages else {
            throw PaddockError(.configurationMissing, "messages (an array of {role, content}) is required", field: "messages")
        }
        guard let list = messages.arrayValue, !list.isEmpty,
            list.allSatisfy({ if case .object = $0, $0["role"]?.stringValue != nil { true } else { false } })
        else {
            throw PaddockError(.wrongFormat, "messages must be a non-empty array of {role, content} objects", field: "messages")
        }
        return messages
    }
}
