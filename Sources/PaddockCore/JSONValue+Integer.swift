extension JSONValue {
    /// The integer parameter at `key`, within `range`: numbers that arrive
    /// from a plugin, a tenant or a client are checked here, before any
    /// arithmetic is done with them.
    /// - Returns: the number, or `fallback` when the key is absent or null.
    /// - Throws: 101 when absent with no fallback; 102 naming the field for
    ///   another type (a fraction included) or a number outside `range`.
    public func integer(_ key: String, default fallback: Int? = nil, in range: ClosedRange<Int>) throws(PaddockError) -> Int {
        switch self[key] {
        case .int(let number)?:
            guard range.contains(number) else {
                throw PaddockError(
                    .wrongFormat, "the parameter '\(key)' must be from \(range.lowerBound) to \(range.upperBound), not \(number)",
                    field: key, details: ["minimum": String(range.lowerBound), "maximum": String(range.upperBound)])
            }
            return number
        case nil, .null?:
            guard let fallback else { throw PaddockError(.configurationMissing, "the parameter '\(key)' is missing", field: key) }
            return fallback
        case let value?:
            throw PaddockError(.wrongFormat, "the parameter '\(key)' must be an integer, not \(value.typeName)", field: key)
        }
    }
}
