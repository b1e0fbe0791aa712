import Foundation
import Glibc
import PaddockCore
import PaddockSupervisor
import PaddockTestSupport

/// Plugins written by the tests: a manifest declaring `tools`, and Python code.
enum TestPlugin {
    /// Writes a plugin directory (its files readable by others, as a checkout's are).
    static func write(
        name: String,
        tools: [String],
        code: String,
        memory: String = "128MB",
        cpuSeconds: Int = 60,
        workers: Int = 2,
        parameters: String = "[]",
        permission: String = "{}"
    ) throws -> String {
        let directory = "/tmp/paddock-test-plugins/\(name)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let items = tools.map { "      - {name: \($0), parameters: \(parameters), source: main.py}" }.joined(separator: "\n")
        let manifest = """
            name: \(name)
            author: tests
            version: "1.0.0"
            type: tool
            description: a plugin written by a test
            runner: {language: python, version: "3.11", entrypoint: main.py}
            resource: {memory: \(memory), cpu_seconds: \(cpuSeconds), workers: \(workers)}
            permission: \(permission)
            tools:
              - provider: test
                items:
            \(items)

            """
        let source = "import os, sys, time\nfrom paddock_plugin import Plugin, PluginError\nplugin = Plugin()\n" + code
        try Fixture.writeWorldReadable(directory: directory, files: ["manifest.yaml": manifest, "main.py": source])
        return directory
    }

    /// An engine with short timeouts over a fresh data directory.
    static func engine(_ adjust: (inout EngineConfiguration) -> Void = { _ in }) throws -> Engine {
        let data = "/tmp/paddock-test-data-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(data, 0o700)
        var configuration = try EngineConfiguration.locate(dataDirectory: data)
        configuration.firstUID = 210_000 + UInt32.random(in: 0..<200) * 100
        configuration.startTimeout = .seconds(5)
        configuration.callTimeout = .seconds(5)
        configuration.cancellationGrace = .milliseconds(500)
        configuration.restart.initialBackoff = .milliseconds(100)
        adjust(&configuration)
        return Engine(configuration: configuration)
    }

    /// A tool result as JSON.
    static func json(_ bytes: [UInt8]) throws -> JSONValue {
        try JSONValue(parsing: bytes)
    }
}
