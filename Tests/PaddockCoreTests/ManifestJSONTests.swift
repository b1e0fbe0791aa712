import Foundation
import PaddockCore
import Testing

/// `Manifest.jsonValue` (what paddockd's `plugin` method sends) has the shape
/// JSONEncoder gave the manifest before it: the same keys, values and absences.
@Suite struct ManifestJSONTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let examples = ["echo-swift", "mini-llm", "notes", "text-tools", "weather-forecast", "wechat-dingtalk-connector"]

    @Test func everyExampleIsCoveredHere() throws {
        let found = try FileManager.default.contentsOfDirectory(atPath: Self.repository.appendingPathComponent("examples").path)
            .filter { FileManager.default.fileExists(atPath: Self.repository.appendingPathComponent("examples/\($0)/manifest.yaml").path) }
        #expect(found.sorted() == Self.examples)
    }

    @Test(arguments: examples)
    func anExampleHasTheShapeJSONEncoderGaveIt(example: String) throws {
        let manifest = try ManifestLoader().manifest(in: Self.repository.appendingPathComponent("examples/" + example).path)
        try expectSameShape(manifest)
    }

    @Test func everyOptionalFieldHasTheShapeJSONEncoderGaveIt() throws {
        let city = ParameterSchema(
            name: "city", type: .string, required: true, default: "Paris", choices: ["Paris", "Berlin"], min: 1, max: 100.5,
            pattern: "[A-Z].*", label: LocalizedText(["en_US": "City", "zh_Hans": "城市"]), description: LocalizedText("A city"))
        let tags = ParameterSchema(
            name: "tags", type: .array, items: ParameterSchema(name: "tag", type: .string), properties: nil)
        let point = ParameterSchema(
            name: "point", type: .object, default: .null,
            properties: [ParameterSchema(name: "x", type: .number, min: -0.25), ParameterSchema(name: "y", type: .integer, max: 1e20)])
        let manifest = Manifest(
            name: "everything", author: "Paddock", version: try SemanticVersion(parsing: "1.2.3-beta.1+build.5"), type: .extension_,
            label: LocalizedText("Everything"), description: LocalizedText(["en_US": "All", "zh_Hans": "全部"]), icon: "icon.svg",
            runner: Runner(language: .python, version: RuntimeVersion([3, 11]), entrypoint: "main.py"),
            resource: Resource(
                memory: ByteSize(bytes: 256_000_000), cpuSeconds: 30, workers: 4, cpu: 0.5, disk: ByteSize(bytes: 1 << 20), diskFiles: 100),
            permission: Permission(tools: true, llms: true, apps: .write, storage: ByteSize(bytes: 10_000_000), network: true, endpoints: [.GET, .PATCH]),
            settings: [
                Setting(name: "api_key", type: .secret, required: true, label: LocalizedText("Key"), description: LocalizedText("The key")),
                Setting(name: "units", type: .select, default: "metric", options: ["metric", "imperial"]),
                Setting(name: "retries", type: .integer, default: 3),
            ],
            tools: [
                Provider(
                    provider: "weather", label: LocalizedText("Weather"), description: LocalizedText("Tools"),
                    items: [ToolItem(name: "now", label: LocalizedText("Now"), description: LocalizedText("d"), parameters: [city, tags], cacheTTL: 60, source: "t.py"), ToolItem(name: "bare")]),
            ],
            models: [
                Provider(
                    provider: "mini",
                    items: [ModelItem(name: "chat", modelType: .textEmbedding, label: LocalizedText("Chat"), description: LocalizedText("d"), parameters: [point], source: "m.py"), ModelItem(name: "bare")]),
            ],
            endpoints: [
                Provider(provider: "hooks", items: [EndpointItem(path: "/hook", method: .POST, description: LocalizedText("d"), parameters: [city], source: "e.py"), EndpointItem(path: "/", method: .GET)]),
            ])
        try expectSameShape(manifest)
    }

    private func expectSameShape(_ manifest: Manifest) throws {
        let encoded = try JSONValue(parsing: Array(try JSONEncoder().encode(manifest)))
        #expect(manifest.jsonValue == encoded, "\(manifest.jsonValue.jsonText)\n\(encoded.jsonText)")
        // And what the gateway reads back from the wire.
        #expect(try JSONValue(parsing: manifest.jsonValue.jsonBytes) == encoded)
    }
}
