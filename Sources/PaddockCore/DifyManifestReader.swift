import Glibc

/// Reads a Dify plugin — its `manifest.yaml` and the provider, tool and
/// endpoint files it names — into Paddock's ``Manifest``, so that the host
/// checks a Dify plugin's permissions and inputs exactly as it checks its own.
///
/// Names keep Dify's spelling (`json_process`). What Dify never enforces
/// Paddock does: `resource.memory` is raised to ``memoryFloor`` (Dify plugins
/// commonly declare 1 MiB), and network access is not in a Dify manifest at all:
/// only the operator grants it, at install.
struct DifyManifestReader {
    /// The least memory a Dify plugin gets: the SDK (gevent, pydantic) and the
    /// bridge need about 100 MiB before any library of the plugin's own.
    static let memoryFloor = ByteSize(bytes: 512 << 20)
    /// How many calls a Dify plugin serves at once (the SDK runs each in a thread).
    static let workers = 8
    /// What Dify gives `storage` when a manifest enables it without a size.
    static let defaultStorage = ByteSize(bytes: 1 << 20)

    let parser: YAMLParser
    let directory: String?

    /// True for a Dify manifest: `type: plugin`, or `plugins:` without Paddock's `runner:`.
    static func isDify(_ root: YAMLNode) -> Bool {
        let document = JSONValue(yaml: root)
        return document["type"]?.stringValue == "plugin" || (document["plugins"] != nil && document["runner"] == nil)
    }

    /// The manifest, or every problem found, each naming its file and field.
    func read(_ root: YAMLNode) -> ManifestReport {
        var problems = DifyProblems()
        let manifest = read(JSONValue(yaml: root), into: &problems)
        return ManifestReport(
            manifest: problems.errors.isEmpty ? manifest : nil, errors: problems.errors, warnings: problems.warnings, format: .dify)
    }

    private func read(_ document: JSONValue, into problems: inout DifyProblems) -> Manifest {
        let name = problems.text(document, "name") ?? ""
        if !name.isEmpty, name.utf8.count > 128 || !name.utf8.allSatisfy(Self.isNameByte) {
            problems.error(.wrongFormat, "name '\(name)' must be 1–128 characters of a-z, 0-9, '_' and '-'", field: "name")
        }
        let version = problems.text(document, "version").flatMap { text in
            problems.attempt(field: "version") { () throws(PaddockError) in try SemanticVersion(parsing: text) }
        }
        let runner = readRunner(document["meta"]?["runner"], into: &problems)
        let plugins = document["plugins"] ?? .object([:])
        var manifest = Manifest(
            name: name, author: document["author"]?.stringValue ?? "", version: version ?? SemanticVersion(0, 0, 0), type: .tool,
            label: DifyText.localized(document["label"]) ?? LocalizedText(name),
            description: DifyText.localized(document["description"]) ?? LocalizedText(""),
            icon: document["icon"]?.stringValue, runner: runner)
        manifest.format = .dify
        for path in files(plugins, "tools", into: &problems) {
            guard let provider = load(path, into: &problems) else { continue }
            manifest.tools.append(readToolProvider(provider, file: path, into: &problems, settings: &manifest.settings))
        }
        for path in files(plugins, "endpoints", into: &problems) {
            guard let group = load(path, into: &problems) else { continue }
            manifest.endpoints.append(readEndpointGroup(group, file: path, into: &problems, settings: &manifest.settings))
        }
        for key in ["models", "agent_strategies", "datasources", "triggers"] where !(plugins[key]?.arrayValue ?? []).isEmpty {
            problems.error(.dependencyUnavailable, "Dify \(key.split(separator: "_").joined(separator: " ")) plugins are not served by Paddock yet", field: "plugins.\(key)")
        }
        manifest.type = manifest.tools.isEmpty && !manifest.endpoints.isEmpty ? .extension_ : .tool
        if manifest.tools.isEmpty && manifest.endpoints.isEmpty && problems.errors.isEmpty {
            problems.error(.configurationMissing, "the plugin declares no tools and no endpoints", field: "plugins")
        }
        manifest.resource = readResource(document["resource"], into: &problems)
        manifest.permission = readPermission(document["resource"]?["permission"], endpoints: manifest.endpoints)
        checkUnique(manifest, into: &problems)
        return manifest
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (0x61...0x7a).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2d || byte == 0x5f
    }

