extension ParameterSchema: YAMLDecodable {
    public convenience init?(from yaml: YAMLDecoder) {
        guard
            yaml.expectMapping(known: [
                "name", "type", "required", "default", "enum", "min", "max", "pattern", "label", "description",
                "items", "properties", "form", "human_description", "llm_description",
            ])
        else { return nil }
        let name = yaml.required("name")?.string
        let type = yaml.required("type")?.oneOf(Kind.self)
        guard let name, let type else { return nil }
        self.init(
            name: name,
            type: type,
            required: yaml.optional("required")?.bool ?? false,
            default: yaml.optional("default").map { JSONValue(yaml: $0.node) },
            choices: yaml.optional("enum")?.items?.map { JSONValue(yaml: $0.node) },
            min: yaml.optional("min")?.double,
            max: yaml.optional("max")?.double,
            pattern: yaml.optional("pattern")?.string,
            label: yaml.optional("label")?.decode(LocalizedText.self),
            description: yaml.optional("description")?.decode(LocalizedText.self),
            items: yaml.optional("items")?.decode(ParameterSchema.self),
            properties: yaml.optional("properties")?.list(of: ParameterSchema.self)
        )
        checkConsistency(yaml)
    }
}

extension ParameterSchema {
    /// Checks that the schema is consistent in itself: a pattern that
    /// compiles, min not above max, and a default and choices that the
    /// schema accepts.
    fileprivate func checkConsistency(_ yaml: YAMLDecoder) {
        if let pattern, let field = yaml.optional("pattern") {
            if type != .string {
                field.problem(.wrongFormat, "a pattern applies only to string parameters")
            } else if (try? Regex(pattern)) == nil {
                field.problem(.wrongFormat, "pattern '\(pattern)' is not a valid regular expression")
            }
        }
        if let min, let max, min > max, let field = yaml.optional("max") {
            field.problem(.wrongFormat, "max (\(max)) is below min (\(min))")
        }
        if items != nil, type != .array, let field = yaml.optional("items") {
            field.problem(.wrongFormat, "items applies only to array parameters")
        }
        if properties != nil, type != .object, let field = yaml.optional("properties") {
            field.problem(.wrongFormat, "properties applies only to object parameters")
        }
        if let value = self.default, let field = yaml.optional("default") {
            report(ParameterValidator.check(value, against: self, path: name), at: field, what: "default")
        }
        for (index, choice) in (choices ?? []).enumerated() {
            let field = yaml.optional("enum")?.elements[index] ?? yaml
            let unrestricted = ParameterSchema(name: name, type: type)
            report(ParameterValidator.check(choice, against: unrestricted, path: name), at: field, what: "enum value")
        }
    }

    private func report(_ violations: [PaddockError], at field: YAMLDecoder, what: String) {
        for violation in violations {
            field.problem(.wrongFormat, "\(what) does not fit the parameter: \(violation.message)")
        }
    }
}
