/// One step of a ``FlowDefinition``.
public struct FlowNode: Sendable {
    public enum Kind: Sendable, Equatable {
        /// `tool: {plugin, name}`; the input is the tool's parameters; the output its result.
        case tool(plugin: String, name: String)
        /// `model: {plugin, name}`; the input is `{messages}` or `{prompt, system?}`,
        /// with `params`; the output is the model's result (`content`, `finish_reason`, `usage`).
        case model(plugin: String, name: String)
        /// `endpoint: {plugin, path, method?}`; the input is `{query?, headers?, body?}`;
        /// the output `{status, headers, body}` (a JSON body parsed).
        case endpoint(plugin: String, method: HTTPMethod, path: String)
        /// `condition: {value, <test>: operand}`; the output is `{result}`.
        case condition(FlowCondition.Test)

        /// The plugin a call goes to; nil for a condition.
        public var plugin: String? {
            switch self {
            case .tool(let plugin, _), .model(let plugin, _), .endpoint(let plugin, _, _): plugin
            case .condition: nil
            }
        }

        public var name: String {
            switch self {
            case .tool: "tool"
            case .model: "model"
            case .endpoint: "endpoint"
            case .condition: "condition"
            }
        }

        /// The output fields a node of this kind has, when the kind fixes them.
        public var outputFields: Set<String>? {
            switch self {
            case .tool: nil
            case .model: ["content", "finish_reason", "usage"]
            case .endpoint: ["status", "headers", "body"]
            case .condition: ["result", "value"]
            }
        }
    }

    public var id: String
    public var kind: Kind
    /// What the call gets (for a condition: `{value, operand}`).
    public var input: FlowTemplate
    /// Run only when this is true (``FlowCondition/isTrue(_:)``); else the node is skipped.
    public var when: FlowTemplate?
    /// Seconds the node may take; nil: until the flow's deadline.
    public var deadline: Double?
    /// The output the node has when it fails, instead of failing the flow.
    public var fallback: FlowTemplate?
    /// Variables set from the node's output once it is done.
    public var sets: [String: FlowTemplate]
    /// The nodes this one waits for.
    public var dependencies: Set<String> = []

    var templates: [FlowTemplate] {
        [input] + [when, fallback].compactMap { $0 } + sets.keys.sorted().compactMap { sets[$0] }
    }

