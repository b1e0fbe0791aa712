/// A flow: a small graph of nodes (tool calls, model calls, endpoint calls,
/// conditions) whose inputs reference the run's input, earlier nodes'
/// outputs and variables (``FlowTemplate``). Read from JSON (or YAML read
/// as JSON) and checked for what needs no plugin: names, shapes, references
/// to nodes and variables that exist, and no cycle. docs/flows.md has the format.
public struct FlowDefinition: Sendable {
    public static let maximumNodes = 64
    /// The largest definition stored, as JSON.
    public static let largestDefinition = 256 << 10
    /// The flow's deadline when it declares none, in seconds.
    public static let defaultDeadline = 60.0
    /// The longest deadline a flow or a node may declare, in seconds.
    public static let maximumDeadline = 3600.0

    public var id: String
    public var description: String?
    /// Variables as the run starts (they may reference the input).
    public var variables: [String: FlowTemplate]
    /// In an order where each node comes after the nodes it depends on.
    public var nodes: [FlowNode]
    public var output: FlowTemplate
    /// Seconds the whole run may take.
    public var deadline: Double
    /// The definition as it was given.
    public var source: JSONValue

    /// Reads and checks a definition.
    /// - Parameter id: the flow's id where it is stored; a definition naming another is refused.
    /// - Throws: 101/102 with the field (`nodes.<id>.input.text`) and, for a
    ///   node's problem, `details.node`: unknown keys, bad names, malformed
    ///   references, references to nodes or variables that do not exist, a
    ///   variable set by two nodes, and cycles.
    public init(_ source: JSONValue, id: String) throws(PaddockError) {
        guard case .object(let fields) = source else { throw PaddockError(.wrongFormat, "a flow is an object with nodes") }
        try Self.checkKeys(fields, known: ["id", "description", "variables", "nodes", "output", "deadline"], at: nil, node: nil)
        try Self.checkName(id, field: "id", node: nil)
        if let given = fields["id"], given != .string(id) {
            throw PaddockError(.wrongFormat, "the definition's id must be the flow's id '\(id)'", field: "id")
        }
        self.id = id
        self.source = source
        description = fields["description"]?.stringValue
        deadline = try Self.seconds(fields["deadline"], field: "deadline", node: nil) ?? Self.defaultDeadline

        var variables: [String: FlowTemplate] = [:]
        if let given = fields["variables"] {
            guard case .object(let members) = given else {
                throw PaddockError(.wrongFormat, "variables is an object of names and values", field: "variables")
            }
            for (name, value) in members {
                try Self.checkName(name, field: "variables." + name, node: nil)
                variables[name] = try FlowTemplate(value, field: "variables." + name)
            }
        }
        for (name, template) in variables {
            if let (field, reference) = template.references.first(where: { $0.reference.root != .input }) {
                throw PaddockError(
                    .wrongFormat, "the variable '\(name)' may reference only the input as the run starts, not \(reference)", field: field)
            }
        }
        self.variables = variables

        guard let list = fields["nodes"]?.arrayValue else {
            throw PaddockError(.configurationMissing, "nodes (a list of at least one node) is required", field: "nodes")
        }
        guard (1...Self.maximumNodes).contains(list.count) else {
            throw PaddockError(.wrongFormat, "a flow has 1 to \(Self.maximumNodes) nodes, not \(list.count)", field: "nodes")
        }
        var nodes: [FlowNode] = []
        for (index, value) in list.enumerated() {
            let node = try FlowNode(value, index: index)
            if nodes.contains(where: { $0.id == node.id }) {
                throw PaddockError(.wrongFormat, "two nodes are named '\(node.id)'", field: "nodes.\(node.id).id", details: ["node": node.id])
            }
            nodes.append(node)
        }
        output = try FlowTemplate(fields["output"] ?? [:], field: "output")
        self.nodes = try Self.ordered(try Self.linked(nodes, variables: Set(variables.keys), output: output))
    }

    /// Every reference of the flow with where it is and the node it belongs to (nil: the flow's output).
    public var references: [(node: String?, field: String, reference: FlowReference)] {
        var all = output.references.map { (node: String?.none, field: $0.field, reference: $0.reference) }
        for node in nodes {
            for template in node.templates { all += template.references.map { (node.id, $0.field, $0.reference) } }
        }
        return all
    }

