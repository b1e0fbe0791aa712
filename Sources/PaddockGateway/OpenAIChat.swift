import HTTPTypes
import NIOCore
import PaddockControl
import PaddockCore
import Synchronization

/// OpenAI's chat completions shapes over Paddock's model calls: the request
/// read into a ``ModelRequest``, and the model's result and chunks written
/// as a `chat.completion` and `chat.completion.chunk` events.
struct OpenAIChat: Sendable {
    /// The model as the client named it (echoed in every answer).
    var name: String
    /// `chatcmpl-` and the request's id.
    var completionID: String
    var created: Int
    var stream: Bool
    /// `stream_options.include_usage`: a last chunk with the usage, when the model gives one.
    var includeUsage: Bool
    var call: ModelRequest

    /// OpenAI's fields that are not model parameters; any other field the
    /// model does not declare is left out (clients send defaults of their own).
    static let ownFields: Set<String> = ["model", "messages", "stream", "stream_options", "n", "user", "max_completion_tokens"]

    /// Reads a chat completions request for `entry`'s model: the fields the
    /// model declares as parameters are its parameters (checked by the host,
    /// 101 on a bad value); `max_completion_tokens` stands for `max_tokens`.
    /// - Throws: 400 naming the field: messages, stream, n other than 1,
    ///   tools (function calling is not served).
    init(_ body: JSONValue, entry: ModelIndex.Entry, tenant: String?, requestID: String, now: Int) throws(GatewayError) {
        do throws(PaddockError) {
            let messages = try Gateway.checkedMessages(body["messages"])
            if let stream = body["stream"], stream != .null, stream != true, stream != false {
                throw PaddockError(.wrongFormat, "stream must be true or false", field: "stream")
            }
            if let n = body["n"], n != .null, n != 1 {
                throw PaddockError(.wrongFormat, "only one choice (n: 1) is served", field: "n")
            }
            if let tools = body["tools"], tools != .null, tools.arrayValue?.isEmpty != true {
                throw PaddockError(.forbiddenCombination, "function calling (tools) is not served by model plugins", field: "tools")
            }
            var parameters: [String: JSONValue] = [:]
            if case .object(let fields) = body {
                for (key, value) in fields where entry.parameters.contains(key) && !Self.ownFields.contains(key) && value != .null {
                    parameters[key] = value
                }
                if entry.parameters.contains("max_tokens"), parameters["max_tokens"] == nil,
                    let limit = fields["max_completion_tokens"], limit != .null
                {
                    parameters["max_tokens"] = limit
                }
            }
            name = entry.name
            completionID = "chatcmpl-" + requestID
            created = now
            stream = body["stream"] == true
            includeUsage = body["stream_options"]?["include_usage"] == true
            call = ModelRequest(
                id: entry.plugin, model: entry.model, messages: messages, parameters: .object(parameters), tenant: tenant, stream: stream,
                requestID: requestID)
        } catch {
            throw GatewayError(error, fromRequest: true)
        }
    }

    /// The model's answer as a `chat.completion`.
    /// - Throws: 502 (202) when the result has no string `content`.
    func completion(_ result: [UInt8]) throws(GatewayError) -> JSONValue {
        let answer = try Self.answer(result)
        var completion = header("chat.completion")
        completion["choices"] = [
            [
                "index": 0, "message": ["role": "assistant", "content": .string(answer.content)],
                "finish_reason": .string(answer.finishReason), "logprobs": nil,
            ]
        ]
        if let usage = answer.usage { completion["usage"] = usage }
        return .object(completion)
    }

