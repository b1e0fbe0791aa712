/// One node of a parsed YAML document, with the place it came from so that
/// problems can name a line and column.
public struct YAMLNode: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A scalar's text. `quoted` is true for single/double-quoted, literal
        /// and folded scalars: their text is a string, never a number, boolean
        /// or null.
        case scalar(String, quoted: Bool)
        case sequence([YAMLNode])
        /// Key/value pairs in document order.
        case mapping([(key: YAMLNode, value: YAMLNode)])

        public static func == (lhs: Kind, rhs: Kind) -> Bool {
            switch (lhs, rhs) {
            case let (.scalar(a, qa), .scalar(b, qb)): a == b && qa == qb
            case let (.sequence(a), .sequence(b)): a == b
            case let (.mapping(a), .mapping(b)):
                a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
            default: false
            }
        }
    }

    public var kind: Kind
    /// 1-based line of the node's first character.
    public var line: Int
    /// 1-based column of the node's first character.
    public var column: Int

    public init(_ kind: Kind, line: Int, column: Int) {
        self.kind = kind
        self.line = line
        self.column = column
    }

    /// True for a plain `~`, `null`, `Null`, `NULL` or empty scalar.
    public var isNull: Bool {
        guard case .scalar(let text, quoted: false) = kind else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(text)
    }

    /// A short word for the node's kind, for messages.
    public var kindName: String {
        switch kind {
        case .scalar: isNull ? "null" : "a scalar"
        case .sequence: "a list"
        case .mapping: "a mapping"
        }
    }
}