    private func readRunner(_ runner: JSONValue?, into problems: inout DifyProblems) -> Runner {
        guard let runner else {
            problems.error(.configurationMissing, "meta.runner is required", field: "meta.runner")
            return Runner(language: .python, entrypoint: "main")
        }
        if let language = runner["language"]?.stringValue, language != "python" {
            problems.error(.dependencyUnavailable, "Dify plugins in '\(language)' are not supported; only python", field: "meta.runner.language")
        }
        let entrypoint = problems.text(runner, "entrypoint", prefix: "meta.runner.") ?? "main"
        // `python -m <entrypoint>`: a dotted module name, never an option.
        let isModule = entrypoint.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
            guard let first = part.utf8.first, !(0x30...0x39).contains(first) else { return false }
            return part.utf8.allSatisfy { $0 == 0x5f || (0x30...0x39).contains($0) || (0x41...0x5a).contains($0) || (0x61...0x7a).contains($0) }
        }
        if !isModule {
            problems.error(.wrongFormat, "entrypoint '\(entrypoint)' must be a Python module name (like main)", field: "meta.runner.entrypoint")
        }
        let version: RuntimeVersion? = runner["version"].flatMap(DifyText.scalar).flatMap { text in
            problems.attempt(field: "meta.runner.version") { () throws(PaddockError) in try RuntimeVersion(parsing: text) }
        }
        return Runner(language: .python, version: version, entrypoint: entrypoint)
    }

    private func readResource(_ resource: JSONValue?, into problems: inout DifyProblems) -> Resource {
        var memory = Self.memoryFloor
        if let declared = resource?["memory"] {
            guard case .int(let bytes) = declared, bytes > 0 else {
                problems.error(.wrongFormat, "resource.memory must be a positive number of bytes", field: "resource.memory")
                return Resource(memory: memory, workers: Self.workers)
            }
            memory = ByteSize(bytes: max(bytes, memory.bytes))
        }
        return Resource(memory: memory, workers: Self.workers)
    }

    /// Dify's `resource.permission` in Paddock's terms. `endpoint` grants the
    /// methods the plugin's endpoints declare; `app` is invoking apps (write).
    private func readPermission(_ permission: JSONValue?, endpoints: [Provider<EndpointItem>]) -> Permission {
        func enabled(_ key: String) -> Bool { permission?[key]?["enabled"] == .bool(true) }
        var granted = Permission()
        granted.tools = enabled("tool")
        granted.llms = enabled("model")
        granted.apps = enabled("app") ? .write : .none
        if enabled("storage") {
            if case .int(let size)? = permission?["storage"]?["size"], size > 0 {
                granted.storage = ByteSize(bytes: size)
            } else {
                granted.storage = Self.defaultStorage
            }
        }
        if enabled("endpoint") {
            var methods: [HTTPMethod] = []
            for item in endpoints.flatMap(\.items) where !methods.contains(item.method) { methods.append(item.method) }
            granted.endpoints = methods
        }
        return granted
    }

    /// The files a `plugins:` section names.
    private func files(_ plugins: JSONValue, _ key: String, into problems: inout DifyProblems) -> [String] {
        guard let value = plugins[key] else { return [] }
        guard let items = value.arrayValue else {
            problems.error(.wrongFormat, "plugins.\(key) must be a list of files", field: "plugins.\(key)")
            return []
        }
        return items.enumerated().compactMap { index, item in
            guard let path = item.stringValue else {
                problems.error(.wrongFormat, "plugins.\(key)[\(index)] must be a file name", field: "plugins.\(key)[\(index)]")
                return nil
            }
            return path
        }
    }

    /// A YAML file of the plugin, as JSON; nil (with a problem) when it is missing or unreadable.
    private func load(_ path: String, into problems: inout DifyProblems) -> JSONValue? {
        guard let directory else {
            problems.error(.configurationMissing, "a Dify manifest is read with its folder: \(path) is needed", field: path)
            return nil
        }
        do {
            guard let fd = try FileSystem.openInside(directory, path) else {
                problems.error(.configurationMissing, "'\(path)' does not exist in the plugin directory", field: path)
                return nil
            }
            defer { close(fd) }
            let bytes = try FileSystem.read(descriptor: fd, limit: parser.maximumBytes + 1, name: path)
            guard let node = try parser.parse(bytes) else {
                problems.error(.configurationMissing, "'\(path)' is empty", field: path)
                return nil
            }
            return JSONValue(yaml: node)
        } catch {
            problems.error(error.code, "\(path): \(error.message)", field: path)
            return nil
        }
    }

    private func readToolProvider(
        _ provider: JSONValue, file: String, into problems: inout DifyProblems, settings: inout [Setting]
    ) -> Provider<ToolItem> {
        let identity = provider["identity"] ?? .object([:])
        let name = problems.text(identity, "name", prefix: "\(file): identity.") ?? file
        _ = problems.identifier(name, extra: "_.-", field: "\(file): identity.name")
        for (settingName, schema) in DifyParameters.credentials(provider["credentials_for_provider"])
        where problems.identifier(settingName, extra: "_.-", field: "\(file): credentials_for_provider.\(settingName)")
            && !settings.contains(where: { $0.name == settingName })
        {
            settings.append(DifyParameters.setting(named: settingName, schema))
        }
        var items: [ToolItem] = []
        for path in files(provider, "tools", into: &problems) {
            guard let tool = load(path, into: &problems) else { continue }
            let identity = tool["identity"] ?? .object([:])
            guard let toolName = problems.text(identity, "name", prefix: "\(path): identity."),
                problems.identifier(toolName, extra: "_.-", field: "\(path): identity.name")
            else { continue }
            let parameters = (tool["parameters"]?.arrayValue ?? []).enumerated().compactMap { index, parameter in
                DifyParameters.parameter(parameter, field: "\(path): parameters[\(index)]", into: &problems)
            }
            items.append(ToolItem(
                name: toolName, label: DifyText.localized(identity["label"]),
                description: DifyText.localized(tool["description"]?["human"]) ?? DifyText.localized(tool["description"]),
                parameters: parameters, source: tool["extra"]?["python"]?["source"]?.stringValue))
        }
        return Provider(
            provider: name, label: DifyText.localized(identity["label"]), description: DifyText.localized(identity["description"]), items: items)
    }

    private func readEndpointGroup(
        _ group: JSONValue, file: String, into problems: inout DifyProblems, settings: inout [Setting]
    ) -> Provider<EndpointItem> {
        for (index, setting) in (group["settings"]?.arrayValue ?? []).enumerated() {
            guard let name = problems.text(setting, "name", prefix: "\(file): settings[\(index)]."),
                problems.identifier(name, extra: "_.-", field: "\(file): settings[\(index)].name")
            else { continue }
            if !settings.contains(where: { $0.name == name }) { settings.append(DifyParameters.setting(named: name, setting)) }
        }
        var items: [EndpointItem] = []
        for path in files(group, "endpoints", into: &problems) {
            guard let endpoint = load(path, into: &problems), let route = problems.text(endpoint, "path", prefix: "\(path): ") else { continue }
            guard route.hasPrefix("/"), !route.contains(where: { $0.isWhitespace || $0 == "?" || $0 == "#" || $0.asciiValue.map { $0 < 0x20 } ?? false }) else {
                problems.error(.wrongFormat, "endpoint path '\(route)' must start with '/' and hold no spaces, '?' or '#'", field: "\(path): path")
                continue
            }
            let methodText = problems.text(endpoint, "method", prefix: "\(path): ") ?? "GET"
            guard let method = HTTPMethod(rawValue: methodText.uppercased()) else {
                problems.error(.wrongFormat, "'\(methodText)' is not an HTTP method", field: "\(path): method")
                continue
            }
            items.append(EndpointItem(path: route, method: method, source: endpoint["extra"]?["python"]?["source"]?.stringValue))
        }
        var name = String(file.split(separator: "/").last ?? Substring(file))
        if name.hasSuffix(".yaml") { name.removeLast(5) }
        return Provider(provider: name, items: items)
    }

    private func checkUnique(_ manifest: Manifest, into problems: inout DifyProblems) {
        var tools: Set<String> = []
        for tool in manifest.tools.flatMap(\.items) where !tools.insert(tool.name).inserted {
            problems.error(.wrongFormat, "tool '\(tool.name)' is declared by more than one provider", field: "plugins.tools")
        }
        var routes: Set<String> = []
        for endpoint in manifest.endpoints.flatMap(\.items) where !routes.insert("\(endpoint.method) \(endpoint.path)").inserted {
            problems.error(.wrongFormat, "endpoint \(endpoint.method.rawValue) \(endpoint.path) is declared twice", field: "plugins.endpoints")
        }
    }
}

