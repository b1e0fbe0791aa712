/// A size in bytes, written in manifests as `10MB`, `512KiB`, `1.5GB` or plain bytes.
///
/// Decimal units are powers of 1000 (`KB`, `MB`, `GB`, `TB`, also `K`, `M`,
/// `G`, `T`); binary units are powers of 1024 (`KiB`, `MiB`, `GiB`, `TiB`).
/// Units are case-insensitive; a fraction of a byte is rounded down.
public struct ByteSize: Hashable, Comparable, Sendable, Codable, CustomStringConvertible {
    public var bytes: Int

    public init(bytes: Int) {
        self.bytes = bytes
    }

    private static let units: [String: Int] = [
        "": 1, "b": 1,
        "k": 1_000, "kb": 1_000, "m": 1_000_000, "mb": 1_000_000,
        "g": 1_000_000_000, "gb": 1_000_000_000, "t": 1_000_000_000_000, "tb": 1_000_000_000_000,
        "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
    ]

    /// Parses a size.
    /// - Throws: ``PaddockError`` 102 for an unknown unit, a negative or
    ///   malformed number, or a size that does not fit in 64 bits.
    public init(parsing text: String) throws(PaddockError) {
        let trimmed = text.trimmingWhitespace()
        let number = trimmed.prefix { $0.isASCII && ($0.isNumber || $0 == ".") }
        let unit = trimmed.dropFirst(number.count).trimmingWhitespace().lowercased()
        let parts = number.split(separator: ".", omittingEmptySubsequences: false)
        guard let multiplier = Self.units[unit],
            !number.isEmpty, parts.count <= 2,
            !parts[0].isEmpty || (parts.count == 2 && !parts[1].isEmpty),
            let whole = parts[0].isEmpty ? 0 : Int(parts[0])
        else {
            throw PaddockError(
                .wrongFormat,
                "'\(text)' is not a size; write bytes or a number with a unit such as 10MB, 512KiB or 1.5GB"
            )
        }
        let overflow = PaddockError(.wrongFormat, "size '\(text)' is too large")
        let (scaled, overflowed) = whole.multipliedReportingOverflow(by: multiplier)
        guard !overflowed else { throw overflow }
        var fraction = 0
        if parts.count == 2 {
            // Exact fixed point, rounded down. Six digits keep the product
            // below Int.max for every unit up to TiB.
            let digits = parts[1].prefix(6)
            var denominator = 1
            for _ in digits { denominator *= 10 }
            fraction = (Int(digits) ?? 0) * multiplier / denominator
        }
        let (total, totalOverflow) = scaled.addingReportingOverflow(fraction)
        guard !totalOverflow else { throw overflow }
        bytes = total
    }

    public var description: String {
        for (unit, size) in [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        for (unit, size) in [("GB", 1_000_000_000), ("MB", 1_000_000), ("KB", 1_000)] where bytes >= size && bytes % size == 0 {
            return "\(bytes / size)\(unit)"
        }
        return "\(bytes) bytes"
    }

    public static func < (lhs: ByteSize, rhs: ByteSize) -> Bool { lhs.bytes < rhs.bytes }

    public init(from decoder: any Decoder) throws {
        bytes = try decoder.singleValueContainer().decode(Int.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(bytes)
    }
}

extension ByteSize: TextParsable {}

extension StringProtocol {
    /// The text without leading and trailing spaces, tabs and newlines.
    func trimmingWhitespace() -> String {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0.isNewline }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else {
            return ""
        }
        return String(self[first...last])
    }
}
