import Foundation
import PaddockCore
import PaddockTestSupport
import Testing

/// `paddock validate` run as a real process, for the acceptance list.
@Suite struct ValidateCommandTests {
    private func validate(_ manifest: String, files: [String] = ["main.py", "endpoints/weather.py"]) throws -> (status: Int32?, report: [String: Any]) {
        try Fixture.withPlugin(manifest: manifest, files: files) { try PaddockCLI.validateJSON($0) }
    }

    @Test func validManifestIsOkWithSizesInBytes() throws {
        let (status, report) = try validate(Fixture.weather)
        #expect(status == 0)
        #expect(report["ok"] as? Bool == true)
        #expect((report["errors"] as? [Any])?.isEmpty == true)
        let manifest = try #require(report["manifest"] as? [String: Any])
        let permission = try #require(manifest["permission"] as? [String: Any])
        let resource = try #require(manifest["resource"] as? [String: Any])
        #expect(permission["storage"] as? Int == 10_000_000)
        #expect(resource["memory"] as? Int == 256_000_000)
        #expect(manifest["name"] as? String == "weather-forecast")
        #expect((manifest["label"] as? [String: String])?["zh_Hans"] == "天气预报")
    }

    @Test(arguments: [
        ("missing name", Fixture.weather(replacing: "name: weather-forecast\n", with: ""), 101),
        ("version 1.0", Fixture.weather(replacing: "version: \"1.0.0\"", with: "version: \"1.0\""), 102),
        ("storage 10XB", Fixture.weather(replacing: "storage: 10MB", with: "storage: 10XB"), 102),
        (
            "tools and models",
            Fixture.tool + "models:\n  - provider: m\n    items: [{name: chat}]\n", 103
        ),
        ("models and endpoints", Fixture.weather(appending: "models:\n  - provider: m\n    items: [{name: chat}]\n"), 103),
        ("nothing declared", String(Fixture.weather.prefix { _ in true }.split(separator: "endpoints:\n  -")[0]), 103),
        (
            "two tool providers",
            Fixture.weather(appending: "tools:\n  - provider: a\n    items: [{name: x}]\n  - provider: b\n    items: [{name: y}]\n"), 103
        ),
        ("setting without name", Fixture.weather(replacing: "{name: api_key, type: secret, required: true}", with: "{type: secret, required: true}"), 101),
        ("method not permitted", Fixture.weather(replacing: "endpoints: [\"GET\", \"POST\"]", with: "endpoints: [\"POST\"]"), 104),
        ("YAML syntax error", "name: x\nlabel: {en_US: [broken\n", 102),
    ])
    func invalidManifestGivesItsCode(name: String, manifest: String, code: Int) throws {
        let (status, report) = try validate(manifest)
        #expect(status == 1, "\(name)")
        #expect(report["ok"] as? Bool == false, "\(name)")
        #expect(PaddockCLI.codes(report) == [code], "\(name)")
        #expect(report["manifest"] is NSNull, "\(name)")
    }

    @Test func syntaxErrorReportsTheLine() throws {
        let (_, report) = try validate("name: x\nauthor: y\nlabel: {en_US: [broken\n")
        let error = try #require((report["errors"] as? [[String: Any]])?.first)
        #expect(error["line"] as? Int == 4)
        #expect((error["message"] as? String)?.contains("line 4") == true)
    }

    @Test func missingDirectoryAndManifestAre101() throws {
        let (status, report) = try PaddockCLI.validateJSON(URL(fileURLWithPath: "/nonexistent/plugin"))
        #expect(status == 1)
        #expect(PaddockCLI.codes(report) == [101])
        let (emptyStatus, emptyReport) = try Fixture.withPlugin(manifest: "", files: []) { directory in
            try FileManager.default.removeItem(at: directory.appendingPathComponent("manifest.yaml"))
            return try PaddockCLI.validateJSON(directory)
        }
        #expect(emptyStatus == 1)
        #expect(PaddockCLI.codes(emptyReport) == [101])
    }

    @Test func readableReportListsEveryProblem() throws {
        let manifest = Fixture.weather(replacing: "name: weather-forecast\n", with: "")
            .replacingOccurrences(of: "storage: 10MB", with: "storage: 10XB")
        let result = try Fixture.withPlugin(manifest: manifest) { try PaddockCLI.run("validate", $0.path) }
        #expect(result.status == 1)
        #expect(result.stdout.contains("2 problems"))
        #expect(result.stdout.contains("error 101  name:"))
        #expect(result.stdout.contains("error 102  permission.storage:"))

        let valid = try Fixture.withPlugin(manifest: Fixture.weather) { try PaddockCLI.run("validate", $0.path) }
        #expect(valid.status == 0)
        #expect(valid.stdout.contains("weather-forecast 1.0.0 (extension) is valid"))
    }

    @Test func examplesAreValid() throws {
        let examples = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../examples").standardizedFileURL
        // Every folder with a manifest (examples/flows holds flows, not a plugin).
        let plugins = try FileManager.default.contentsOfDirectory(atPath: examples.path)
            .filter { FileManager.default.fileExists(atPath: examples.appendingPathComponent("\($0)/manifest.yaml").path) }
        #expect(plugins.contains("weather-forecast") && plugins.contains("wechat-dingtalk-connector"))
        for plugin in plugins {
            let (status, report) = try PaddockCLI.validateJSON(examples.appendingPathComponent(plugin))
            #expect(status == 0, "\(plugin): \(report)")
        }
    }
}
