extension JSONValue {
    /// Compact JSON text: no whitespace, no raw newline (so it fits
    /// newline-delimited framing), object keys sorted for stable output.
    public var jsonText: String {
        String(decoding: jsonBytes, as: UTF8.self)
    }

    /// The compact JSON as UTF-8 bytes.
    public var jsonBytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64)
        write(to: &bytes)
        return bytes
    }

    /// Appends the compact JSON to `bytes`.
    public func write(to bytes: inout [UInt8]) {
        switch self {
        case .null: bytes.append(contentsOf: "null".utf8)
        case .bool(let value): bytes.append(contentsOf: (value ? "true" : "false").utf8)
        case .int(let value): bytes.append(contentsOf: String(value).utf8)
        case .double(let value):
            // JSON has no NaN or infinity.
            let text = value.isFinite ? (value.rounded() == value && abs(value) < 1e15 ? String(Int(value)) + ".0" : String(value)) : "null"
            bytes.append(contentsOf: text.utf8)
        case .string(let value): JSONValue.quote(value, into: &bytes)
        case .array(let values):
            bytes.append(UInt8(ascii: "["))
            for (index, value) in values.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                value.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            var first = true
            for (key, value) in members.count < 2 ? Array(members) : members.sorted(by: { $0.key < $1.key }) {
                if !first { bytes.append(UInt8(ascii: ",")) }
                first = false
                JSONValue.quote(key, into: &bytes)
                bytes.append(UInt8(ascii: ":"))
                value.write(to: &bytes)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    /// Appends `value` as a JSON string literal. Control characters, DEL and
    /// the line separators are escaped, so the literal is also a valid YAML
    /// double-quoted scalar.
    public static func quote(_ value: String, into text: inout String) {
        var bytes: [UInt8] = []
        quote(value, into: &bytes)
        text += String(decoding: bytes, as: UTF8.self)
    }

    /// Appends `value` as a JSON string literal (see ``quote(_:into:)-String``)
    /// to UTF-8 bytes: runs that need no escape are copied whole.
    public static func quote(_ value: String, into bytes: inout [UInt8]) {
        var value = value
        value.withUTF8 { utf8 in
            bytes.reserveCapacity(bytes.count + utf8.count + 2)
            bytes.append(UInt8(ascii: "\""))
            var run = 0
            var index = 0
            while index < utf8.count {
                let byte = utf8[index]
                let escape: StaticString?
                var width = 1
                switch byte {
                case UInt8(ascii: "\""): escape = "\\\""
                case UInt8(ascii: "\\"): escape = "\\\\"
                case UInt8(ascii: "\n"): escape = "\\n"
                case UInt8(ascii: "\r"): escape = "\\r"
                case UInt8(ascii: "\t"): escape = "\\t"
                case 0xE2 where index + 2 < utf8.count && utf8[index + 1] == 0x80 && (utf8[index + 2] == 0xA8 || utf8[index + 2] == 0xA9):
                    escape = utf8[index + 2] == 0xA8 ? "\\u2028" : "\\u2029"
                    width = 3
                case 0..<0x20, 0x7F: escape = nil
                default:
                    index += 1
                    continue
                }
                bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<index]))
                if let escape {
                    bytes.append(contentsOf: UnsafeBufferPointer(start: escape.utf8Start, count: escape.utf8CodeUnitCount))
                } else {
                    let digits: [UInt8] = Array("0123456789abcdef".utf8)
                    bytes.append(contentsOf: "\\u00".utf8)
                    bytes.append(digits[Int(byte >> 4)])
                    bytes.append(digits[Int(byte & 0xF)])
                }
                index += width
                run = index
            }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: utf8[run..<utf8.count]))
            bytes.append(UInt8(ascii: "\""))
        }
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
