/// Dify's form and parameter types in Paddock's terms: tool parameters
/// become ``ParameterSchema``s the host validates calls against, provider
/// credentials and endpoint settings become ``Setting``s.
enum DifyParameters {
    /// A tool parameter, or nil (with a problem recorded) when it has no name.
    static func parameter(_ parameter: JSONValue, field: String, into problems: inout DifyProblems) -> ParameterSchema? {
        guard let name = problems.text(parameter, "name", prefix: "\(field)."),
            problems.identifier(name, extra: "_.-", field: "\(field).name")
        else { return nil }
        let typeName = parameter["type"]?.stringValue ?? "string"
        let kind = kind(of: typeName) ?? {
            problems.warn("Dify parameter type '\(typeName)' is not known; its value is checked as a string", field: "\(field).type")
            return .string
        }()
        let choices = typeName == "select" ? options(parameter["options"]) : nil
        let unchecked = ParameterSchema(name: name, type: kind, choices: choices?.isEmpty == false ? choices : nil)
        var fallback = parameter["default"].flatMap { value in value == .null ? nil : coerced(value, to: kind) }
        if let value = fallback, !ParameterValidator.check(value, against: unchecked, path: name).isEmpty {
            problems.warn("the default of '\(name)' does not fit its type \(typeName) and is left out", field: "\(field).default")
            fallback = nil
        }
        let isNumber = kind == .number
        return ParameterSchema(
            name: name, type: kind, required: parameter["required"] == .bool(true), default: fallback,
            choices: unchecked.choices, min: isNumber ? number(parameter["min"]) : nil, max: isNumber ? number(parameter["max"]) : nil,
            label: DifyText.localized(parameter["label"]),
            description: DifyText.localized(parameter["human_description"]) ?? DifyText.localized(parameter["llm_description"]))
    }

    /// A provider's `credentials_for_provider` (a map by name, or a list of
    /// named entries), in name order.
    static func credentials(_ value: JSONValue?) -> [(String, JSONValue)] {
        switch value {
        case .object(let members)?: return members.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        case .array(let items)?: return items.compactMap { item in item["name"]?.stringValue.map { ($0, item) } }
        default: return []
        }
    }

    /// A credential or endpoint setting. Each tenant may set its own (in
    /// Dify each workspace enters its own credentials; the operator's values
    /// are the defaults). Never required by the host: Dify runs a plugin
    /// before anyone has entered its credentials, and the plugin itself
    /// reports what is missing when it is called.
    static func setting(named name: String, _ schema: JSONValue) -> Setting {
        let typeName = schema["type"]?.stringValue ?? "text-input"
        let kind: Setting.Kind = switch typeName {
        case "secret-input": .secret
        case "select": .select
        case "boolean", "checkbox": .boolean
        case "number": .number
        default: .string
        }
        let choices = kind == .select ? options(schema["options"])?.compactMap(\.stringValue) : nil
        var fallback = schema["default"].flatMap { $0 == .null ? nil : $0 }
        if kind == .string || kind == .secret || kind == .select, let value = fallback, let text = DifyText.scalar(value) {
            fallback = .string(text)
        }
        return Setting(
            name: name, type: kind, required: false, default: fallback, label: DifyText.localized(schema["label"]),
            description: DifyText.localized(schema["help"]) ?? DifyText.localized(schema["placeholder"]),
            options: choices?.isEmpty == false ? choices : nil, scope: .tenant)
    }

    private static func kind(of typeName: String) -> ParameterSchema.Kind? {
        switch typeName {
        case "string", "secret-input", "text-input", "paragraph", "select", "dynamic-select": .string
        case "number": .number
        case "boolean", "checkbox": .boolean
        case "file", "app-selector", "model-selector", "object": .object
        case "files", "array", "array[tools]": .array
        default: nil
        }
    }

    /// The values of a select's `options: [{value, label}]`.
    private static func options(_ value: JSONValue?) -> [JSONValue]? {
        value?.arrayValue?.compactMap { option in option["value"].flatMap(DifyText.scalar).map(JSONValue.string) }
    }

    /// A YAML default in the parameter's type: Dify writes `default: "2"` for numbers too.
    private static func coerced(_ value: JSONValue, to kind: ParameterSchema.Kind) -> JSONValue {
        switch (kind, value) {
        case (.number, .string(let text)): Double(text).map(JSONValue.double) ?? value
        case (.string, _): DifyText.scalar(value).map(JSONValue.string) ?? value
        case (.boolean, .string(let text)) where ["true", "false"].contains(text.lowercased()): .bool(text.lowercased() == "true")
        default: value
        }
    }

    private static func number(_ value: JSONValue?) -> Double? {
        switch value {
        case .int(let number)?: Double(number)
        case .double(let number)?: number
        case .string(let text)?: Double(text)
        default: nil
        }
    }
}
