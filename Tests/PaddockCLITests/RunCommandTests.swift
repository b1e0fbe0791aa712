import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// `paddock run` as a real process: the embedded default, no daemon.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct RunCommandTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let textTools = repository.appendingPathComponent("examples/text-tools").path
    static let weather = repository.appendingPathComponent("examples/weather-forecast").path

    @Test(arguments: [
        ("word_count", #"{"text": "one two three"}"#, #"{"words":3,"characters":13,"lines":1}"#),
        ("slugify", #"{"text": "Hello, Wörld!", "separator": "_"}"#, #"{"slug":"hello_world"}"#),
        ("json_path", #"{"document": {"a": [{"b": "x"}]}, "path": "a[0].b"}"#, #"{"value":"x"}"#),
    ])
    func textToolsPrintTheirResult(tool: String, params: String, expected: String) throws {
        let result = try PaddockCLI.run("run", Self.textTools, "--tool", tool, "--params", params)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == expected + "\n")
    }

    @Test func streamedChunksArriveOneByOneBeforeTheCallEnds() throws {
        let process = try Background(PaddockCLI.binary, [
            "run", Self.textTools, "--tool", "split_words", "--params", #"{"text": "alpha beta gamma", "delay_ms": 400}"#, "--stream",
        ])
        defer { process.stop() }
        #expect(process.nextLine() == #"{"word":"alpha"}"#)
        #expect(process.isRunning, "the first chunk came before the call ended")
        #expect(process.nextLine() == #"{"word":"beta"}"#)
        #expect(process.nextLine() == #"{"word":"gamma"}"#)
        #expect(process.nextLine() == #"{"count":3}"#)
        #expect(process.wait() == 0)
    }

    @Test func aModelPluginAnswersAPromptAndTheSameMessagesGiveTheSameReply() throws {
        let miniLLM = Self.repository.appendingPathComponent("examples/mini-llm").path
        let first = try PaddockCLI.run("run", miniLLM, "--model", "mini-chat", "--prompt", "what is 6 * 7")
        #expect(first.status == 0, "\(first.stderr)")
        #expect(try JSONValue(parsing: Array(first.stdout.utf8))["content"] == .string("6 * 7 = 42."))
        let messages = #"[{"role": "user", "content": "tell me about the river"}]"#
        let streamed = try PaddockCLI.run("run", miniLLM, "--model", "mini-markov", "--messages", messages, "--params", #"{"max_tokens": 8}"#, "--stream")
        let again = try PaddockCLI.run("run", miniLLM, "--model", "mini-markov", "--messages", messages, "--params", #"{"max_tokens": 8}"#)
        let lines = streamed.stdout.split(separator: "\n")
        #expect(lines.count == 9, "8 word chunks, then the result: \(streamed.stdout)")
        #expect(lines.last.map(String.init) == again.stdout.split(separator: "\n").last.map(String.init))
    }

    @Test func withRunsTheModelPluginTheToolCalls() throws {
        let miniLLM = Self.repository.appendingPathComponent("examples/mini-llm").path
        let code = """
            from paddock_plugin import Plugin
            plugin = Plugin()

            @plugin.tool("echo")
            def echo(params, context):
                return context.models.invoke("mini-llm", "mini-chat", [{"role": "user", "content": "what is 1 + 1"}])

            """
        let caller = try Self.plugin(name: "asks-model", code: code, permission: "{llms: true}")
        let result = try PaddockCLI.run("run", caller, "--with", miniLLM, "--tool", "echo")
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try JSONValue(parsing: Array(result.stdout.utf8))["content"] == .string("1 + 1 = 2."))
        let alone = try PaddockCLI.run("run", caller, "--tool", "echo")
        #expect(alone.stderr.hasPrefix("error 306:"), "without --with the model plugin is not there: \(alone.stderr)")
    }

    @Test func dataGivenWithDataIsKeptBetweenRuns() throws {
        let notes = Self.repository.appendingPathComponent("examples/notes").path
        let data = "/tmp/paddock-run-data-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let first = try PaddockCLI.run("run", notes, "--data", data, "--tool", "save_note", "--params", #"{"title": "one", "text": "1"}"#)
        #expect(first.status == 0, "\(first.stderr)")
        let second = try PaddockCLI.run("run", notes, "--data", data, "--tool", "save_note", "--params", #"{"title": "two", "text": "2"}"#)
        #expect(try JSONValue(parsing: Array(second.stdout.utf8))["id"] == .int(2), "\(second.stdout)\(second.stderr)")
        let listed = try PaddockCLI.run("run", notes, "--data", data, "--tool", "list_notes")
        #expect(try JSONValue(parsing: Array(listed.stdout.utf8))["count"] == .int(2))
    }

    @Test func invalidArgumentsAreCodedErrors() throws {
        let missing = try PaddockCLI.run("run", Self.textTools, "--tool", "word_count", "--params", "{}")
        #expect(missing.status == 1)
        #expect(missing.stderr == "error 101: required parameter 'text' is missing\n")
        let wrong = try PaddockCLI.run("run", Self.textTools, "--tool", "word_count", "--params", #"{"text": 5}"#)
        #expect(wrong.stderr.hasPrefix("error 102:"))
        let unknown = try PaddockCLI.run("run", Self.textTools, "--tool", "nope")
        #expect(unknown.stderr.hasPrefix("error 104:"))
        let badJSON = try PaddockCLI.run("run", Self.textTools, "--tool", "word_count", "--params", "{text")
        #expect(badJSON.stderr.hasPrefix("error 102:"))
    }

    @Test(arguments: [
        ("crash", "os._exit(1)\n", [305]),
        ("hog", "x = []\nwhile True:\n    x.append(bytearray(16 << 20))\n", [301]),
        ("silent", "time.sleep(3600)\n", [204]),
    ])
    func misbehavingPluginsEndInBoundedTimeWithACode(name: String, code: String, expected: [Int]) throws {
        let directory = try Self.plugin(name: name, code: code)
        let started = ContinuousClock.now
        let result = try ProcessRunner.run(PaddockCLI.binary, ["run", directory, "--tool", "echo", "--start-timeout", "3"], environment: [:])
        #expect(result.status == 1)
        let reported = Int(result.stderr.dropFirst("error ".count).prefix(3)) ?? 0
        #expect(expected.contains(reported), "\(result.stderr)")
        #expect(started.duration(to: .now) < .seconds(6))
    }

    @Test func weatherToolAndEndpointAgainstAFakeUpstream() throws {
        // The first two answers are 503: the plugin retries with backoff and succeeds.
        try Self.againstFakeUpstream(["--fail-first", "2"]) { settings, _ in
            let tool = try PaddockCLI.run(["run", Self.weather, "--tool", "current_weather", "--params", #"{"city": "Berlin"}"#] + settings)
            #expect(tool.status == 0, "\(tool.stderr)")
            let forecast = try JSONValue(parsing: Array(tool.stdout.utf8))
            #expect(forecast["city"] == .string("Berlin"))
            let endpoint = try PaddockCLI.run(["run", Self.weather, "--endpoint", "/weather", "--query", "city=Paris"] + settings)
            let response = try JSONValue(parsing: Array(endpoint.stdout.utf8))
            #expect(response["status"] == .int(200))
            let body = Data(base64Encoded: response["body"]?.stringValue ?? "") ?? Data()
            #expect(String(decoding: body, as: UTF8.self).contains("\"city\": \"Paris\""))
            let missingCity = try PaddockCLI.run(["run", Self.weather, "--endpoint", "/weather"] + settings)
            #expect(missingCity.stderr.hasPrefix("error 101:"))
        }
    }

    @Test func weatherReports201WhenTheUpstreamKeepsFailing() throws {
        try Self.againstFakeUpstream(["--fail-always"]) { settings, _ in
            let result = try PaddockCLI.run(["run", Self.weather, "--tool", "current_weather", "--params", #"{"city": "Oslo"}"#] + settings)
            #expect(result.status == 1)
            #expect(result.stderr.hasPrefix("error 201: the weather service kept failing"))
        }
        let noKey = try PaddockCLI.run("run", Self.weather, "--tool", "current_weather", "--params", #"{"city": "Oslo"}"#)
        #expect(noKey.stderr == "error 101: the required setting 'api_key' has no value\n")
    }

    @Test func weatherTakesItsKeyFromAFileOrStandardInputAndWarnsWhenItIsInArgv() throws {
        try Self.againstFakeUpstream([], key: "from-a-file") { settings, keyFile in
            let call = ["run", Self.weather, "--tool", "current_weather", "--params", #"{"city": "Lima"}"#, settings[0], settings[1], settings[4], settings[5]]
            let fromFile = try PaddockCLI.run(call + ["--setting", "api_key=@" + keyFile])
            #expect(fromFile.status == 0, "the upstream takes the key without its CRLF: \(fromFile.stderr)")
            #expect(try JSONValue(parsing: Array(fromFile.stdout.utf8))["city"] == .string("Lima"))
            #expect(!fromFile.stderr.contains("warning"), "\(fromFile.stderr)")
            let fromInput = try ProcessRunner.run(PaddockCLI.binary, call + ["--setting", "api_key=-"], input: keyFile)
            #expect(fromInput.status == 0, "\(fromInput.stderr)")
            let inline = try PaddockCLI.run(call + ["--setting", "api_key=from-a-file"])
            #expect(inline.status == 0, "\(inline.stderr)")
            #expect(inline.stderr.hasPrefix(PaddockCLI.secretWarning("api_key")), "\(inline.stderr)")
        }
    }

    @Test func settingsAreReadAndCheckedBeforeThePluginStarts() throws {
        let unreadable = try PaddockCLI.run(
            "run", Self.weather, "--tool", "current_weather", "--setting", "api_key=inline", "--setting", "units=@/nonexistent/units")
        #expect(unreadable.status == 1)
        #expect(
            unreadable.stderr == PaddockCLI.secretWarning("api_key")
                + "error 101: the setting 'units': cannot read /nonexistent/units: No such file or directory\n")
        let twice = try PaddockCLI.run("run", Self.weather, "--tool", "current_weather", "--setting", "api_key=-", "--setting", "units=-")
        #expect(twice.stderr.hasPrefix("error 102: only one setting can be read from standard input"), "\(twice.stderr)")
        let escaped = try PaddockCLI.run("run", Self.weather, "--tool", "current_weather", "--setting", "api_key=@@inline")
        #expect(escaped.stderr.hasPrefix(PaddockCLI.secretWarning("api_key")), "@@ is an inline value: \(escaped.stderr)")
    }

    /// Runs `body` against the stand-in weather service (started with
    /// `options`, taking `key`) with the settings that reach it: `api_base`,
    /// then `api_key` from `keyFile`, which holds the key and a CRLF.
    private static func againstFakeUpstream(
        _ options: [String], key: String = "test-key", _ body: (_ settings: [String], _ keyFile: String) throws -> Void
    ) throws {
        let upstream = try Background(URL(fileURLWithPath: "/usr/bin/python3"), [weather + "/dev/fake_upstream.py", "--key", key] + options)
        defer { upstream.stop() }
        let keyFile = try PaddockCLI.privateFile(key + "\r\n")
        defer { unlink(keyFile) }
        let port = upstream.nextLine()
        // The stand-in service is on the host's loopback: the plugin reaches it only through this allowance.
        try body(["--setting", "api_base=http://127.0.0.1:\(port)", "--setting", "api_key=@" + keyFile, "--allow-host-port", port], keyFile)
    }

    private static func plugin(name: String, code: String, permission: String = "{}") throws -> String {
        let directory = "/tmp/paddock-run-test-\(name)-\(getpid())"
        let manifest = """
            name: \(name)
            author: tests
            version: "1.0.0"
            type: tool
            description: misbehaves
            runner: {language: python, entrypoint: main.py}
            resource: {memory: 64MB}
            permission: \(permission)
            tools: [{provider: t, items: [{name: echo}]}]

            """
        try Fixture.writeWorldReadable(directory: directory, files: ["manifest.yaml": manifest, "main.py": "import os, time\n\(code)"])
        return directory
    }
}
