import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// Every rule of the seed, and the acceptance list of `paddock validate`.
@Suite struct ManifestRuleTests {
    @Test func validManifestDecodesWithNormalisedValues() throws {
        let report = try Fixture.withPlugin(manifest: Fixture.weather) { ManifestLoader().load(directory: $0.path) }
        #expect(report.errors.isEmpty, "\(report.errors)")
        let manifest = try #require(report.manifest)
        #expect(manifest.name == "weather-forecast")
        #expect(manifest.version == SemanticVersion(1, 0, 0))
        #expect(manifest.type == .extension_)
        #expect(manifest.label.text(for: "zh_Hans") == "天气预报")
        #expect(manifest.description.text() == "Real-time weather")
        #expect(manifest.resource.memory == ByteSize(bytes: 256_000_000))
        #expect(manifest.resource.cpuSeconds == 30)
        #expect(manifest.permission.storage.bytes == 10_000_000)
        #expect(manifest.permission.apps == .read)
        #expect(manifest.permission.endpoints == [.GET, .POST])
        #expect(manifest.runner.version == RuntimeVersion([3, 11]))
        #expect(manifest.settings.map(\.name) == ["api_base", "api_key"])
        #expect(manifest.settings[1].type == .secret)
        let endpoint = try #require(manifest.endpoints.first?.items.first)
        #expect(endpoint.method == .GET)
        #expect(endpoint.parameters.first?.required == true)
        #expect(endpoint.description?.text() == "查询指定城市天气")
    }

    @Test func missingNameIs101() {
        let report = Fixture.load(Fixture.weather(replacing: "name: weather-forecast\n", with: ""))
        #expect(report.errors.map(\.code.rawValue) == [101])
        #expect(report.errors.first?.field == "name")
        #expect(report.manifest == nil)
    }

    @Test(arguments: ["author", "version", "type", "description", "runner"])
    func missingRequiredFieldIs101(field: String) {
        let yaml = Fixture.weather.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { !$0.hasPrefix("\(field):") }.joined(separator: "\n")
        let report = Fixture.load(yaml)
        #expect(report.errors.contains { $0.code == .configurationMissing && $0.field == field })
    }

    @Test(arguments: ["\"1.0\"", "1.0", "\"v1.0.0\"", "\"01.0.0\"", "\"1.0.0-\"", "\"1.0.0+\""])
    func nonSemanticVersionIs102(version: String) {
        let report = Fixture.load(Fixture.weather(replacing: "version: \"1.0.0\"", with: "version: \(version)"))
        #expect(report.errors.map(\.code.rawValue) == [102])
        #expect(report.errors.first?.field == "version")
    }

    @Test func prereleaseVersionIsValid() {
        let report = Fixture.load(Fixture.weather(replacing: "\"1.0.0\"", with: "\"2.0.0-rc.1+build\""))
        #expect(report.manifest?.version.description == "2.0.0-rc.1+build")
    }

    @Test func unknownStorageUnitIs102() {
        let report = Fixture.load(Fixture.weather(replacing: "storage: 10MB", with: "storage: 10XB"))
        #expect(report.errors.map(\.code.rawValue) == [102])
        #expect(report.errors.first?.field == "permission.storage")
    }

    @Test func toolsAndModelsTogetherIs103() {
        let yaml = Fixture.tool + "models:\n  - provider: m\n    items:\n      - {name: chat}\n"
        #expect(Fixture.codes(Fixture.tool) == [])
        #expect(Fixture.codes(yaml) == [103])
        #expect(Fixture.load(yaml).errors.contains { $0.message.contains("tools and models") })
    }

    @Test func modelsAndEndpointsTogetherIs103() {
        let yaml = Fixture.weather(appending: "models:\n  - provider: m\n    items:\n      - {name: chat}\n")
        #expect(Fixture.codes(yaml) == [103])
    }

    @Test func toolsAndEndpointsTogetherAreAllowed() {
        let yaml = Fixture.weather(appending: "tools:\n  - provider: t\n    items:\n      - {name: lookup}\n")
        #expect(Fixture.codes(yaml) == [])
    }

    @Test func nothingDeclaredIs103() {
        let yaml = String(Fixture.weather[..<Fixture.weather.range(of: "endpoints:\n  -")!.lowerBound])
        #expect(Fixture.codes(yaml) == [103])
    }

