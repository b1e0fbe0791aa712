/// A JSON value: parameters, defaults and enum choices, as plugins and
/// clients send them. Integers and other numbers are kept apart so that an
/// `integer` parameter can be told from a `number`.
public enum JSONValue: Sendable, Hashable, Codable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int.self) {
            self = .int(value)
        } else if let value = try? container.decode(Double.self) {
            self = .double(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .int(let value): try container.encode(value)
        case .double(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }

    /// The JSON type name, as parameter schemas and messages use it.
    public var typeName: String {
        switch self {
        case .null: "null"
        case .bool: "boolean"
        case .int: "integer"
        case .double: "number"
        case .string: "string"
        case .array: "array"
        case .object: "object"
        }
    }

    /// The value as a Double, for integers and other numbers.
    public var numberValue: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }
}

extension JSONValue {
    /// The JSON value a YAML node stands for, with YAML's core-schema
    /// resolution of plain scalars (null, booleans, integers, floats).
    public init(yaml node: YAMLNode) {
        switch node.kind {
        case .scalar(let text, quoted: true):
            self = .string(text)
        case .scalar(let text, quoted: false):
            if node.isNull {
                self = .null
            } else if ["true", "True", "TRUE"].contains(text) {
                self = .bool(true)
            } else if ["false", "False", "FALSE"].contains(text) {
                self = .bool(false)
            } else if let value = Int(text) {
                self = .int(value)
            } else if let value = Double(text), value.isFinite, text.first != "." || text.count > 1 {
                self = .double(value)
            } else {
                self = .string(text)
            }
        case .sequence(let items):
            self = .array(items.map(JSONValue.init(yaml:)))
        case .mapping(let pairs):
            var object: [String: JSONValue] = [:]
            for (key, value) in pairs {
                if case .scalar(let name, _) = key.kind { object[name] = JSONValue(yaml: value) }
            }
            self = .object(object)
        }
    }
}

extension JSONValue {
    /// An object with `members` added (replacing any of the same name); anything but an object is returned as it is.
    public func merging(_ members: [String: JSONValue]) -> JSONValue {
        guard case .object(var object) = self else { return self }
        object.merge(members) { _, new in new }
        return .object(object)
    }
}