    /// Reads the node at `index` of the list.
    init(_ value: JSONValue, index: Int) throws(PaddockError) {
        guard case .object(let fields) = value else {
            throw PaddockError(.wrongFormat, "a node is an object with an id and one of tool, model, endpoint, condition", field: "nodes[\(index)]")
        }
        guard let id = fields["id"]?.stringValue else {
            throw PaddockError(.configurationMissing, "node \(index + 1) has no id", field: "nodes[\(index)].id")
        }
        try FlowDefinition.checkName(id, field: "nodes[\(index)].id", node: nil)
        self.id = id
        let at = "nodes.\(id)"
        let details = ["node": id]
        try FlowDefinition.checkKeys(
            fields, known: ["id", "description", "tool", "model", "endpoint", "condition", "input", "when", "deadline", "fallback", "set"], at: at,
            node: id)
        let kinds = ["tool", "model", "endpoint", "condition"].filter { fields[$0] != nil }
        guard kinds.count == 1 else {
            throw PaddockError(
                .wrongFormat, "node '\(id)' must have exactly one of tool, model, endpoint, condition (it has \(kinds.isEmpty ? "none" : kinds.joined(separator: ", ")))",
                field: at, details: details)
        }
        let kindField = at + "." + kinds[0]
        var input = fields["input"] ?? [:]
        switch kinds[0] {
        case "tool", "model":
            let (plugin, name) = try Self.target(fields[kinds[0]]!, field: kindField, node: id, keys: ["plugin", "name"])
            kind = kinds[0] == "tool" ? .tool(plugin: plugin, name: name) : .model(plugin: plugin, name: name)
            if kinds[0] == "model" { try Self.checkModelInput(input, field: at + ".input", node: id) }
        case "endpoint":
            let target = fields["endpoint"]!
            let (plugin, path) = try Self.target(target, field: kindField, node: id, keys: ["plugin", "path", "method"], second: "path")
            guard path.hasPrefix("/") else {
                throw PaddockError(.wrongFormat, "node '\(id)': an endpoint path starts with '/'", field: kindField + ".path", details: details)
            }
            let methodName = target["method"]?.stringValue ?? "POST"
            guard let method = HTTPMethod(rawValue: methodName.uppercased()) else {
                throw PaddockError(.wrongFormat, "node '\(id)': no HTTP method '\(methodName.prefix(16))'", field: kindField + ".method", details: details)
            }
            kind = .endpoint(plugin: plugin, method: method, path: path)
            if case .object(let members) = input {
                try FlowDefinition.checkKeys(members, known: ["query", "headers", "body"], at: at + ".input", node: id)
            }
        default:
            guard case .object(let members) = fields["condition"]! else {
                throw PaddockError(.wrongFormat, "node '\(id)': a condition is {value, <test>: operand}", field: kindField, details: details)
            }
            let test = try FlowCondition.Test(members, field: kindField, node: id)
            kind = .condition(test)
            input = ["value": members["value"] ?? .null, "operand": members[test.rawValue] ?? .null]
        }
        guard case .object = input else {
            throw PaddockError(.wrongFormat, "node '\(id)': input is an object", field: at + ".input", details: details)
        }
        self.input = try Self.template(input, field: at + ".input", node: id)
        when = try fields["when"].map { value throws(PaddockError) in try Self.template(value, field: at + ".when", node: id) }
        fallback = try fields["fallback"].map { value throws(PaddockError) in try Self.template(value, field: at + ".fallback", node: id) }
        deadline = try FlowDefinition.seconds(fields["deadline"], field: at + ".deadline", node: id)
        var sets: [String: FlowTemplate] = [:]
        if let given = fields["set"] {
            guard case .object(let members) = given else {
                throw PaddockError(.wrongFormat, "node '\(id)': set is an object of variable names and values", field: at + ".set", details: details)
            }
            for (name, value) in members {
                try FlowDefinition.checkName(name, field: at + ".set." + name, node: id)
                sets[name] = try Self.template(value, field: at + ".set." + name, node: id)
            }
        }
        self.sets = sets
    }

    private static func template(_ value: JSONValue, field: String, node: String) throws(PaddockError) -> FlowTemplate {
        do throws(PaddockError) {
            return try FlowTemplate(value, field: field)
        } catch {
            var named = error
            if named.field == nil { named.field = field }
            named.details["node"] = node
            named.message = "node '\(node)': " + named.message
            throw named
        }
    }

    /// `{plugin, name}` (or `{plugin, path}`): both names, no other key but `keys`.
    private static func target(
        _ value: JSONValue, field: String, node: String, keys: Set<String>, second: String = "name"
    ) throws(PaddockError) -> (String, String) {
        guard case .object(let members) = value, let plugin = members["plugin"]?.stringValue, let name = members[second]?.stringValue,
            !plugin.isEmpty, !name.isEmpty
        else {
            throw PaddockError(.wrongFormat, "node '\(node)': \(field.split(separator: ".").last!) is {plugin, \(second)}", field: field, details: ["node": node])
        }
        try FlowDefinition.checkKeys(members, known: keys, at: field, node: node)
        return (plugin, name)
    }

    private static func checkModelInput(_ input: JSONValue, field: String, node: String) throws(PaddockError) {
        guard case .object(let members) = input else { return }
        try FlowDefinition.checkKeys(members, known: ["messages", "prompt", "system", "params"], at: field, node: node)
        guard (members["messages"] == nil) != (members["prompt"] == nil) else {
            throw PaddockError(.wrongFormat, "node '\(node)': a model's input has messages or a prompt (one of them)", field: field, details: ["node": node])
        }
    }
}
