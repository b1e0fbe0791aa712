import Foundation
import PaddockCore
import Testing

/// Dify plugins read into Paddock's manifest model: what the host validates
/// and grants comes from the plugin's own yaml files, and what Dify never
/// enforces (memory, network) Paddock does.
@Suite struct DifyManifestTests {
    static let manifest = """
        version: 0.0.7
        type: plugin
        author: langgenius
        name: json_process
        label: {en_US: JSON Process, zh_Hans: JSON 处理}
        description: {en_US: Tools for JSON}
        icon: icon.svg
        resource:
          memory: 1048576
          permission:
            tool: {enabled: true}
            model: {enabled: true, llm: true}
            storage: {enabled: true, size: 4096}
        plugins:
          tools:
            - provider/json_process.yaml
        meta:
          version: 0.0.1
          arch: [amd64, arm64]
          runner: {language: python, version: "3.12", entrypoint: main}
        created_at: 2024-09-20T08:03:44.658609186Z
        """

    static let provider = """
        identity:
          author: someone
          name: json_process
          label: {en_US: JSON Process}
          description: {en_US: Tools for JSON}
          icon: icon.svg
        credentials_for_provider:
          api_key:
            type: secret-input
            required: true
            label: {en_US: API key}
          region:
            type: select
            default: eu
            options:
              - {value: eu, label: {en_US: Europe}}
              - {value: us, label: {en_US: America}}
        tools:
          - tools/parse.yaml
        extra:
          python:
            source: provider/json_process.py
        """

    static let tool = """
        identity:
          name: parse
          author: someone
          label: {en_US: JSON Parse, zh_Hans: JSON 解析}
        description:
          human: {en_US: Extracts JSON}
          llm: Extracts JSON
        parameters:
          - name: content
            type: string
            required: true
            label: {en_US: JSON data}
            human_description: {en_US: the JSON}
            form: llm
          - name: depth
            type: number
            required: false
            default: "2"
            min: 1
            max: 5
            form: form
          - name: ensure_ascii
            type: boolean
            default: true
            form: form
          - name: mode
            type: select
            default: strict
            options:
              - {value: strict, label: {en_US: Strict}}
              - {value: loose, label: {en_US: Loose}}
            form: form
          - name: token
            type: secret-input
            form: form
          - name: attachment
            type: file
            form: llm
        extra:
          python:
            source: tools/parse.py
        """

    static let endpointManifest = """
        version: 0.0.7
        type: plugin
        author: langgenius
        name: wecom-bot
        label: {en_US: WeCom Bot}
        description: {en_US: Receive callbacks}
        icon: icon.png
        resource:
          memory: 268435456
          permission:
            endpoint: {enabled: true}
            app: {enabled: true}
        plugins:
          endpoints:
            - group/wecom.yaml
        meta:
          version: 0.0.1
          runner: {language: python, version: "3.12", entrypoint: main}
        """

    static let group = """
        settings:
          - name: token
            type: text-input
            required: true
            label: {en_US: Token}
          - name: encoding_aes_key
            type: secret-input
            required: true
            label: {en_US: Key}
        endpoints:
          - endpoints/verify.yaml
          - endpoints/message.yaml
          - endpoints/item.yaml
        """

