import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// Model plugins over HTTP: by plugin and model name in Paddock's own shape,
/// and through OpenAI's API, checked with the official `openai` Python client
/// from PyPI against examples/mini-llm.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct ModelRouteTests {
    @Test func theOpenAIClientGetsMiniLLMsAnswerPlainAndStreamed() throws {
        let python = try OpenAIClient.python()
        let stack = try RunningGateway()
        try stack.activate("mini-llm")
        let key = try stack.key("--tenant", "acme")
        let question = #"{"messages": [{"role": "user", "content": "Hello there"}]}"#
        let direct = try stack.request("POST", "/v1/plugins/mini-llm/models/mini-chat", key: key, body: question)
        let expected = try #require(direct.json?["content"]?.stringValue, "\(direct.text)")

        let script = """
            import json, sys, openai
            client = openai.OpenAI(base_url=sys.argv[1], api_key=sys.argv[2], max_retries=0)
            messages = [{"role": "user", "content": "Hello there"}]
            plain = client.chat.completions.create(model="mini-chat", messages=messages)
            stream = client.chat.completions.create(model="mini-chat", messages=messages, stream=True)
            pieces = [chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices]
            errors = {}
            for name, call in [("unknown", lambda: client.chat.completions.create(model="no-such-model", messages=messages)),
                               ("too_many", lambda: client.chat.completions.create(model="mini-chat", messages=messages, max_tokens=10**9))]:
                try:
                    call()
                except openai.APIStatusError as error:
                    errors[name] = [error.status_code, error.body.get("code")]
            print(json.dumps({"plain": plain.choices[0].message.content, "finish": plain.choices[0].finish_reason,
                              "usage": plain.usage.total_tokens, "streamed": pieces, "models": [m.id for m in client.models.list()],
                              "errors": errors}))
            """
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: python), ["-c", script, "http://127.0.0.1:\(stack.port)/v1", key])
        #expect(run.status == 0, "\(run.stderr)")
        let answer = try JSONValue(parsing: Array(run.stdout.utf8))
        #expect(answer["plain"]?.stringValue == expected)
        #expect(answer["finish"] == "stop" && answer["usage"] != nil)
        let streamed = answer["streamed"]?.arrayValue?.compactMap(\.stringValue) ?? []
        #expect(streamed.count > 3 && streamed.joined() == expected, "\(streamed)")
        #expect(answer["models"] == ["mini-chat", "mini-markov"])
        #expect(answer["errors"]?["unknown"] == [404, 306], "\(run.stdout)")
        #expect(answer["errors"]?["too_many"]?.arrayValue?.first == 400, "\(run.stdout)")
    }

    @Test func aModelIsCalledByPluginAndNameBlockingOrStreamed() throws {
        let stack = try RunningGateway()
        try stack.activate("mini-llm")
        let key = try stack.key("--tenant", "acme")
        let path = "/v1/plugins/mini-llm/models/mini-chat"
        let body = #"{"messages": [{"role": "user", "content": "what is 2 + 3"}], "params": {"max_tokens": 8}}"#
        let blocking = try stack.request("POST", path, key: key, body: body)
        #expect(blocking.status == 200 && blocking.json?["content"] == "2 + 3 = 5.", "\(blocking.text)")

        let events = try stack.request("POST", path, key: key, headers: ["Accept": "text/event-stream"], body: body)
        #expect(events.headers["content-type"] == "text/event-stream")
        #expect(events.text.components(separatedBy: "event: chunk").count - 1 == 5, "\(events.text)")
        #expect(events.text.contains(#"event: result"#) && events.text.contains(#""content":"2 + 3 = 5.""#), "\(events.text)")

        for (hostile, code) in [
            ("{}", 101), (#"{"messages": "hi"}"#, 102), (#"{"messages": []}"#, 102), (#"{"messages": [{"content": "no role"}]}"#, 102),
            (#"{"messages": [{"role": "user", "content": "x"}], "params": [1]}"#, 102),
            (#"{"messages": [{"role": "user", "content": "x"}], "parameters": {}}"#, 102),
            (#"{"messages": [{"role": "user", "content": "x"}], "params": {"max_tokens": 9223372036854775807}}"#, 102),
        ] {
            let refused = try stack.request("POST", path, key: key, body: hostile)
            #expect(refused.status == 400 && refused.json?["code"] == .int(code), "\(hostile): \(refused.status) \(refused.text)")
        }
        #expect(try stack.request("POST", "/v1/plugins/mini-llm/models/nope", key: key, body: body).json?["code"] != nil)
        #expect(try stack.request("POST", path, body: body).status == 401)
    }

    @Test func modelNamesTwoPluginsShareAndAModelThatAnswersBadlyAreCodedErrors() throws {
        let stack = try RunningGateway()
        try stack.activate("mini-llm")
        let folder = "/tmp/paddock-hostile-model-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Fixture.writeWorldReadable(directory: folder, files: ["manifest.yaml": Self.hostileManifest, "main.py": Self.hostileSource])
        #expect(try stack.paddock("install", folder).status == 0)
        #expect(try stack.paddock("activate", "hostile-model").status == 0)
        let key = try stack.key("--tenant", "acme")
        let question = #""messages": [{"role": "user", "content": "hello"}]"#

        let listed = try stack.request("GET", "/v1/models", key: key).json?["data"]?.arrayValue?.compactMap { $0["id"]?.stringValue }
        #expect(listed == ["hostile-model/mini-chat", "liar", "mini-llm/mini-chat", "mini-markov"])
        let ambiguous = try stack.request("POST", "/v1/chat/completions", key: key, body: #"{"model": "mini-chat", \#(question)}"#)
        #expect(ambiguous.status == 400 && ambiguous.json?["error"]?["param"] == "model", "\(ambiguous.text)")
        #expect(ambiguous.text.contains("hostile-model/mini-chat") && ambiguous.text.contains("mini-llm/mini-chat"))
        let named = try stack.request("POST", "/v1/chat/completions", key: key, body: #"{"model": "mini-llm/mini-chat", \#(question)}"#)
        #expect(named.json?["choices"]?.arrayValue?.first?["message"]?["content"]?.stringValue?.hasPrefix("Hello!") == true, "\(named.text)")
        #expect(named.json?["model"] == "mini-llm/mini-chat")

        // A result without string content is the plugin's fault (502), in OpenAI's shape, streamed or not.
        let lied = try stack.request("POST", "/v1/chat/completions", key: key, body: #"{"model": "liar", \#(question)}"#)
        #expect(lied.status == 502 && lied.json?["error"]?["code"] == .int(202), "\(lied.status) \(lied.text)")
        let streamed = try stack.request("POST", "/v1/chat/completions", key: key, body: #"{"model": "liar", "stream": true, \#(question)}"#)
        let events = streamed.text.components(separatedBy: "\n\n").filter { !$0.isEmpty }
        #expect(events.count == 2 && events[0].contains(#""content":"real ""#) && events[1].contains(#""error":"#), "\(streamed.text)")
        #expect(!streamed.text.contains("[DONE]"))

        for (hostile, code) in [
            (#"{\#(question)}"#, 101), (#"{"model": 7, \#(question)}"#, 101), (#"{"model": "liar", "messages": "hi"}"#, 102),
            (#"{"model": "liar", "n": 2, \#(question)}"#, 102), (#"{"model": "liar", "stream": "yes", \#(question)}"#, 102),
            (#"{"model": "liar", "tools": [{"type": "function"}], \#(question)}"#, 103),
        ] {
            let refused = try stack.request("POST", "/v1/chat/completions", key: key, body: hostile)
            #expect((400..<500).contains(refused.status) && refused.json?["error"]?["code"] == .int(code), "\(hostile): \(refused.text)")
        }
        let anonymous = try stack.request("GET", "/v1/models")
        #expect(anonymous.status == 401 && anonymous.json?["error"]?["type"] == "authentication_error", "\(anonymous.text)")
    }

    static let hostileManifest = """
        name: hostile-model
        author: test
        version: 1.0.0
        type: model
        description: a model plugin that shares a model name and answers without content
        runner: {language: python, version: "3.11", entrypoint: main.py}
        permission: {storage: 0}
        models:
          - provider: hostile
            items:
              - {name: mini-chat, model_type: llm}
              - {name: liar, model_type: llm}
              - {name: embedder, model_type: text-embedding}
        """

    static let hostileSource = """
        from paddock_plugin import Plugin

        plugin = Plugin()


        @plugin.model("mini-chat")
        def chat(messages, params, context):
            return {"content": "hostile"}


        @plugin.model("liar")
        def liar(messages, params, context):
            yield {"delta": "real "}
            yield {"delta": 7}
            yield ["not", "an", "object"]
            return {"content": 5}


        @plugin.model("embedder")
        def embedder(messages, params, context):
            return {"content": ""}
        """
}

/// A Python environment with the official `openai` client from PyPI, made
/// once per machine (Debian's python3).
enum OpenAIClient {
    static let folder = "/tmp/paddock-test-openai"

    static func python() throws -> String {
        let python = folder + "/bin/python"
        if FileManager.default.fileExists(atPath: python),
            try ProcessRunner.run(URL(fileURLWithPath: python), ["-c", "import openai"]).status == 0
        {
            return python
        }
        try? FileManager.default.removeItem(atPath: folder)
        let steps = [
            ("/usr/bin/python3", ["-m", "venv", folder]),
            (python, ["-m", "pip", "install", "--quiet", "--disable-pip-version-check", "openai"]),
        ]
        for (program, arguments) in steps {
            let step = try ProcessRunner.run(URL(fileURLWithPath: program), arguments)
            guard step.status == 0 else { throw PaddockError(.dependencyUnavailable, "\(program) \(arguments): \(step.stderr)") }
        }
        return python
    }
}
