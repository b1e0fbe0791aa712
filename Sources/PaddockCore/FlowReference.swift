/// A reference in a flow, written `{{input.title}}`, `{{nodes.<id>.output.<field>}}`
/// or `{{variables.<name>}}`, followed by a path into the value: `.field`,
/// `[0]` or `.0` (an index into an array).
public struct FlowReference: Hashable, Sendable, CustomStringConvertible {
    public enum Root: Hashable, Sendable {
        /// The run's input.
        case input
        /// A node's output.
        case node(String)
        /// A variable.
        case variable(String)
    }

    public enum Step: Hashable, Sendable {
        case key(String)
        case index(Int)
    }

    public var root: Root
    public var path: [Step]

    /// The most steps a reference may take into a value.
    static let maximumDepth = 32

    /// Reads the text between `{{` and `}}`.
    /// - Throws: 102 (no field) describing what is wrong.
    public init(parsing text: Substring) throws(PaddockError) {
        var trimmed = text
        while trimmed.first == " " { trimmed.removeFirst() }
        while trimmed.last == " " { trimmed.removeLast() }
        let steps = try Self.steps(trimmed)
        let shown = String(text.prefix(80)).escapingControlCharacters()
        guard case .key(let first)? = steps.first else {
            throw PaddockError(.wrongFormat, "'{{\(shown)}}' must start with input, nodes.<id>.output or variables.<name>")
        }
        switch first {
        case "input":
            root = .input
            path = Array(steps.dropFirst())
        case "nodes":
            guard steps.count >= 3, case .key(let node) = steps[1], steps[2] == .key("output") else {
                throw PaddockError(.wrongFormat, "'{{\(shown)}}' must read nodes.<id>.output, then the fields wanted")
            }
            root = .node(node)
            path = Array(steps.dropFirst(3))
        case "variables":
            guard steps.count >= 2, case .key(let name) = steps[1] else {
                throw PaddockError(.wrongFormat, "'{{\(shown)}}' must name a variable: variables.<name>")
            }
            root = .variable(name)
            path = Array(steps.dropFirst(2))
        default:
            throw PaddockError(.wrongFormat, "'{{\(shown)}}' must start with input, nodes.<id>.output or variables.<name>")
        }
        guard path.count <= Self.maximumDepth else {
            throw PaddockError(.wrongFormat, "'{{\(shown)}}' goes deeper than \(Self.maximumDepth) steps")
        }
    }

    /// `a.b[0].c` (or `a.b.0.c`) as steps; names are letters, digits, `_` and `-`.
    private static func steps(_ text: Substring) throws(PaddockError) -> [Step] {
        var steps: [Step] = []
        let shown = String(text.prefix(80)).escapingControlCharacters()
        for part in text.split(separator: ".", omittingEmptySubsequences: false) {
            var rest = part[...]
            let nameEnd = rest.firstIndex(of: "[") ?? rest.endIndex
            let name = rest[..<nameEnd]
            guard !name.isEmpty || (nameEnd != rest.endIndex && !steps.isEmpty) else {
                throw PaddockError(.wrongFormat, "'{{\(shown)}}' has an empty step")
            }
            if !name.isEmpty {
                guard name.allSatisfy({ $0.isASCIILetter || $0.isASCIIDigit || $0 == "_" || $0 == "-" }), name.utf8.count <= 64 else {
                    throw PaddockError(.wrongFormat, "'{{\(shown)}}': a step is 1–64 letters, digits, '_' and '-'")
                }
                steps.append(name.allSatisfy(\.isASCIIDigit) && steps.count > 0 ? .index(Int(name) ?? Int.max) : .key(String(name)))
            }
            rest = rest[nameEnd...]
            while rest.first == "[" {
                guard let close = rest.firstIndex(of: "]"), let index = Int(rest[rest.index(after: rest.startIndex)..<close]), index >= 0 else {
                    throw PaddockError(.wrongFormat, "'{{\(shown)}}': an index is [n], n from 0")
                }
                steps.append(.index(index))
                rest = rest[rest.index(after: close)...]
            }
            guard rest.isEmpty else { throw PaddockError(.wrongFormat, "'{{\(shown)}}': unexpected '\(rest.prefix(16))'") }
        }
        return steps
    }

    /// The value at the path within `value`; nil where the path leads nowhere.
    public func follow(_ value: JSONValue) -> JSONValue? {
        var current = value
        for step in path {
            switch (step, current) {
            case (.key(let key), .object(let members)):
                guard let next = members[key] else { return nil }
                current = next
            case (.index(let index), .array(let items)):
                guard index < items.count else { return nil }
                current = items[index]
            default:
                return nil
            }
        }
        return current
    }

    public var description: String {
        var text =
            switch root {
            case .input: "input"
            case .node(let id): "nodes.\(id).output"
            case .variable(let name): "variables.\(name)"
            }
        for step in path {
            switch step {
            case .key(let key): text += "." + key
            case .index(let index): text += "[\(index)]"
            }
        }
        return text
    }

    /// The first key of the path: the output field a reference to a node reads.
    public var firstKey: String? {
        if case .key(let key)? = path.first { key } else { nil }
    }
}
