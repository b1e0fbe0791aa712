/// Reads typed values out of a ``YAMLNode`` tree.
///
/// Unlike a `Swift.Decoder` it does not stop at the first problem: every
/// problem is recorded in a shared ``YAMLDiagnostics`` with its field path
/// (`permission.storage`, `endpoints[0].items[1].method`) and its line and
/// column, and decoding carries on, so a manifest's author sees them all at
/// once.
public struct YAMLDecoder {
    public let node: YAMLNode
    /// Where ``node`` is, kept as a chain and rendered only when a problem
    /// needs it: formatting every path up front was most of decoding's cost.
    private let location: FieldLocation?
    public let diagnostics: YAMLDiagnostics

    public init(node: YAMLNode, diagnostics: YAMLDiagnostics) {
        self.init(node: node, location: nil, diagnostics: diagnostics)
    }

    private init(node: YAMLNode, location: FieldLocation?, diagnostics: YAMLDiagnostics) {
        self.node = node
        self.location = location
        self.diagnostics = diagnostics
    }

    /// The field path of ``node`` from the document root (`endpoints[0].items[1].method`); empty at the root.
    public var path: String { location?.rendered ?? "" }

    /// The same position with a diagnostics of its own, for reading a value
    /// again without reporting its problems twice.
    public var quiet: YAMLDecoder {
        YAMLDecoder(node: node, location: location, diagnostics: YAMLDiagnostics())
    }

    // MARK: Problems

    /// Records a problem about this node.
    public func problem(_ code: PaddockError.Code, _ message: String) {
        diagnostics.record(error(code, message))
    }

    /// Records a warning about this node: reported, but not a failure.
    public func warning(_ message: String) {
        diagnostics.warn(error(.wrongFormat, message))
    }

    private func error(_ code: PaddockError.Code, _ message: String) -> PaddockError {
        PaddockError(
            code,
            message,
            field: path.isEmpty ? nil : path,
            details: ["line": String(node.line), "column": String(node.column)]
        )
    }

    // MARK: Mappings

    /// Checks that this node is a mapping with unique scalar keys; warns about
    /// keys outside `known` (most often typos), or accepts any key when
    /// `known` is nil.
    /// - Returns: false (after recording a 102) when the node is not a mapping.
    @discardableResult
    public func expectMapping(known: Set<String>?) -> Bool {
        guard case .mapping(let pairs) = node.kind else {
            problem(.wrongFormat, "expected a mapping, found \(node.kindName)")
            return false
        }
        var seen: Set<String> = []
        for (key, _) in pairs {
            guard case .scalar(let name, _) = key.kind else {
                YAMLDecoder(node: key, location: location, diagnostics: diagnostics)
                    .problem(.wrongFormat, "mapping keys must be plain strings, found \(key.kindName)")
                continue
            }
            let child = YAMLDecoder(node: key, location: .key(name, parent: location), diagnostics: diagnostics)
            if !seen.insert(name).inserted {
                child.problem(.wrongFormat, "duplicate key '\(name)'")
            } else if let known, !known.contains(name) {
                child.warning("unknown key '\(name)' is ignored")
            }
        }
        return true
    }

    /// The value under `key`, or nil when it is absent or null.
    public func optional(_ key: String) -> YAMLDecoder? {
        guard case .mapping(let pairs) = node.kind else { return nil }
        for (keyNode, value) in pairs {
            if case .scalar(key, _) = keyNode.kind {
                return value.isNull
                    ? nil : YAMLDecoder(node: value, location: .key(key, parent: location), diagnostics: diagnostics)
            }
        }
        return nil
    }

    /// The value under `key`; records a 101 naming the field when it is absent or null.
    public func required(_ key: String) -> YAMLDecoder? {
        if let value = optional(key) { return value }
        if case .mapping = node.kind {
            let field = joined(key)
            diagnostics.record(
                PaddockError(
                    .configurationMissing,
                    "required field '\(field)' is missing",
                    field: field,
                    details: ["line": String(node.line), "column": String(node.column)]
                )
            )
        }
        return nil
    }

    /// True when the mapping has `key`, even with a null value.
    public func contains(_ key: String) -> Bool {
        guard case .mapping(let pairs) = node.kind else { return false }
        return pairs.contains { if case .scalar(key, _) = $0.key.kind { true } else { false } }
    }

    private func joined(_ key: String) -> String {
        FieldLocation.key(key, parent: location).rendered
    }

    // MARK: Sequences

    /// The elements of a sequence; records a 102 and returns nil for anything else.
    public var items: [YAMLDecoder]? {
        guard case .sequence(let nodes) = node.kind else {
            problem(.wrongFormat, "expected a list, found \(node.kindName)")
            return nil
        }
        return nodes.enumerated().map { index, item in
            YAMLDecoder(node: item, location: .index(index, parent: location), diagnostics: diagnostics)
        }
    }