    @Test(arguments: ["tools", "models", "endpoints"])
    func twoProvidersInOneSectionIs103(section: String) {
        let item = { (name: String) in section == "endpoints" ? "{path: /\(name), method: GET}" : "{name: \(name)}" }
        let base = Fixture.weather(replacing: "endpoints:\n  - provider", with: "unused:\n  - provider")
        let yaml = base + "\(section):\n  - provider: one\n    items: [\(item("a"))]\n  - provider: two\n    items: [\(item("b"))]\n"
        let report = Fixture.load(yaml)
        #expect(report.errors.map(\.code.rawValue) == [103])
        #expect(report.errors.first?.field == "\(section)[1]")
    }

    @Test func requiredSettingWithoutNameIs101() {
        let yaml = Fixture.weather(replacing: "{name: api_key, type: secret, required: true}", with: "{type: secret, required: true}")
        let report = Fixture.load(yaml)
        #expect(report.errors.map(\.code.rawValue) == [101])
        #expect(report.errors.first?.field == "settings[1].name")
    }

    @Test func endpointMethodNotPermittedIs104() {
        let report = Fixture.load(Fixture.weather(replacing: "endpoints: [\"GET\", \"POST\"]", with: "endpoints: [\"POST\"]"))
        #expect(report.errors.map(\.code.rawValue) == [104])
        #expect(report.errors.first?.field == "endpoints[0].items[0].method")
    }

    @Test func endpointsWithoutAnyPermissionAre104() {
        let report = Fixture.load(Fixture.weather(replacing: "  endpoints: [\"GET\", \"POST\"]\n", with: ""))
        #expect(report.errors.map(\.code.rawValue) == [104])
    }

    @Test func yamlSyntaxErrorIs102WithLine() {
        let report = Fixture.load("name: x\nauthor: y\nversion: [1.0\n")
        let error = report.errors.first
        #expect(report.errors.count == 1)
        #expect(error?.code == .wrongFormat)
        #expect(error?.details["line"] == "4")
        #expect(error?.message.contains("line 4") == true)
    }

    @Test func badIndentationReportsItsLine() {
        let yaml = Fixture.weather(replacing: "  tools: true\n", with: "  tools: true\n    llms: [\n")
        let error = Fixture.load(yaml).errors.first
        #expect(error?.code == .wrongFormat)
        #expect(error?.details["line"].flatMap { Int($0) }.map { $0 >= 10 } == true)
    }

    @Test(arguments: ["Weather", "weather_forecast", "", "a b", String(repeating: "a", count: 65), "天气"])
    func invalidNameIs102(name: String) {
        let report = Fixture.load(Fixture.weather(replacing: "name: weather-forecast", with: "name: \"\(name)\""))
        #expect(report.errors.map(\.code.rawValue) == [102])
        #expect(report.errors.first?.field == "name")
    }

    @Test func sixtyFourCharacterNameIsValid() {
        let name = String(repeating: "a", count: 63) + "1"
        #expect(Fixture.codes(Fixture.weather(replacing: "name: weather-forecast", with: "name: \(name)")) == [])
    }

    @Test func missingSourceFileIs105() throws {
        let report = try Fixture.withPlugin(manifest: Fixture.weather, files: ["main.py"]) {
            ManifestLoader().load(directory: $0.path)
        }
        #expect(report.errors.map(\.code.rawValue) == [105])
        #expect(report.errors.first?.field == "endpoints[0].items[0].source")
    }

    @Test func missingEntrypointIs105() throws {
        let report = try Fixture.withPlugin(manifest: Fixture.weather, files: ["endpoints/weather.py"]) {
            ManifestLoader().load(directory: $0.path)
        }
        #expect(report.errors.map(\.code.rawValue) == [105])
        #expect(report.errors.first?.field == "runner.entrypoint")
    }

    @Test func sourceOutsideThePluginIs102() throws {
        let yaml = Fixture.weather(replacing: "source: endpoints/weather.py", with: "source: ../../etc/passwd")
        let report = try Fixture.withPlugin(manifest: yaml) { ManifestLoader().load(directory: $0.path) }
        #expect(report.errors.map(\.code.rawValue) == [102])
    }

    @Test func missingDirectoryAndMissingManifestAre101() throws {
        let missing = ManifestLoader().load(directory: "/nonexistent/paddock-plugin")
        #expect(missing.errors.map(\.code.rawValue) == [101])
        let empty = try Fixture.withPlugin(manifest: "", files: []) { directory in
            try FileManager.default.removeItem(at: directory.appendingPathComponent("manifest.yaml"))
            return ManifestLoader().load(directory: directory.path)
        }
        #expect(empty.errors.map(\.code.rawValue) == [101])
    }

