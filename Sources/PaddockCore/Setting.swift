/// A value an operator or tenant configures for a plugin; checked at activation.
public struct Setting: Hashable, Sendable, Codable {
    public var name: String
    public var type: Kind
    public var required: Bool
    public var `default`: JSONValue?
    public var label: LocalizedText?
    public var description: LocalizedText?
    /// The allowed values of a `select` setting.
    public var options: [String]?
    /// Who may set it: the operator only (the default), or each tenant as well.
    public var scope: Scope

    public init(
        name: String,
        type: Kind = .string,
        required: Bool = false,
        default: JSONValue? = nil,
        label: LocalizedText? = nil,
        description: LocalizedText? = nil,
        options: [String]? = nil,
        scope: Scope = .operator
    ) {
        self.name = name
        self.type = type
        self.required = required
        self.default = `default`
        self.label = label
        self.description = description
        self.options = options
        self.scope = scope
    }

    /// Who may set a setting. A tenant's value applies to that tenant's
    /// calls only; an operator's is every tenant's unless a tenant set its own.
    public enum Scope: String, CaseIterable, Hashable, Sendable, Codable {
        /// The operator alone: tenants cannot set it (104) nor read its value.
        case `operator`
        /// Each tenant may set its own value.
        case tenant
    }

    /// The type of a setting. `secret` is a string that is stored encrypted
    /// and never printed back.
    public enum Kind: String, CaseIterable, Hashable, Sendable, Codable {
        case string
        case secret
        case number
        case integer
        case boolean
        case select
    }
}
