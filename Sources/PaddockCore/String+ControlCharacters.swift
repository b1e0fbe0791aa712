extension String {
    /// The text as one line that does nothing to a terminal: newlines, tabs
    /// and every other control character (C0, DEL, C1), the bidirectional
    /// overrides and isolates, and the line and paragraph separators are
    /// written as escapes (`\n`, `\x1b`, `\u{202e}`). With `backslashes`,
    /// a backslash is doubled as well, so that an escape in the result
    /// always stands for the character and never for text that looked like one.
    public func escapingControlCharacters(backslashes: Bool = false) -> String {
        // Printable ASCII, the common case, is the text itself.
        guard !utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F && (!backslashes || $0 != 0x5C) }) else { return self }
        var result = ""
        result.reserveCapacity(utf8.count)
        for scalar in unicodeScalars {
            switch scalar {
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\\" where backslashes: result += "\\\\"
            case _ where Self.isControl(scalar):
                let hex = String(scalar.value, radix: 16)
                result += scalar.value < 0x100 ? "\\x" + (hex.count < 2 ? "0" : "") + hex : "\\u{" + hex + "}"
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Whether any character controls a terminal or reorders text (``isControl(_:)``).
    public var containsControlCharacters: Bool {
        unicodeScalars.contains(where: Self.isControl)
    }

    /// Whether `scalar` controls a terminal or reorders text rather than showing as itself.
    static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0..<0x20, 0x7F...0x9F: true  // C0, DEL, C1 (CSI included)
        case 0x061C, 0x200E, 0x200F, 0x2028, 0x2029, 0x202A...0x202E, 0x2066...0x2069: true  // bidi marks, separators
        default: false
        }
    }
}
