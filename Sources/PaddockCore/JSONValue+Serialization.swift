extension JSONValue {
    /// Compact JSON text: no whitespace, no raw newline (so it fits
    /// newline-delimited framing), object keys sorted for stable output.
    public var jsonText: String {
        var text = ""
        write(to: &text)
        return text
    }

    /// The compact JSON as UTF-8 bytes.
    public var jsonBytes: [UInt8] { Array(jsonText.utf8) }

    public func write(to text: inout String) {
        switch self {
        case .null: text += "null"
        case .bool(let value): text += value ? "true" : "false"
        case .int(let value): text += String(value)
        case .double(let value):
            // JSON has no NaN or infinity.
            text += value.isFinite ? (value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) + ".0" : String(value)) : "null"
        case .string(let value): JSONValue.quote(value, into: &text)
        case .array(let values):
            text += "["
            for (index, value) in values.enumerated() {
                if index > 0 { text += "," }
                value.write(to: &text)
            }
            text += "]"
        case .object(let members):
            text += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                if index > 0 { text += "," }
                JSONValue.quote(key, into: &text)
                text += ":"
                members[key]!.write(to: &text)
            }
            text += "}"
        }
    }

    /// Appends `value` as a JSON string literal. Control characters, DEL and
    /// the line separators are escaped, so the literal is also a valid YAML
    /// double-quoted scalar.
    public static func quote(_ value: String, into text: inout String) {
        text += "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": text += "\\\""
            case "\\": text += "\\\\"
            case "\n": text += "\\n"
            case "\r": text += "\\r"
            case "\t": text += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F || scalar.value == 0x2028 || scalar.value == 0x2029:
                let hex = String(scalar.value, radix: 16)
                text += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: text.unicodeScalars.append(scalar)
            }
        }
        text += "\""
    }

    /// Parses JSON text.
    /// - Throws: ``PaddockError`` 202 for anything that is not one JSON value.
    public init(parsing bytes: some Collection<UInt8>) throws(PaddockError) {
        self = try JSONParser.parse(bytes)
    }

    /// The value at `key` of an object, if any.
    public subscript(key: String) -> JSONValue? {
        if case .object(let members) = self { members[key] } else { nil }
    }

    /// The elements of an array value.
    public var arrayValue: [JSONValue]? {
        if case .array(let items) = self { items } else { nil }
    }

    /// The text of a string value.
    public var stringValue: String? {
        if case .string(let text) = self { text } else { nil }
    }
}
