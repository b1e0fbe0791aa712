/// A plugin's `manifest.yaml`: who it is, how it runs, what it may do and
/// what it offers. Decoded by ``ManifestLoader``; see README.md for every field.
public struct Manifest: Hashable, Sendable, Codable {
    /// The plugin's unique id: `[a-z0-9-]`, 1–64 characters.
    public var name: String
    public var author: String
    public var version: SemanticVersion
    public var type: PluginType
    public var label: LocalizedText
    public var description: LocalizedText
    public var icon: String?
    public var runner: Runner
    public var resource: Resource
    public var permission: Permission
    public var settings: [Setting]
    public var tools: [Provider<ToolItem>]
    public var models: [Provider<ModelItem>]
    public var endpoints: [Provider<EndpointItem>]
    /// The format the plugin was written in, which decides how it is run.
    public var format: Format = .paddock

    public init(
        name: String,
        author: String,
        version: SemanticVersion,
        type: PluginType,
        label: LocalizedText,
        description: LocalizedText,
        icon: String? = nil,
        runner: Runner,
        resource: Resource = Resource(),
        permission: Permission = Permission(),
        settings: [Setting] = [],
        tools: [Provider<ToolItem>] = [],
        models: [Provider<ModelItem>] = [],
        endpoints: [Provider<EndpointItem>] = []
    ) {
        self.name = name
        self.author = author
        self.version = version
        self.type = type
        self.label = label
        self.description = description
        self.icon = icon
        self.runner = runner
        self.resource = resource
        self.permission = permission
        self.settings = settings
        self.tools = tools
        self.models = models
        self.endpoints = endpoints
    }
}

extension Manifest {
    /// The plugin formats Paddock reads.
    public enum Format: String, CaseIterable, Hashable, Sendable, Codable {
        /// Paddock's own `manifest.yaml`; the plugin speaks Paddock's protocol.
        case paddock
        /// A Dify plugin (`manifest.yaml` with `plugins:` and `meta.runner`),
        /// run unchanged through the `paddock_dify` bridge.
        case dify
    }
}

/// What kind of plugin a manifest declares.
public enum PluginType: String, CaseIterable, Hashable, Sendable, Codable {
    case tool
    case model
    case extension_ = "extension"
}
