/// The minimum version of a runner's interpreter or toolchain: `"3.11"`
/// means 3.11 or newer. One to three dot-separated numbers.
public struct RuntimeVersion: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var components: [Int]

    public init(_ components: [Int]) {
        self.components = components
    }

    /// Parses `3`, `3.11` or `3.11.4`.
    /// - Throws: ``PaddockError`` 102 for anything else.
    public init(parsing text: String) throws(PaddockError) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...3).contains(parts.count),
            parts.allSatisfy({ !$0.isEmpty && $0.count <= 6 && $0.allSatisfy(\.isASCIIDigit) })
        else {
            throw PaddockError(.wrongFormat, "'\(text)' is not a runner version; write it like \"3.11\"")
        }
        components = parts.compactMap { Int($0) }
    }

    /// True when `installed` is this version or newer, comparing only the
    /// components this version names (`3.11` is satisfied by `3.11.2` and `3.12`).
    public func isSatisfied(by installed: RuntimeVersion) -> Bool {
        let named = installed.components.prefix(components.count)
        let padded = Array(named) + Array(repeating: 0, count: components.count - named.count)
        return !padded.lexicographicallyPrecedes(components)
    }

    public var description: String { components.map(String.init).joined(separator: ".") }

    public static func < (lhs: RuntimeVersion, rhs: RuntimeVersion) -> Bool {
        lhs.components.lexicographicallyPrecedes(rhs.components)
    }

    public init(from decoder: any Decoder) throws {
        try self.init(parsing: try decoder.singleValueContainer().decode(String.self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension SemanticVersion: TextParsable {}
extension RuntimeVersion: TextParsable {}
