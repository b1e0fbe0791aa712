/// What a plugin may do when it calls back into the host. Everything absent is denied.
public struct Permission: Hashable, Sendable, Codable {
    /// May invoke other plugins' tools.
    public var tools: Bool
    /// May invoke model plugins.
    public var llms: Bool
    /// May run the flows of the tenant it serves a call for.
    public var flows: Bool
    public var apps: AppAccess
    /// The storage quota; zero means no storage.
    public var storage: ByteSize
    /// May open outbound network sockets.
    public var network: Bool
    /// The HTTP methods its endpoints may serve.
    public var endpoints: [HTTPMethod]

    public init(
        tools: Bool = false,
        llms: Bool = false,
        flows: Bool = false,
        apps: AppAccess = .none,
        storage: ByteSize = ByteSize(bytes: 0),
        network: Bool = false,
        endpoints: [HTTPMethod] = []
    ) {
        self.tools = tools
        self.llms = llms
        self.flows = flows
        self.apps = apps
        self.storage = storage
        self.network = network
        self.endpoints = endpoints
    }

    /// Access to the host's apps.
    public enum AppAccess: String, CaseIterable, Hashable, Sendable, Codable {
        case none
        case read
        case write
    }
}

/// An HTTP method an endpoint serves. Manifests may write it in any case.
public enum HTTPMethod: String, CaseIterable, Hashable, Sendable, Codable {
    case GET, POST, PUT, PATCH, DELETE, HEAD, OPTIONS
}

extension HTTPMethod: YAMLDecodable {
    public init?(from yaml: YAMLDecoder) {
        guard let text = yaml.string else { return nil }
        guard let method = HTTPMethod(rawValue: text.uppercased()) else {
            yaml.problem(
                .wrongFormat,
                "'\(text)' is not an HTTP method; use one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))"
            )
            return nil
        }
        self = method
    }
}
