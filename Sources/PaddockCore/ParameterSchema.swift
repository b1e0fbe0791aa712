/// The declared shape of one tool, endpoint or model parameter. The host
/// checks incoming values against it (``ParameterValidator``) before the
/// plugin sees them.
public final class ParameterSchema: Hashable, Sendable, Codable {
    public let name: String
    public let type: Kind
    public let required: Bool
    public let `default`: JSONValue?
    /// The only values allowed, when given.
    public let choices: [JSONValue]?
    /// The smallest value (numbers), length (strings) or count (arrays).
    public let min: Double?
    /// The largest value (numbers), length (strings) or count (arrays).
    public let max: Double?
    /// A regular expression a string must match in full.
    public let pattern: String?
    public let label: LocalizedText?
    public let description: LocalizedText?
    /// The schema of each element of an array.
    public let items: ParameterSchema?
    /// The schemas of an object's named members.
    public let properties: [ParameterSchema]?

    public init(
        name: String,
        type: Kind,
        required: Bool = false,
        default: JSONValue? = nil,
        choices: [JSONValue]? = nil,
        min: Double? = nil,
        max: Double? = nil,
        pattern: String? = nil,
        label: LocalizedText? = nil,
        description: LocalizedText? = nil,
        items: ParameterSchema? = nil,
        properties: [ParameterSchema]? = nil
    ) {
        self.name = name
        self.type = type
        self.required = required
        self.default = `default`
        self.choices = choices
        self.min = min
        self.max = max
        self.pattern = pattern
        self.label = label
        self.description = description
        self.items = items
        self.properties = properties
    }

    /// The value types a parameter can have. A `file` is an object with a
    /// `name` and either base64 `data` or a `url`.
    public enum Kind: String, CaseIterable, Hashable, Sendable, Codable {
        case string, number, integer, boolean, object, array, file
    }

    enum CodingKeys: String, CodingKey {
        case name, type, required, `default`, min, max, pattern, label, description, items, properties
        case choices = "enum"
    }

    public static func == (lhs: ParameterSchema, rhs: ParameterSchema) -> Bool {
        lhs.name == rhs.name && lhs.type == rhs.type && lhs.required == rhs.required
            && lhs.default == rhs.default && lhs.choices == rhs.choices && lhs.min == rhs.min
            && lhs.max == rhs.max && lhs.pattern == rhs.pattern && lhs.label == rhs.label
            && lhs.description == rhs.description && lhs.items == rhs.items && lhs.properties == rhs.properties
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(name)
        hasher.combine(type)
    }
}