    /// The nodes with their dependencies: the nodes they reference, and the
    /// node that sets each variable they read.
    private static func linked(_ nodes: [FlowNode], variables: Set<String>, output: FlowTemplate) throws(PaddockError) -> [FlowNode] {
        let ids = Set(nodes.map(\.id))
        var setters: [String: String] = [:]
        for node in nodes {
            for name in node.sets.keys.sorted() {
                if variables.contains(name) || setters[name] != nil {
                    let other = setters[name].map { "node '\($0)'" } ?? "the flow's variables"
                    throw PaddockError(
                        .wrongFormat, "node '\(node.id)' sets the variable '\(name)', which \(other) sets already: a variable has one setter",
                        field: "nodes.\(node.id).set.\(name)", details: ["node": node.id])
                }
                setters[name] = node.id
            }
        }
        func dependency(_ reference: FlowReference, field: String, of owner: String?) throws(PaddockError) -> String? {
            let who = owner.map { "node '\($0)'" } ?? "the output"
            let details = owner.map { ["node": $0] } ?? [:]
            switch reference.root {
            case .input:
                return nil
            case .node(let id):
                guard ids.contains(id) else {
                    throw PaddockError(
                        .wrongFormat, "\(who) references \(reference), but the flow has no node '\(id)'", field: field, details: details)
                }
                return id
            case .variable(let name):
                if let setter = setters[name] { return setter }
                guard variables.contains(name) else {
                    throw PaddockError(
                        .wrongFormat, "\(who) references \(reference), but no variable '\(name)' is declared or set by a node", field: field,
                        details: details)
                }
                return nil
            }
        }
        for (field, reference) in output.references { _ = try dependency(reference, field: field, of: nil) }
        var linked = nodes
        for index in linked.indices {
            for template in linked[index].templates {
                for (field, reference) in template.references {
                    guard let id = try dependency(reference, field: field, of: linked[index].id) else { continue }
                    // What a node sets may read its own output: that is no dependency.
                    if id == linked[index].id, field.hasPrefix("nodes.\(id).set.") { continue }
                    linked[index].dependencies.insert(id)
                }
            }
        }
        return linked
    }

    /// The nodes in dependency order.
    /// - Throws: 102 naming a node on a cycle, and the cycle.
    private static func ordered(_ nodes: [FlowNode]) throws(PaddockError) -> [FlowNode] {
        var placed: Set<String> = []
        var order: [FlowNode] = []
        while order.count < nodes.count {
            let ready = nodes.filter { !placed.contains($0.id) && $0.dependencies.isSubset(of: placed) }
            guard !ready.isEmpty else {
                let cycle = Self.cycle(nodes.filter { !placed.contains($0.id) })
                throw PaddockError(
                    .wrongFormat, "node '\(cycle[0])' is on a cycle: \(cycle.joined(separator: " → ")); a flow has none",
                    field: "nodes.\(cycle[0])", details: ["node": cycle[0], "cycle": cycle.joined(separator: ",")])
            }
            order += ready
            placed.formUnion(ready.map(\.id))
        }
        return order
    }

    /// A cycle among `left` (nodes that each wait on one of them): follow
    /// dependencies within `left` until a node comes round again.
    private static func cycle(_ left: [FlowNode]) -> [String] {
        let byID = Dictionary(left.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        var path: [String] = []
        var current = left[0].id
        while !path.contains(current) {
            path.append(current)
            current = byID[current]?.dependencies.filter { byID[$0] != nil }.sorted().first ?? current
        }
        return Array(path[path.firstIndex(of: current)!...]) + [current]
    }

    static func checkKeys(_ fields: [String: JSONValue], known: Set<String>, at prefix: String?, node: String?) throws(PaddockError) {
        if let unknown = fields.keys.sorted().first(where: { !known.contains($0) }) {
            let shown = String(unknown.prefix(64)).escapingControlCharacters()
            let field = (prefix.map { $0 + "." } ?? "") + shown
            throw PaddockError(
                .wrongFormat, "unknown field '\(shown)'\(node.map { " in node '\($0)'" } ?? ""); known: \(known.sorted().joined(separator: ", "))",
                field: field, details: node.map { ["node": $0] } ?? [:])
        }
    }

    /// Flow, node and variable names: 1 to 64 of letters, digits, `_` and `-`.
    static func checkName(_ name: String, field: String, node: String?) throws(PaddockError) {
        guard (1...64).contains(name.utf8.count), name.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == "-" }) else {
            let shown = String(name.prefix(64)).escapingControlCharacters()
            throw PaddockError(
                .wrongFormat, "'\(shown)' is not a name: 1 to 64 of letters, digits, '_' and '-'", field: field,
                details: node.map { ["node": $0] } ?? [:])
        }
    }

    /// A number of seconds above 0 and at most ``maximumDeadline``, or nil when absent.
    static func seconds(_ value: JSONValue?, field: String, node: String?) throws(PaddockError) -> Double? {
        guard let value, value != .null else { return nil }
        guard let seconds = value.numberValue, seconds > 0, seconds <= maximumDeadline else {
            throw PaddockError(
                .wrongFormat, "\(node.map { "node '\($0)': " } ?? "")\(field) is a number of seconds above 0 and at most \(Int(maximumDeadline))", field: field,
                details: node.map { ["node": $0] } ?? [:])
        }
        return seconds
    }
}

extension FlowDefinition {
    /// A definition's text as JSON: JSON when it is JSON, else YAML.
    /// - Throws: 202 when it is neither.
    public static func document(_ bytes: [UInt8]) throws(PaddockError) -> JSONValue {
        if let first = bytes.first(where: { ![0x20, 0x0A, 0x0D, 0x09].contains($0) }), first == UInt8(ascii: "{") {
            return try JSONValue(parsing: bytes)
        }
        let node: YAMLNode?
        do throws(PaddockError) {
            node = try YAMLParser(maximumBytes: 1 << 20).parse(bytes)
        } catch {
            throw PaddockError(.unparsableData, "the flow is neither JSON nor YAML: \(error.message)")
        }
        guard let node else { throw PaddockError(.unparsableData, "the flow is empty") }
        return JSONValue(yaml: node)
    }
}
