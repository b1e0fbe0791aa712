public import Foundation
import Glibc
public import PaddockCore

/// Manifests and plugin directories for tests.
public enum Fixture {
    /// A valid extension manifest with every section filled in.
    public static let weather = """
        name: weather-forecast
        author: "Dify Team"
        version: "1.0.0"
        type: extension
        label: {en_US: "Weather Forecast", zh_Hans: "天气预报"}
        description: {en_US: "Real-time weather", zh_Hans: "提供实时天气查询服务"}
        runner: {language: python, version: "3.11", entrypoint: main.py}
        resource: {memory: 256MB, cpu_seconds: 30, workers: 4}
        permission:
          tools: true
          llms: false
          apps: read
          storage: 10MB
          network: false
          endpoints: ["GET", "POST"]
        settings:
          - {name: api_base, type: string, required: true, default: "https://api.weather.com"}
          - {name: api_key, type: secret, required: true}
        endpoints:
          - provider: weather
            items:
              - path: /weather
                method: GET
                description: 查询指定城市天气
                parameters:
                  - {name: city, type: string, required: true, description: 城市名称}
                source: endpoints/weather.py

        """

    /// The weather plugin as a tool plugin: its endpoint turned into a tool.
    public static let tool = weather(replacing: "endpoints:\n  - provider", with: "tools:\n  - provider")
        .replacingOccurrences(of: "path: /weather\n        method: GET", with: "name: current_weather")

    /// The weather manifest with `old` replaced by `new` (which must occur).
    public static func weather(replacing old: String, with new: String) -> String {
        precondition(weather.contains(old), "fixture has no '\(old)'")
        return weather.replacingOccurrences(of: old, with: new)
    }

    /// The weather manifest with extra top-level text appended.
    public static func weather(appending extra: String) -> String {
        weather + extra
    }

    public static func load(_ yaml: String) -> ManifestReport {
        ManifestLoader().load(yaml: Array(yaml.utf8))
    }

    /// The error codes of a manifest, in report order.
    public static func codes(_ yaml: String) -> [Int] {
        load(yaml).errors.map(\.code.rawValue)
    }

    /// Writes a plugin directory holding `manifest` and empty `files`, runs
    /// `body` on it and removes it.
    public static func withPlugin<T>(
        manifest: String,
        files: [String] = ["main.py", "endpoints/weather.py"],
        _ body: (URL) throws -> T
    ) throws -> T {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("paddock-test-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Data(manifest.utf8).write(to: directory.appendingPathComponent("manifest.yaml"))
        for file in files {
            let url = directory.appendingPathComponent(file)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data().write(to: url)
        }
        return try body(directory)
    }

    /// Valid manifests of each plugin type, for mutation.
    public static let fuzzSeeds = [
        Fixture.weather,
        tool,
        """
        name: mini-llm
        author: me
        version: 0.1.0
        type: model
        description: a model
        runner: {language: python, entrypoint: main.py}
        models:
          - provider: mini
            items:
              - {name: chat, model_type: llm, parameters: [{name: temperature, type: number, min: 0, max: 2, default: 0.7}]}
        """,
    ]
}

extension Fixture {
    /// Writes `files` into a fresh `directory`, readable by others as a
    /// checkout's files are, so that a plugin under a uid of its own can read
    /// them (the directories above need not be: the sandbox shows it the plugin's).
    public static func writeWorldReadable(directory: String, files: [String: String]) throws {
        try? FileManager.default.removeItem(atPath: directory)
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        chmod(directory, 0o755)
        for (name, contents) in files {
            try contents.write(toFile: directory + "/" + name, atomically: true, encoding: .utf8)
            chmod(directory + "/" + name, 0o644)
        }
    }
}
