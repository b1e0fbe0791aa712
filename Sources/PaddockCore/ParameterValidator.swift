/// Checks the arguments of a call against the parameters a manifest declares,
/// before the plugin sees them.
public struct ParameterValidator: Sendable {
    /// What validation found: the arguments with defaults filled in, and
    /// every violation with its path (`city`, `tags[2]`, `address.zip`).
    public struct Outcome: Sendable {
        public var arguments: [String: JSONValue]
        /// 101 for a missing required value, 102 for a wrong type or a value
        /// outside its enum, range or pattern.
        public var violations: [PaddockError]

        public var isValid: Bool { violations.isEmpty }
    }

    public let parameters: [ParameterSchema]

    public init(parameters: [ParameterSchema]) {
        self.parameters = parameters
    }

    /// Validates a call's arguments, which must be a JSON object. Members
    /// that no parameter declares are passed through unchanged.
    public func validate(_ arguments: JSONValue) -> Outcome {
        var violations: [PaddockError] = []
        guard case .object(let members) = arguments else {
            violations.append(
                PaddockError(.wrongFormat, "arguments must be a JSON object, found \(arguments.typeName)")
            )
            return Outcome(arguments: [:], violations: violations)
        }
        let filled = Self.check(members, against: parameters, path: "", into: &violations)
        return Outcome(arguments: filled, violations: violations)
    }

    /// Checks one value against one schema; returns what is wrong.
    static func check(_ value: JSONValue, against schema: ParameterSchema, path: String) -> [PaddockError] {
        var violations: [PaddockError] = []
        check(value, against: schema, path: path, into: &violations)
        return violations
    }

    /// Checks one value against one schema, appending what is wrong.
    static func check(_ value: JSONValue, against schema: ParameterSchema, path: String, into violations: inout [PaddockError]) {
        func fail(_ message: String) {
            violations.append(PaddockError(.wrongFormat, message, field: path))
        }
        guard conforms(value, to: schema.type) else {
            fail("'\(path)' must be \(article(schema.type.rawValue)), found \(value.typeName)")
            return
        }
        if let choices = schema.choices, !choices.contains(where: { equal($0, value) }) {
            fail("'\(path)' must be one of \(choices.map(render).joined(separator: ", "))")
        }
        let measure: (Double, String)? =
            switch value {
            case .string(let text): (Double(text.count), "length")
            case .array(let elements): (Double(elements.count), "number of elements")
            default: value.numberValue.map { ($0, "value") }
            }
        if let (amount, what) = measure {
            if let min = schema.min, amount < min { fail("'\(path)' \(what) must be at least \(render(min))") }
            if let max = schema.max, amount > max { fail("'\(path)' \(what) must be at most \(render(max))") }
        }
        if let pattern = schema.pattern, case .string(let text) = value {
            if let regex = try? Regex(pattern), (try? regex.wholeMatch(in: text)) ?? nil == nil {
                fail("'\(path)' must match the pattern \(pattern)")
            }
        }
        switch value {
        case .array(let elements):
            if let itemSchema = schema.items {
                for (index, element) in elements.enumerated() {
                    check(element, against: itemSchema, path: "\(path)[\(index)]", into: &violations)
                }
            }
        case .object(let members) where schema.type == .object:
            if let properties = schema.properties {
                _ = check(members, against: properties, path: path, into: &violations)
            }
        default:
            break
        }
    }

    /// Checks an object's members against named parameters; returns the
    /// members with defaults filled in.
    static func check(
        _ members: [String: JSONValue],
        against parameters: [ParameterSchema],
        path: String,
        into violations: inout [PaddockError]
    ) -> [String: JSONValue] {
        var filled = members
        for parameter in parameters {
            let memberPath = path.isEmpty ? parameter.name : "\(path).\(parameter.name)"
            guard let value = members[parameter.name], value != .null else {
                if let fallback = parameter.default {
                    filled[parameter.name] = fallback
                } else if parameter.required {
                    violations.append(
                        PaddockError(.configurationMissing, "required parameter '\(memberPath)' is missing", field: memberPath)
                    )
                }
                continue
            }
            check(value, against: parameter, path: memberPath, into: &violations)
        }
        return filled
    }

    private static func conforms(_ value: JSONValue, to type: ParameterSchema.Kind) -> Bool {
        switch (type, value) {
        case (.string, .string), (.boolean, .bool), (.array, .array), (.object, .object),
            (.number, .int), (.number, .double), (.integer, .int):
            return true
        case (.integer, .double(let number)):
            return number.rounded() == number
        case (.file, .string(let id)):
            // A tenant's uploaded file, by id: the host hands the plugin its description.
            return id.hasPrefix("file-")
        case (.file, .object(let members)):
            let source = members["data"] ?? members["url"]
            if case .string = source, members["name"].map({ if case .string = $0 { true } else { false } }) ?? true {
                return true
            }
            return false
        default:
            return false
        }
    }

    /// JSON equality where 1 and 1.0 are the same number.
    private static func equal(_ a: JSONValue, _ b: JSONValue) -> Bool {
        if let x = a.numberValue, let y = b.numberValue { return x == y }
        return a == b
    }

    private static func render(_ value: JSONValue) -> String {
        switch value {
        case .string(let text): "'\(text)'"
        case .int(let number): String(number)
        case .double(let number): render(number)
        case .bool(let flag): String(flag)
        case .null: "null"
        case .array, .object: value.typeName
        }
    }

    private static func render(_ number: Double) -> String {
        number.rounded() == number && abs(number) < 1e15 ? String(Int(number)) : String(number)
    }

    private static func article(_ word: String) -> String {
        (["a", "e", "i", "o", "u"].contains(word.prefix(1)) ? "an " : "a ") + word
    }
}
