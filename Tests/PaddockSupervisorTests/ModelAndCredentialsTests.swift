import Foundation
import Glibc
import PaddockCore
import PaddockSupervisor
import PaddockTestSupport
import Synchronization
import Testing

/// `model.invoke` with streaming and `credentials.validate`, through the engine.
@Suite(.timeLimit(.minutes(1)))
struct ModelAndCredentialsTests {
    @Test func streamingModelAndCredentialCheck() async throws {
        let directory = "/tmp/paddock-test-plugins/echo-model-\(getpid())"
        let manifest = """
            name: echo-model
            author: tests
            version: "1.0.0"
            type: model
            description: echoes the last message word by word
            runner: {language: python, entrypoint: main.py}
            settings: [{name: api_key, type: secret, required: true}]
            models:
              - provider: echo
                items:
                  - {name: echo, model_type: llm, parameters: [{name: temperature, type: number, min: 0, max: 2}]}

            """
        let source = """
            from paddock_plugin import Plugin
            plugin = Plugin()

            @plugin.model("echo")
            def echo(messages, params, context):
                text = messages[-1]["content"]
                for word in text.split():
                    yield {"delta": word}
                return {"content": text, "key_seen": context.credentials.get("api_key") == "k"}

            @plugin.credentials
            def check(credentials, context):
                return credentials.get("api_key") == "k" or "the key was refused"

            """
        try Fixture.writeWorldReadable(directory: directory, files: ["manifest.yaml": manifest, "main.py": source])

        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let id = try await engine.load(directory: directory, settings: .object(["api_key": .string("k")]))
        try await engine.start(id)
        let chunks = Mutex<[String]>([])
        let messages = JSONValue.array([.object(["role": .string("user"), "content": .string("hello model world")])])
        let result = try await engine.invokeModel(id, model: "echo", messages: messages, params: .object(["temperature": .double(0.5)])) { chunk in
            chunks.withLock { $0.append(String(decoding: chunk, as: UTF8.self)) }
        }
        #expect(chunks.withLock { $0 } == [#"{"delta":"hello"}"#, #"{"delta":"model"}"#, #"{"delta":"world"}"#])
        #expect(try JSONValue(parsing: result) == .object(["content": .string("hello model world"), "key_seen": .bool(true)]))
        let tooHot = await #expect(throws: PaddockError.self) {
            try await engine.invokeModel(id, model: "echo", messages: messages, params: .object(["temperature": .int(5)]))
        }
        #expect(tooHot?.code == .wrongFormat)
        #expect(try JSONValue(parsing: try await engine.validateCredentials(id, credentials: .object(["api_key": .string("k")]))) == .object(["valid": .bool(true)]))
        let refused = try JSONValue(parsing: try await engine.validateCredentials(id, credentials: .object(["api_key": .string("x")])))
        #expect(refused["valid"] == .bool(false))
        #expect(refused["message"] == .string("the key was refused"))
    }
}
