/// A manifest as JSON, in the shape of its `Codable` form: the same keys
/// (`cpu_seconds`, `cache_ttl`, `model_type`, `enum`), sizes in bytes,
/// versions as text, and optional fields left out when absent. paddockd's
/// `plugin` control method answers with it; the gateway reads tools, cache
/// TTLs and endpoint methods from it.
extension Manifest {
    public var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "author": .string(author), "version": .string(version.description),
            "type": .string(type.rawValue), "label": label.jsonValue, "description": description.jsonValue,
            "runner": runner.jsonValue, "resource": resource.jsonValue, "permission": permission.jsonValue,
            "settings": .array(settings.map(\.jsonValue)), "tools": .array(tools.map { $0.jsonValue(\.jsonValue) }),
            "models": .array(models.map { $0.jsonValue(\.jsonValue) }),
            "endpoints": .array(endpoints.map { $0.jsonValue(\.jsonValue) }), "format": .string(format.rawValue),
        ]
        object["icon"] = icon.map(JSONValue.string)
        return .object(object)
    }
}

extension JSONValue {
    /// A Double as JSONEncoder writes it: a whole number without a fraction,
    /// so it reads back as an integer.
    static func number(_ value: Double) -> JSONValue {
        value.rounded() == value && abs(value) < 1e15 ? .int(Int(value)) : .double(value)
    }
}

extension [String: JSONValue] {
    /// Adds `label` and `description`, each when present.
    mutating func describe(_ label: LocalizedText?, _ description: LocalizedText?) {
        self["label"] = label?.jsonValue
        self["description"] = description?.jsonValue
    }
}

extension LocalizedText {
    var jsonValue: JSONValue { .object(translations.mapValues(JSONValue.string)) }
}

extension Runner {
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["language": .string(language.rawValue), "entrypoint": .string(entrypoint)]
        object["version"] = version.map { .string($0.description) }
        return .object(object)
    }
}

extension Resource {
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["workers": .int(workers)]
        object["memory"] = memory.map { .int($0.bytes) }
        object["cpu_seconds"] = cpuSeconds.map(JSONValue.int)
        object["cpu"] = cpu.map(JSONValue.number)
        object["disk"] = disk.map { .int($0.bytes) }
        object["disk_files"] = diskFiles.map(JSONValue.int)
        return .object(object)
    }
}

extension Permission {
    var jsonValue: JSONValue {
        [
            "tools": .bool(tools), "llms": .bool(llms), "flows": .bool(flows), "apps": .string(apps.rawValue), "storage": .int(storage.bytes),
            "network": .bool(network), "endpoints": .array(endpoints.map { .string($0.rawValue) }),
        ]
    }
}

extension Setting {
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = [
            "name": .string(name), "type": .string(type.rawValue), "required": .bool(required), "scope": .string(scope.rawValue),
        ]
        object["default"] = self.default
        object.describe(label, description)
        object["options"] = options.map { .array($0.map(JSONValue.string)) }
        return .object(object)
    }
}

extension ParameterSchema {
    var jsonValue: JSONValue {
        var object: [String: JSONValue] = ["name": .string(name), "type": .string(type.rawValue), "required": .bool(required)]
        object["default"] = self.default
        object["enum"] = choices.map(JSONValue.array)
        object["min"] = min.map(JSONValue.number)
        object["max"] = max.map(JSONValue.number)
        object["pattern"] = pattern.map(JSONValue.string)
        object.describe(label, description)
        object["items"] = items?.jsonValue
        object["properties"] = properties.map { .array($0.map(\.jsonValue)) }
        return .object(object)
    }
}

extension Provider {
    /// The provider with each item as `item` writes it.
    func jsonValue(_ item: (Item) -> JSONValue) -> JSONValue {
        var object: [String: JSONValue] = ["provider": .string(provider), "items": .array(items.map(item))]
        object.describe(label, description)
        return .object(object)
    }
}

extension ToolItem {
    var jsonValue: JSONValue {
        var members: [String: JSONValue] = ["name": .string(name)]
        members["cache_ttl"] = cacheTTL.map(JSONValue.int)
        members["output"] = output.map { .object($0.mapValues { .string($0.rawValue) }) }
        return .item(members, label: label, description: description, parameters: parameters, source: source)
    }
}

extension EndpointItem {
    var jsonValue: JSONValue {
        .item(
            ["path": .string(path), "method": .string(method.rawValue)], label: nil, description: description,
            parameters: parameters, source: source)
    }
}

extension ModelItem {
    var jsonValue: JSONValue {
        .item(
            ["name": .string(name), "model_type": .string(modelType.rawValue)], label: label, description: description,
            parameters: parameters, source: source)
    }
}

extension JSONValue {
    /// A tool, endpoint or model: its own `members`, then what all three have.
    static func item(
        _ members: [String: JSONValue], label: LocalizedText?, description: LocalizedText?, parameters: [ParameterSchema],
        source: String?
    ) -> JSONValue {
        var object = members
        object["parameters"] = .array(parameters.map(\.jsonValue))
        object.describe(label, description)
        object["source"] = source.map(JSONValue.string)
        return .object(object)
    }
}
