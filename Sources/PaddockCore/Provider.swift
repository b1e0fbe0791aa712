/// A named group of tools, models or endpoints. A manifest has at most one
/// provider per section.
public struct Provider<Item: Hashable & Sendable & Codable>: Hashable, Sendable, Codable {
    public var provider: String
    public var label: LocalizedText?
    public var description: LocalizedText?
    public var items: [Item]

    public init(provider: String, label: LocalizedText? = nil, description: LocalizedText? = nil, items: [Item]) {
        self.provider = provider
        self.label = label
        self.description = description
        self.items = items
    }
}

/// A tool a plugin offers to callers.
public struct ToolItem: Hashable, Sendable, Codable {
    public var name: String
    public var label: LocalizedText?
    public var description: LocalizedText?
    public var parameters: [ParameterSchema]
    /// Identical calls within this many seconds are answered from a cache.
    public var cacheTTL: Int?
    /// The fields of the tool's result and their types, when the manifest
    /// declares them (`output:`): a flow may reference only these.
    public var output: [String: ParameterSchema.Kind]?
    /// Where the handler lives, relative to the plugin directory.
    public var source: String?

    public init(
        name: String,
        label: LocalizedText? = nil,
        description: LocalizedText? = nil,
        parameters: [ParameterSchema] = [],
        cacheTTL: Int? = nil,
        output: [String: ParameterSchema.Kind]? = nil,
        source: String? = nil
    ) {
        self.name = name
        self.label = label
        self.description = description
        self.parameters = parameters
        self.cacheTTL = cacheTTL
        self.output = output
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case name, label, description, parameters, output, source
        case cacheTTL = "cache_ttl"
    }
}

/// An HTTP endpoint a plugin serves through the gateway.
public struct EndpointItem: Hashable, Sendable, Codable {
    /// The path below the plugin's prefix; starts with `/`.
    public var path: String
    public var method: HTTPMethod
    public var description: LocalizedText?
    public var parameters: [ParameterSchema]
    public var source: String?

    public init(
        path: String,
        method: HTTPMethod,
        description: LocalizedText? = nil,
        parameters: [ParameterSchema] = [],
        source: String? = nil
    ) {
        self.path = path
        self.method = method
        self.description = description
        self.parameters = parameters
        self.source = source
    }
}

/// A model a model plugin serves.
public struct ModelItem: Hashable, Sendable, Codable {
    public var name: String
    public var modelType: ModelType
    public var label: LocalizedText?
    public var description: LocalizedText?
    /// Invocation parameters the model accepts (temperature, max_tokens, ...).
    public var parameters: [ParameterSchema]
    public var source: String?

    public init(
        name: String,
        modelType: ModelType = .llm,
        label: LocalizedText? = nil,
        description: LocalizedText? = nil,
        parameters: [ParameterSchema] = [],
        source: String? = nil
    ) {
        self.name = name
        self.modelType = modelType
        self.label = label
        self.description = description
        self.parameters = parameters
        self.source = source
    }

    enum CodingKeys: String, CodingKey {
        case name, label, description, parameters, source
        case modelType = "model_type"
    }

    /// The kinds of model Dify distinguishes.
    public enum ModelType: String, CaseIterable, Hashable, Sendable, Codable {
        case llm
        case textEmbedding = "text-embedding"
        case rerank
        case speech2text
        case tts
        case moderation
    }
}

extension EndpointItem {
    /// Whether a request path is this endpoint's: equal to ``path``, where a
    /// segment `<name>` (Dify's and werkzeug's variables) stands for any one
    /// segment, `<int:name>` for digits, and `<path:name>` for the rest.
    public func matches(_ requestPath: String) -> Bool {
        guard path.contains("<") else { return path == requestPath }
        let pattern = path.split(separator: "/", omittingEmptySubsequences: false)
        let request = requestPath.split(separator: "/", omittingEmptySubsequences: false)
        for (index, part) in pattern.enumerated() {
            guard part.hasPrefix("<"), part.hasSuffix(">") else {
                guard index < request.count, request[index] == part else { return false }
                continue
            }
            if part.hasPrefix("<path:") { return request.count > index && request[index...].contains { !$0.isEmpty } }
            guard index < request.count, !request[index].isEmpty else { return false }
            if part.hasPrefix("<int:"), !request[index].allSatisfy(\.isASCIIDigit) { return false }
        }
        return pattern.count == request.count
    }
}
