/// A JSON value of a flow whose strings may hold ``FlowReference``s. A
/// string that is one whole reference (`"{{nodes.count.output.words}}"`)
/// becomes the referenced value with its JSON type; references within text
/// are written into it (strings as they are, null as nothing, anything else
/// as JSON).
public struct FlowTemplate: Sendable {
    public let value: JSONValue
    /// Every reference in the value, with the field path it is at (`input.text`).
    public let references: [(field: String, reference: FlowReference)]

    /// Reads the references of `value`; `field` names where it is.
    /// - Throws: 102 naming the field of a malformed reference.
    public init(_ value: JSONValue, field: String) throws(PaddockError) {
        self.value = value
        var found: [(String, FlowReference)] = []
        try Self.collect(value, field: field, into: &found)
        references = found
    }

    private static func collect(_ value: JSONValue, field: String, into found: inout [(String, FlowReference)]) throws(PaddockError) {
        switch value {
        case .string(let text):
            for part in try parts(text) {
                if case .reference(let reference) = part { found.append((field, reference)) }
            }
        case .array(let items):
            for (index, item) in items.enumerated() { try collect(item, field: "\(field)[\(index)]", into: &found) }
        case .object(let members):
            for (key, member) in members.sorted(by: { $0.key < $1.key }) { try collect(member, field: field + "." + key, into: &found) }
        default:
            break
        }
    }

    enum Part {
        case text(Substring)
        case reference(FlowReference)
    }

    /// A string cut into text and references.
    /// - Throws: 102 for a `{{` with no `}}` or a malformed reference; the field is the caller's to add.
    static func parts(_ text: String) throws(PaddockError) -> [Part] {
        var parts: [Part] = []
        var rest = text[...]
        while let open = rest.firstRange(of: "{{") {
            if open.lowerBound > rest.startIndex { parts.append(.text(rest[..<open.lowerBound])) }
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw PaddockError(.wrongFormat, "'{{' without '}}' in '\(String(text.prefix(80)).escapingControlCharacters())'")
            }
            parts.append(.reference(try FlowReference(parsing: rest[open.upperBound..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty { parts.append(.text(rest)) }
        return parts
    }

    /// The value with every reference replaced by what `resolve` gives for it (nil: null).
    public func render(_ resolve: (FlowReference) -> JSONValue?) -> JSONValue {
        Self.render(value, resolve)
    }

    private static func render(_ value: JSONValue, _ resolve: (FlowReference) -> JSONValue?) -> JSONValue {
        switch value {
        case .string(let text):
            // Checked when the template was made.
            guard let parts = try? parts(text) else { return value }
            if parts.count == 1, case .reference(let reference) = parts[0] { return resolve(reference) ?? .null }
            var written = ""
            for part in parts {
                switch part {
                case .text(let text): written += text
                case .reference(let reference):
                    switch resolve(reference) ?? .null {
                    case .string(let string): written += string
                    case .null: break
                    case let other: written += other.jsonText
                    }
                }
            }
            return .string(written)
        case .array(let items):
            return .array(items.map { render($0, resolve) })
        case .object(let members):
            return .object(members.mapValues { render($0, resolve) })
        default:
            return value
        }
    }
}
