extension Provider: YAMLDecodable where Item: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard yaml.expectMapping(known: ["provider", "label", "description", "items"]) else { return nil }
        let provider = yaml.required("provider")?.string
        let items = yaml.required("items")?.list(of: Item.self)
        guard let provider, let items else { return nil }
        self.init(
            provider: provider,
            label: yaml.optional("label")?.decode(LocalizedText.self),
            description: yaml.optional("description")?.decode(LocalizedText.self),
            items: items
        )
    }
}

extension ToolItem: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard
            yaml.expectMapping(known: ["name", "label", "description", "parameters", "cache_ttl", "output", "source"])
        else { return nil }
        guard let name = yaml.required("name")?.string else { return nil }
        self.init(
            name: name,
            label: yaml.optional("label")?.decode(LocalizedText.self),
            description: yaml.optional("description")?.decode(LocalizedText.self),
            parameters: yaml.optional("parameters")?.list(of: ParameterSchema.self) ?? [],
            cacheTTL: yaml.optional("cache_ttl")?.int,
            output: yaml.optional("output").flatMap(Self.output),
            source: yaml.optional("source")?.string
        )
    }

    /// `output: {field: type, ...}`, each type one of a parameter's.
    private static func output(_ yaml: YAMLDecoder) -> [String: ParameterSchema.Kind]? {
        guard yaml.expectMapping(known: nil), case .mapping(let pairs) = yaml.node.kind else { return nil }
        var fields: [String: ParameterSchema.Kind] = [:]
        for (key, _) in pairs {
            guard case .scalar(let name, _) = key.kind, let field = yaml.required(name) else { continue }
            if !ManifestValidator.isIdentifier(name, extra: "_-") || name.utf8.count > 64 {
                field.problem(.wrongFormat, "output field '\(name.prefix(64))' must be 1–64 letters, digits, '_' and '-'")
            }
            fields[name] = field.oneOf(ParameterSchema.Kind.self)
        }
        return fields
    }
}

extension EndpointItem: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard yaml.expectMapping(known: ["path", "method", "description", "parameters", "source"]) else {
            return nil
        }
        let path = yaml.required("path")?.string
        let method = yaml.required("method")?.decode(HTTPMethod.self)
        guard let path, let method else { return nil }
        self.init(
            path: path,
            method: method,
            description: yaml.optional("description")?.decode(LocalizedText.self),
            parameters: yaml.optional("parameters")?.list(of: ParameterSchema.self) ?? [],
            source: yaml.optional("source")?.string
        )
    }
}

extension ModelItem: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard
            yaml.expectMapping(known: ["name", "model_type", "label", "description", "parameters", "source"])
        else { return nil }
        let name = yaml.required("name")?.string
        let modelType = yaml.optional("model_type")?.oneOf(ModelType.self) ?? .llm
        guard let name else { return nil }
        self.init(
            name: name,
            modelType: modelType,
            label: yaml.optional("label")?.decode(LocalizedText.self),
            description: yaml.optional("description")?.decode(LocalizedText.self),
            parameters: yaml.optional("parameters")?.list(of: ParameterSchema.self) ?? [],
            source: yaml.optional("source")?.string
        )
    }
}