/// The errors and warnings found while reading a Dify plugin.
struct DifyProblems {
    var errors: [PaddockError] = []
    var warnings: [PaddockError] = []

    mutating func error(_ code: PaddockError.Code, _ message: String, field: String) {
        errors.append(PaddockError(code, message, field: field))
    }

    mutating func warn(_ message: String, field: String) {
        warnings.append(PaddockError(.wrongFormat, message, field: field))
    }

    /// A required text (a string, or a number written plainly) of `object`.
    mutating func text(_ object: JSONValue, _ key: String, prefix: String = "") -> String? {
        guard let value = object[key], !(value == .null) else {
            error(.configurationMissing, "\(prefix)\(key) is required", field: prefix + key)
            return nil
        }
        guard let text = DifyText.scalar(value), !text.isEmpty else {
            error(.wrongFormat, "\(prefix)\(key) must be a text", field: prefix + key)
            return nil
        }
        return text
    }

    /// Whether `name` is 1–64 letters, digits and `extra`, as Paddock's own
    /// names are (they reach URLs, logs and the plugin's environment); a problem when not.
    mutating func identifier(_ name: String, extra: String, field: String) -> Bool {
        guard ManifestValidator.isIdentifier(name, extra: extra), name.utf8.count <= 64 else {
            error(.wrongFormat, "'\(name)' must be 1–64 characters of letters, digits and \(extra.map { "'\($0)'" }.joined(separator: ", "))", field: field)
            return false
        }
        return true
    }

    /// The value `parse` gives, or nil with its error recorded under `field`.
    mutating func attempt<T>(field: String, _ parse: () throws(PaddockError) -> T) -> T? {
        do {
            return try parse()
        } catch {
            errors.append(PaddockError(error.code, error.message, field: field))
            return nil
        }
    }
}

/// Dify's texts: i18n maps and plain scalars.
enum DifyText {
    /// A scalar as text (`version: 0.1` is read as a number by YAML).
    static func scalar(_ value: JSONValue) -> String? {
        switch value {
        case .string(let text): text
        case .int(let number): String(number)
        case .double(let number): String(number)
        default: nil
        }
    }

    /// An i18n map (`en_US`, `zh_Hans`, ...) or a plain text.
    static func localized(_ value: JSONValue?) -> LocalizedText? {
        switch value {
        case .string(let text)?: return LocalizedText(text)
        case .object(let members)?:
            let translations = members.compactMapValues(\.stringValue)
            return translations.isEmpty ? nil : LocalizedText(translations)
        default: return nil
        }
    }
}