    @Test func manifestThatIsNotARegularFileIs102() throws {
        let report = try Fixture.withPlugin(manifest: "", files: []) { directory in
            let manifest = directory.appendingPathComponent("manifest.yaml")
            try FileManager.default.removeItem(at: manifest)
            #expect(mkfifo(manifest.path, 0o600) == 0)
            return ManifestLoader().load(directory: directory.path)
        }
        #expect(report.errors.map(\.code.rawValue) == [102])
    }

    @Test func allProblemsAreReportedAtOnce() {
        var yaml = Fixture.weather(replacing: "name: weather-forecast\n", with: "")
        yaml = yaml.replacingOccurrences(of: "\"1.0.0\"", with: "\"1.0\"")
        yaml = yaml.replacingOccurrences(of: "storage: 10MB", with: "storage: lots")
        yaml = yaml.replacingOccurrences(of: "endpoints: [\"GET\", \"POST\"]", with: "endpoints: [\"POST\"]")
        yaml += "models:\n  - provider: m\n    items: [{name: chat}]\n"
        let report = Fixture.load(yaml)
        #expect(Set(report.errors.map(\.code.rawValue)) == [101, 102, 103, 104])
        #expect(Set(report.errors.compactMap(\.field)).isSuperset(of: ["name", "version", "permission.storage"]))
        #expect(report.errors.allSatisfy { !$0.message.isEmpty })
    }

    @Test func wrongTypesAre102() {
        let yaml = Fixture.weather(replacing: "tools: true", with: "tools: maybe")
            .replacingOccurrences(of: "apps: read", with: "apps: everything")
            .replacingOccurrences(of: "cpu_seconds: 30", with: "cpu_seconds: thirty")
            .replacingOccurrences(of: "language: python", with: "language: cobol")
        let report = Fixture.load(yaml)
        #expect(report.errors.map(\.code.rawValue) == [102, 102, 102, 102])
        #expect(Set(report.errors.compactMap(\.field)) == ["permission.tools", "permission.apps", "resource.cpu_seconds", "runner.language"])
    }

    @Test func duplicateKeysAndNamesAre102() {
        let yaml = Fixture.weather(replacing: "author: \"Dify Team\"\n", with: "author: a\nauthor: b\n")
            .replacingOccurrences(of: "name: api_key", with: "name: api_base")
        let report = Fixture.load(yaml)
        #expect(report.errors.map(\.code.rawValue) == [102, 102])
    }

    @Test func unknownKeysAreWarningsNotErrors() {
        let report = Fixture.load(Fixture.weather(appending: "permisson: {}\n"))
        #expect(report.isValid)
        #expect(report.warnings.first?.field == "permisson")
    }

    @Test func i18nAcceptsPlainStringOrLocaleMap() {
        let report = Fixture.load(Fixture.weather(replacing: "label: {en_US: \"Weather Forecast\", zh_Hans: \"天气预报\"}", with: "label: Weather"))
        #expect(report.manifest?.label == LocalizedText(["en_US": "Weather"]))
        #expect(Fixture.codes(Fixture.weather(replacing: "label: {en_US: \"Weather Forecast\", zh_Hans: \"天气预报\"}", with: "label: [a]")) == [102])
    }

    @Test func selectSettingNeedsOptionsAndAFittingDefault() {
        let yaml = Fixture.weather(replacing: "{name: api_key, type: secret, required: true}", with: "{name: units, type: select, default: kelvin, options: [metric]}")
        #expect(Fixture.codes(yaml) == [102])
        let noOptions = Fixture.weather(replacing: "{name: api_key, type: secret, required: true}", with: "{name: units, type: select}")
        #expect(Fixture.codes(noOptions) == [101])
    }

    @Test func parameterSchemaMustBeConsistent() {
        let yaml = Fixture.weather(replacing: "{name: city, type: string, required: true, description: 城市名称}", with: "{name: city, type: string, pattern: '([a-z', min: 5, max: 2, default: 7}")
        let report = Fixture.load(yaml)
        #expect(report.errors.map(\.code.rawValue) == [102, 102, 102])
        #expect(Set(report.errors.compactMap(\.field)) == ["endpoints[0].items[0].parameters[0].pattern", "endpoints[0].items[0].parameters[0].max", "endpoints[0].items[0].parameters[0].default"])
    }

    @Test func topLevelThatIsNotAMappingIs102() {
        #expect(Fixture.codes("- a\n- b\n") == [102])
        #expect(Fixture.codes("just text\n") == [102])
        #expect(Fixture.codes("") == [101])
    }

    @Test func secondDocumentIs102() {
        #expect(Fixture.codes(Fixture.weather + "---\nname: other\n") == [102])
    }
}