    /// The events of a streamed completion: a `chat.completion.chunk` per
    /// chunk of the model (the first with the role), then one with the
    /// finish reason (carrying the whole answer when the model streamed none
    /// of it), the usage when asked for, and `[DONE]`. An error is a
    /// `data: {"error": ...}` event, and the stream ends.
    var events: Gateway.EventFormat {
        let streamed = Mutex(false)
        return Gateway.EventFormat(
            chunk: { chunk in
                guard let delta = (try? JSONValue(parsing: chunk))?["delta"]?.stringValue else { return nil }
                let first = streamed.withLock { was in defer { was = true }; return !was }
                return Self.data(self.chunk(first ? ["role": "assistant", "content": .string(delta)] : ["content": .string(delta)]))
            },
            result: { result in
                let answer: (content: String, finishReason: String, usage: JSONValue?)
                do throws(GatewayError) { answer = try Self.answer(result) } catch { return Self.data(Self.errorBody(error)) }
                var events: [UInt8] = []
                if !streamed.withLock({ $0 }) { events += Self.bytes(self.chunk(["role": "assistant", "content": .string(answer.content)])) }
                events += Self.bytes(self.chunk([:], finishReason: answer.finishReason))
                if includeUsage, let usage = answer.usage {
                    var last = self.header("chat.completion.chunk")
                    last["choices"] = []
                    last["usage"] = usage
                    events += Self.bytes(.object(last))
                }
                events += Array("data: [DONE]\n\n".utf8)
                return ByteBuffer(bytes: events)
            },
            error: { Self.data(Self.errorBody(GatewayError($0))) })
    }

    private func header(_ object: String) -> [String: JSONValue] {
        ["id": .string(completionID), "object": .string(object), "created": .int(created), "model": .string(name)]
    }

    private func chunk(_ delta: [String: JSONValue], finishReason: String? = nil) -> JSONValue {
        var chunk = header("chat.completion.chunk")
        chunk["choices"] = [["index": 0, "delta": .object(delta), "finish_reason": finishReason.map(JSONValue.string) ?? .null, "logprobs": nil]]
        return .object(chunk)
    }

    /// What a model's result holds: `content`, and optionally `finish_reason`
    /// (one of OpenAI's, else `stop`) and `usage` (token counts, passed on when they are integers).
    private static func answer(_ result: [UInt8]) throws(GatewayError) -> (content: String, finishReason: String, usage: JSONValue?) {
        guard let value = try? JSONValue(parsing: result), let content = value["content"]?.stringValue else {
            throw GatewayError(PaddockError(.unparsableData, "the model plugin answered without a string 'content'"))
        }
        let reasons: Set<String> = ["stop", "length", "content_filter"]
        let reason = value["finish_reason"]?.stringValue.flatMap { reasons.contains($0) ? $0 : nil } ?? "stop"
        var usage: JSONValue?
        let counts = ["prompt_tokens", "completion_tokens", "total_tokens"].compactMap { key in
            value["usage"]?[key].flatMap { if case .int(let n) = $0, n >= 0 { (key, JSONValue.int(n)) } else { nil } }
        }
        if counts.count == 3 { usage = .object(Dictionary(uniqueKeysWithValues: counts)) }
        return (content, reason, usage)
    }

    private static func bytes(_ value: JSONValue) -> [UInt8] {
        Array("data: ".utf8) + value.jsonBytes + Array("\n\n".utf8)
    }

    private static func data(_ value: JSONValue) -> ByteBuffer {
        ByteBuffer(bytes: bytes(value))
    }

    /// OpenAI's error body: `{"error": {"message", "type", "param", "code"}}`,
    /// `code` being Paddock's catalog code.
    static func errorBody(_ error: GatewayError) -> JSONValue {
        let type =
            switch error.status.code {
            case 401: "authentication_error"
            case 403: "permission_error"
            case 404: "not_found_error"
            case 429: "rate_limit_error"
            case 400..<500: "invalid_request_error"
            default: "api_error"
            }
        return [
            "error": [
                "message": .string(error.error.message), "type": .string(type), "param": error.error.field.map(JSONValue.string) ?? .null,
                "code": .int(error.error.code.rawValue),
            ]
        ]
    }
}