    /// Writes a Dify plugin folder and reads it.
    static func load(_ files: [String: String]) throws -> ManifestReport {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paddock-dify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in files {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        return ManifestLoader().load(directory: directory.path)
    }

    static var toolPlugin: [String: String] {
        ["manifest.yaml": manifest, "provider/json_process.yaml": provider, "tools/parse.yaml": tool]
    }

    static var endpointPlugin: [String: String] {
        [
            "manifest.yaml": endpointManifest, "group/wecom.yaml": group,
            "endpoints/verify.yaml": "path: \"/\"\nmethod: \"GET\"\nextra: {python: {source: endpoints/verify.py}}\n",
            "endpoints/message.yaml": "path: /\nmethod: post\n",
            "endpoints/item.yaml": "path: /items/<item_id>\nmethod: GET\n",
        ]
    }

    @Test func aToolPluginKeepsItsNamesAndGetsPaddocksLimits() throws {
        let report = try Self.load(Self.toolPlugin)
        #expect(report.errors.isEmpty, "\(report.errors)")
        #expect(report.format == .dify)
        let manifest = try #require(report.manifest)
        #expect(manifest.format == .dify)
        #expect(manifest.name == "json_process")
        #expect(manifest.version == SemanticVersion(0, 0, 7))
        #expect(manifest.type == .tool)
        #expect(manifest.label.text(for: "zh_Hans") == "JSON 处理")
        #expect(manifest.runner == Runner(language: .python, version: RuntimeVersion([3, 12]), entrypoint: "main"))
        // 1 MiB declared, never enforced by Dify: raised to the documented floor.
        #expect(manifest.resource.memory == ByteSize(bytes: 512 << 20))
        #expect(manifest.permission.tools && manifest.permission.llms)
        #expect(manifest.permission.storage == ByteSize(bytes: 4096))
        #expect(!manifest.permission.network)
        #expect(manifest.permission.endpoints.isEmpty)
        #expect(manifest.tools.map(\.provider) == ["json_process"])
        #expect(manifest.tools[0].items.map(\.name) == ["parse"])
    }

    @Test func toolParametersBecomeTheSchemaTheHostChecks() throws {
        let manifest = try #require(try Self.load(Self.toolPlugin).manifest)
        let parameters = manifest.tools[0].items[0].parameters
        #expect(parameters.map(\.name) == ["content", "depth", "ensure_ascii", "mode", "token", "attachment"])
        #expect(parameters.map(\.type) == [.string, .number, .boolean, .string, .string, .object])
        #expect(parameters[0].required && !parameters[1].required)
        #expect(parameters[0].description?.text() == "the JSON")
        #expect(parameters[1].default == .double(2) && parameters[1].min == 1 && parameters[1].max == 5)
        #expect(parameters[2].default == .bool(true))
        #expect(parameters[3].choices == [.string("strict"), .string("loose")])
        let validator = ParameterValidator(parameters: parameters)
        #expect(validator.validate(["content": "{}"]).violations.isEmpty)
        #expect(validator.validate(["depth": 3]).violations.map(\.code) == [.configurationMissing])
        #expect(validator.validate(["content": "{}", "depth": 9]).violations.map(\.code) == [.wrongFormat])
        #expect(validator.validate(["content": "{}", "mode": "other"]).violations.map(\.code) == [.wrongFormat])
        #expect(validator.validate(["content": "{}", "ensure_ascii": "yes"]).violations.map(\.code) == [.wrongFormat])
    }

    @Test func credentialsBecomeSettingsWithSecretsSecret() throws {
        let manifest = try #require(try Self.load(Self.toolPlugin).manifest)
        #expect(manifest.settings.map(\.name) == ["api_key", "region"])
        #expect(manifest.settings[0].type == .secret)
        #expect(manifest.settings[1].type == .select && manifest.settings[1].options == ["eu", "us"])
        #expect(manifest.settings[1].default == .string("eu"))
        // Dify runs a plugin before its credentials are entered: the host never refuses to start it for them.
        #expect(manifest.settings.allSatisfy { !$0.required })
        // Each workspace brings its own credentials in Dify: each tenant may here.
        #expect(manifest.settings.allSatisfy { $0.scope == .tenant })
    }

    @Test func anEndpointPluginIsAnExtensionServingItsMethods() throws {
        let report = try Self.load(Self.endpointPlugin)
        #expect(report.errors.isEmpty, "\(report.errors)")
        let manifest = try #require(report.manifest)
        #expect(manifest.name == "wecom-bot")
        #expect(manifest.type == .extension_)
        #expect(manifest.resource.memory == ByteSize(bytes: 512 << 20))
        #expect(manifest.permission.endpoints == [.GET, .POST])
        #expect(manifest.permission.apps == .write)
        #expect(manifest.settings.map(\.name) == ["token", "encoding_aes_key"])
        #expect(manifest.settings.map(\.type) == [.string, .secret])
        let items = manifest.endpoints.flatMap(\.items)
        #expect(items.map { "\($0.method.rawValue) \($0.path)" } == ["GET /", "POST /", "GET /items/<item_id>"])
        #expect(items[2].matches("/items/42") && !items[2].matches("/items") && !items[2].matches("/items/4/2"))
        #expect(items[0].matches("/") && !items[0].matches("/x"))
        #expect(EndpointItem(path: "/files/<path:rest>", method: .GET).matches("/files/a/b"))
        #expect(!EndpointItem(path: "/n/<int:id>", method: .GET).matches("/n/x1"))
    }

    @Test func aLargerDeclaredMemoryIsKept() throws {
        var files = Self.endpointPlugin
        files["manifest.yaml"] = Self.endpointManifest.replacingOccurrences(of: "268435456", with: "1073741824")
        #expect(try Self.load(files).manifest?.resource.memory == ByteSize(bytes: 1 << 30))
    }

    @Test(arguments: [
        ("name: json_process", "name: JSON/process", "name", 102),
        ("entrypoint: main}", "entrypoint: -c}", "meta.runner.entrypoint", 102),
        ("entrypoint: main}", "entrypoint: main;rm}", "meta.runner.entrypoint", 102),
        ("language: python", "language: go", "meta.runner.language", 105),
        ("provider/json_process.yaml", "provider/missing.yaml", "provider/missing.yaml", 101),
        ("provider/json_process.yaml", "../../etc/passwd", "../../etc/passwd", 102),
        ("memory: 1048576", "memory: lots", "resource.memory", 102),
        ("version: 0.0.7", "version: seven", "version", 102),
    ])
    func problemsAreCodedAndNamed(old: String, new: String, field: String, code: Int) throws {
        var files = Self.toolPlugin
        files["manifest.yaml"] = Self.manifest.replacingOccurrences(of: old, with: new)
        let report = try Self.load(files)
        #expect(report.manifest == nil)
        #expect(report.format == .dify)
        #expect(report.errors.contains { $0.field == field && $0.code.rawValue == code }, "\(report.errors)")
    }

    @Test(arguments: [
        ("tools/parse.yaml", "  name: parse\n", "  name: \"../parse\"\n", "tools/parse.yaml: identity.name"),
        ("tools/parse.yaml", "  - name: content\n", "  - name: \"con tent\"\n", "tools/parse.yaml: parameters[0].name"),
        ("provider/json_process.yaml", "  api_key:\n", "  \"api key\\n\":\n", "provider/json_process.yaml: credentials_for_provider.api key\n"),
    ])
    func namesThatReachURLsLogsAndTheEnvironmentAreChecked(file: String, old: String, new: String, field: String) throws {
        var files = Self.toolPlugin
        files[file] = try #require(files[file]).replacingOccurrences(of: old, with: new)
        let report = try Self.load(files)
        #expect(report.manifest == nil)
        #expect(report.errors.contains { $0.field == field && $0.code == .wrongFormat }, "\(report.errors)")
    }

    @Test func modelPluginsAreRefusedSayingWhy() throws {
        var files = Self.toolPlugin
        files["manifest.yaml"] = Self.manifest.replacingOccurrences(
            of: "  tools:\n    - provider/json_process.yaml", with: "  models:\n    - provider/openai.yaml")
        let report = try Self.load(files)
        #expect(report.errors.map(\.code) == [.dependencyUnavailable])
        #expect(report.errors.first?.field == "plugins.models")
    }

    @Test func aLinkedToolFileIsRefused() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paddock-dify-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        for (name, text) in Self.toolPlugin where name != "tools/parse.yaml" {
            let url = directory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(text.utf8).write(to: url)
        }
        try FileManager.default.createDirectory(at: directory.appendingPathComponent("tools"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: directory.appendingPathComponent("tools/parse.yaml").path, withDestinationPath: "/etc/passwd")
        let report = ManifestLoader().load(directory: directory.path)
        #expect(report.manifest == nil)
        #expect(report.errors.contains { $0.code == .wrongFormat && $0.message.contains("symbolic link") })
        #expect(!report.errors.contains { $0.message.contains("root:") })
    }

    @Test func paddocksOwnFormatIsNamedToo() throws {
        let report = try Self.load(["manifest.yaml": "name: x\n"])
        #expect(report.format == .paddock)
    }
}
