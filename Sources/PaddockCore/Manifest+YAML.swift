extension Manifest: YAMLDecodable {
    static let sectionKeys = ["tools", "models", "endpoints"]

    /// Reads a manifest, recording every problem in `yaml.diagnostics`. Fields
    /// with problems get placeholder values: the manifest is only handed out
    /// by ``ManifestLoader`` when no error was recorded.
    public init(from yaml: YAMLDecoder) {
        yaml.expectMapping(known: [
            "name", "author", "version", "type", "label", "description", "icon", "runner", "resource",
            "permission", "settings", "tools", "models", "endpoints", "created_at", "meta", "tags",
        ])
        let name = yaml.required("name")?.string ?? ""
        self.init(
            name: name,
            author: yaml.required("author")?.string ?? "",
            version: yaml.required("version")?.decode(SemanticVersion.self) ?? SemanticVersion(0, 0, 0),
            type: yaml.required("type")?.oneOf(PluginType.self) ?? .tool,
            label: yaml.optional("label")?.decode(LocalizedText.self) ?? LocalizedText(name),
            description: yaml.required("description")?.decode(LocalizedText.self) ?? LocalizedText(""),
            icon: yaml.optional("icon")?.string,
            runner: yaml.required("runner")?.decode(Runner.self) ?? Runner(language: .python, entrypoint: ""),
            resource: yaml.optional("resource")?.decode(Resource.self) ?? Resource(),
            permission: yaml.optional("permission")?.decode(Permission.self) ?? Permission(),
            settings: yaml.optional("settings")?.list(of: Setting.self) ?? [],
            tools: yaml.optional("tools")?.list(of: Provider<ToolItem>.self) ?? [],
            models: yaml.optional("models")?.list(of: Provider<ModelItem>.self) ?? [],
            endpoints: yaml.optional("endpoints")?.list(of: Provider<EndpointItem>.self) ?? []
        )
    }
}

extension Runner: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard yaml.expectMapping(known: ["language", "version", "entrypoint"]) else { return nil }
        let language = yaml.required("language")?.oneOf(Language.self)
        let version = yaml.optional("version")?.decode(RuntimeVersion.self)
        let entrypoint = yaml.required("entrypoint")?.string
        guard let language, let entrypoint else { return nil }
        self.init(language: language, version: version, entrypoint: entrypoint)
    }
}

extension Resource: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard yaml.expectMapping(known: ["memory", "cpu_seconds", "workers", "cpu", "disk", "disk_files"]) else { return nil }
        self.init(
            memory: yaml.optional("memory")?.decode(ByteSize.self),
            cpuSeconds: yaml.optional("cpu_seconds")?.int,
            workers: yaml.optional("workers")?.int ?? 1,
            cpu: yaml.optional("cpu")?.double,
            disk: yaml.optional("disk")?.decode(ByteSize.self),
            diskFiles: yaml.optional("disk_files")?.int
        )
    }
}

extension Permission: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard yaml.expectMapping(known: ["tools", "llms", "flows", "apps", "storage", "network", "endpoints"]) else {
            return nil
        }
        self.init(
            tools: yaml.optional("tools")?.bool ?? false,
            llms: yaml.optional("llms")?.bool ?? false,
            flows: yaml.optional("flows")?.bool ?? false,
            apps: yaml.optional("apps")?.oneOf(AppAccess.self) ?? .none,
            storage: yaml.optional("storage")?.decode(ByteSize.self) ?? ByteSize(bytes: 0),
            network: yaml.optional("network")?.bool ?? false,
            endpoints: yaml.optional("endpoints")?.list(of: HTTPMethod.self) ?? []
        )
    }
}

extension Setting: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard yaml.expectMapping(known: ["name", "type", "required", "default", "label", "description", "options", "scope"])
        else { return nil }
        let name = yaml.required("name")?.string
        let type = yaml.optional("type")?.oneOf(Kind.self) ?? .string
        guard let name else { return nil }
        self.init(
            name: name,
            type: type,
            required: yaml.optional("required")?.bool ?? false,
            default: yaml.optional("default").map { JSONValue(yaml: $0.node) },
            label: yaml.optional("label")?.decode(LocalizedText.self),
            description: yaml.optional("description")?.decode(LocalizedText.self),
            options: yaml.optional("options")?.items?.compactMap(\.string),
            scope: yaml.optional("scope")?.oneOf(Scope.self) ?? .operator
        )
    }
}