    /// The elements of a sequence, or none for anything else, without
    /// recording a problem: for rules that run after decoding.
    public var elements: [YAMLDecoder] {
        guard case .sequence(let nodes) = node.kind else { return [] }
        return nodes.enumerated().map { index, item in
            YAMLDecoder(node: item, location: .index(index, parent: location), diagnostics: diagnostics)
        }
    }

    /// The text of a scalar, or nil for anything else, without recording a problem.
    public var text: String? {
        if case .scalar(let text, _) = node.kind { text } else { nil }
    }

    /// Decodes every element; elements with problems are left out (their
    /// problems are recorded).
    public func list<T: YAMLDecodable>(of type: T.Type) -> [T]? {
        items?.compactMap { T(from: $0) }
    }

    // MARK: Scalars

    /// The scalar's text; records a 102 for a list or mapping.
    public var string: String? {
        guard case .scalar(let text, _) = node.kind else {
            problem(.wrongFormat, "expected a string, found \(node.kindName)")
            return nil
        }
        return text
    }

    /// A YAML boolean (`true`/`false` in any common capitalisation).
    public var bool: Bool? {
        switch node.kind {
        case .scalar(let text, quoted: false) where ["true", "True", "TRUE"].contains(text): return true
        case .scalar(let text, quoted: false) where ["false", "False", "FALSE"].contains(text): return false
        default:
            problem(.wrongFormat, "expected true or false, found \(describe())")
            return nil
        }
    }

    /// A whole number written without quotes.
    public var int: Int? {
        if case .scalar(let text, quoted: false) = node.kind, let value = Int(text) { return value }
        problem(.wrongFormat, "expected a whole number, found \(describe())")
        return nil
    }

    /// A number written without quotes.
    public var double: Double? {
        if case .scalar(let text, quoted: false) = node.kind, let value = Double(text), value.isFinite {
            return value
        }
        problem(.wrongFormat, "expected a number, found \(describe())")
        return nil
    }

    /// One of the raw values of `T`; records a 102 listing the choices otherwise.
    public func oneOf<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> T? where T.RawValue == String {
        guard case .scalar(let text, _) = node.kind else {
            problem(.wrongFormat, "expected one of \(choices(T.self)), found \(node.kindName)")
            return nil
        }
        if let value = T(rawValue: text) { return value }
        problem(.wrongFormat, "'\(text)' is not one of \(choices(T.self))")
        return nil
    }

    /// Decodes a value of a ``YAMLDecodable`` type.
    public func decode<T: YAMLDecodable>(_ type: T.Type) -> T? {
        T(from: self)
    }

    private func choices<T: RawRepresentable & CaseIterable>(_ type: T.Type) -> String where T.RawValue == String {
        T.allCases.map { $0.rawValue }.joined(separator: ", ")
    }

    /// The node as a short quoted excerpt, for messages.
    public func describe() -> String {
        guard case .scalar(let text, _) = node.kind else { return node.kindName }
        let excerpt = text.count > 40 ? text.prefix(40) + "…" : Substring(text)
        return "'\(excerpt)'"
    }
}

/// A position in a document: a key of a mapping or an index of a list.
private indirect enum FieldLocation {
    case key(String, parent: FieldLocation?)
    case index(Int, parent: FieldLocation?)

    var rendered: String {
        switch self {
        case .key(let key, let parent):
            guard let parent else { return key }
            return parent.rendered + "." + key
        case .index(let index, let parent):
            return (parent?.rendered ?? "") + "[" + String(index) + "]"
        }
    }
}

/// A value that can be read from YAML, recording its problems rather than throwing.
public protocol YAMLDecodable {
    /// Reads the value; returns nil when a problem (already recorded) prevents it.
    init?(from yaml: YAMLDecoder)
}

/// The problems found while decoding one document. Used by one thread at a time.
public final class YAMLDiagnostics {
    public private(set) var errors: [PaddockError] = []
    public private(set) var warnings: [PaddockError] = []

    public init() {}

    public func record(_ error: PaddockError) { errors.append(error) }
    public func warn(_ warning: PaddockError) { warnings.append(warning) }

    /// True when an error was recorded for `field` or for a field inside it.
    public func hasError(at field: String) -> Bool {
        errors.contains { error in
            guard let path = error.field else { return false }
            return path == field || path.hasPrefix(field + ".") || path.hasPrefix(field + "[")
        }
    }
}

/// A value written as one YAML scalar and parsed from its text (sizes, versions).
public protocol TextParsable: YAMLDecodable {
    init(parsing text: String) throws(PaddockError)
}

extension TextParsable {
    public init?(from yaml: YAMLDecoder) {
        guard let text = yaml.string else { return nil }
        do {
            try self.init(parsing: text)
        } catch {
            yaml.problem(error.code, error.message)
            return nil
        }
    }
}
