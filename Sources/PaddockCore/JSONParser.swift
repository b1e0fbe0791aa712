/// A strict JSON parser (RFC 8259) over bytes, for the wire protocol: it
/// builds a ``JSONValue``, or only validates and skips a value so that a
/// message's `params` or `result` can travel on as raw bytes.
///
/// Nesting is limited so that hostile input cannot exhaust the stack.
public struct JSONParser {
    public static let maximumDepth = 128

    private let bytes: UnsafeRawBufferPointer
    private var index = 0

    private init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Parses a whole document.
    /// - Throws: ``PaddockError`` 202 naming the byte offset of the problem.
    public static func parse(_ bytes: some Collection<UInt8>) throws(PaddockError) -> JSONValue {
        let array = Array(bytes)
        let result: Result<JSONValue, PaddockError> = array.withUnsafeBytes { buffer in
            var parser = JSONParser(buffer)
            do throws(PaddockError) {
                let value = try parser.value(depth: 0)
                try parser.end()
                return .success(value)
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    /// Parses the top-level object of a document, keeping the members named
    /// in `raw` as validated byte ranges instead of values.
    /// - Throws: ``PaddockError`` 202 when the document is not a JSON object.
    public static func parseObject(
        _ buffer: UnsafeRawBufferPointer,
        keepingRaw raw: Set<String>
    ) throws(PaddockError) -> (members: [String: JSONValue], raw: [String: Range<Int>]) {
        var parser = JSONParser(buffer)
        parser.whitespace()
        guard parser.peek() == UInt8(ascii: "{") else { throw parser.error("expected a JSON object") }
        parser.index += 1
        var members: [String: JSONValue] = [:]
        var ranges: [String: Range<Int>] = [:]
        parser.whitespace()
        if parser.peek() == UInt8(ascii: "}") {
            parser.index += 1
        } else {
            while true {
                parser.whitespace()
                let key = try parser.string()
                try parser.expect(UInt8(ascii: ":"))
                parser.whitespace()
                if raw.contains(key) {
                    let start = parser.index
                    try parser.skip(depth: 1)
                    ranges[key] = start..<parser.index
                } else {
                    members[key] = try parser.value(depth: 1)
                }
                parser.whitespace()
                if parser.peek() == UInt8(ascii: ",") {
                    parser.index += 1
                    continue
                }
                try parser.expect(UInt8(ascii: "}"))
                break
            }
        }
        try parser.end()
        return (members, ranges)
    }

    /// Checks that `bytes` hold exactly one valid JSON value.
    public static func validate(_ buffer: UnsafeRawBufferPointer) throws(PaddockError) {
        var parser = JSONParser(buffer)
        try parser.skip(depth: 0)
        try parser.end()
    }

    // MARK: Grammar

    private mutating func value(depth: Int) throws(PaddockError) -> JSONValue {
        whitespace()
        guard depth < Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth)") }
        switch peek() {
        case UInt8(ascii: "{"):
            index += 1
            var object: [String: JSONValue] = [:]
            whitespace()
            if peek() == UInt8(ascii: "}") {
                index += 1
                return .object(object)
            }
            while true {
                whitespace()
                let key = try string()
                try expect(UInt8(ascii: ":"))
                object[key] = try value(depth: depth + 1)
                whitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "}"))
                return .object(object)
            }
        case UInt8(ascii: "["):
            index += 1
            var array: [JSONValue] = []
            whitespace()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return .array(array)
            }
            while true {
                array.append(try value(depth: depth + 1))
                whitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(UInt8(ascii: "]"))
                return .array(array)
            }
        case UInt8(ascii: "\""):
            return .string(try string())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        default:
            return try number()
        }
    }

    /// Validates a value without building it.
    private mutating func skip(depth: Int) throws(PaddockError) {
        whitespace()
        guard depth < Self.maximumDepth else { throw error("nesting deeper than \(Self.maximumDepth)") }
        switch peek() {
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = peek() == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            let isObject = close == UInt8(ascii: "}")
            index += 1
            whitespace()
            if peek() == close {
                index += 1
                return
            }
            while true {
                if isObject {
                    whitespace()
                    try skipString()
                    try expect(UInt8(ascii: ":"))
                }
                try skip(depth: depth + 1)
                whitespace()
                if peek() == UInt8(ascii: ",") {
                    index += 1
                    continue
                }
                try expect(close)
                return
            }
        case UInt8(ascii: "\""): try skipString()
        case UInt8(ascii: "t"): try literal("true")
        case UInt8(ascii: "f"): try literal("false")
        case UInt8(ascii: "n"): try literal("null")
        default: _ = try number()
        }
    }

    private mutating func string() throws(PaddockError) -> String {
        let start = index + 1
        let (end, escaped) = try scanString()
        let body = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        guard escaped else {
            // Validate UTF-8 while decoding: invalid sequences are an error, not U+FFFD.
            guard let text = String(validating: body, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
            return text
        }
        return try unescape(body)
    }

    private mutating func skipString() throws(PaddockError) {
        let start = index + 1
        let (end, _) = try scanString()
        guard String(validating: UnsafeRawBufferPointer(rebasing: bytes[start..<end]), as: UTF8.self) != nil else {
            throw error("invalid UTF-8 in a string")
        }
    }

    /// Moves past a string; returns the offset of its closing quote and whether it has escapes.
    private mutating func scanString() throws(PaddockError) -> (end: Int, escaped: Bool) {
        guard peek() == UInt8(ascii: "\"") else { throw error("expected a string") }
        index += 1
        var escaped = false
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                index += 1
                return (index - 1, escaped)
            }
            if byte == UInt8(ascii: "\\") {
                escaped = true
                index += 2
                continue
            }
            guard byte >= 0x20 else { throw error("control character in a string") }
            index += 1
        }
        throw error("unterminated string")
    }

    private func unescape(_ body: UnsafeRawBufferPointer) throws(PaddockError) -> String {
        var scalars = String.UnicodeScalarView()
        var utf8: [UInt8] = []
        var i = 0
        func flush() throws(PaddockError) {
            guard !utf8.isEmpty else { return }
            guard let text = String(validating: utf8, as: UTF8.self) else { throw error("invalid UTF-8 in a string") }
            scalars.append(contentsOf: text.unicodeScalars)
            utf8.removeAll(keepingCapacity: true)
        }
        while i < body.count {
            let byte = body[i]
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                i += 1
                continue
            }
            try flush()
            guard i + 1 < body.count else { throw error("bad escape") }
            let kind = body[i + 1]
            i += 2
            switch kind {
            case UInt8(ascii: "\""): scalars.append("\"")
            case UInt8(ascii: "\\"): scalars.append("\\")
            case UInt8(ascii: "/"): scalars.append("/")
            case UInt8(ascii: "b"): scalars.append("\u{08}")
            case UInt8(ascii: "f"): scalars.append("\u{0C}")
            case UInt8(ascii: "n"): scalars.append("\n")
            case UInt8(ascii: "r"): scalars.append("\r")
            case UInt8(ascii: "t"): scalars.append("\t")
            case UInt8(ascii: "u"):
                var code = try hex4(body, at: i)
                i += 4
                if (0xD800..<0xDC00).contains(code) {
                    // A high surrogate must be followed by \u and a low surrogate.
                    guard i + 6 <= body.count, body[i] == UInt8(ascii: "\\"), body[i + 1] == UInt8(ascii: "u") else {
                        throw error("lone surrogate in a string")
                    }
                    let low = try hex4(body, at: i + 2)
                    guard (0xDC00..<0xE000).contains(low) else { throw error("lone surrogate in a string") }
                    code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                    i += 6
                }
                guard let scalar = Unicode.Scalar(code) else { throw error("lone surrogate in a string") }
                scalars.append(scalar)
            default:
                throw error("bad escape")
            }
        }
        try flush()
        return String(scalars)
    }

    private func hex4(_ body: UnsafeRawBufferPointer, at offset: Int) throws(PaddockError) -> UInt32 {
        guard offset + 4 <= body.count else { throw error("bad \\u escape") }
        var value: UInt32 = 0
        for byte in body[offset..<offset + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw error("bad \\u escape")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    private mutating func number() throws(PaddockError) -> JSONValue {
        let start = index
        if peek() == UInt8(ascii: "-") { index += 1 }
        guard let first = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else {
            throw error(index >= bytes.count ? "unexpected end of input" : "unexpected character")
        }
        if first == UInt8(ascii: "0") { index += 1 } else { digits() }
        var integral = true
        if peek() == UInt8(ascii: ".") {
            integral = false
            index += 1
            guard digits() > 0 else { throw error("a fraction needs digits") }
        }
        if peek() == UInt8(ascii: "e") || peek() == UInt8(ascii: "E") {
            integral = false
            index += 1
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") { index += 1 }
            guard digits() > 0 else { throw error("an exponent needs digits") }
        }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        if integral, let value = Int(text) { return .int(value) }
        guard let value = Double(text) else { throw error("number out of range") }
        return .double(value)
    }

    @discardableResult
    private mutating func digits() -> Int {
        let start = index
        while let byte = peek(), (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) { index += 1 }
        return index - start
    }

    private mutating func literal(_ word: StaticString) throws(PaddockError) {
        let count = word.utf8CodeUnitCount
        guard index + count <= bytes.count,
            memcmpEqual(word, at: index)
        else { throw error("unexpected character") }
        index += count
    }

    private func memcmpEqual(_ word: StaticString, at offset: Int) -> Bool {
        let pointer = word.utf8Start
        for i in 0..<word.utf8CodeUnitCount where bytes[offset + i] != pointer[i] { return false }
        return true
    }

    private mutating func expect(_ byte: UInt8) throws(PaddockError) {
        whitespace()
        guard peek() == byte else {
            throw error(index >= bytes.count ? "unexpected end of input" : "expected '\(Character(Unicode.Scalar(byte)))'")
        }
        index += 1
    }

    private mutating func end() throws(PaddockError) {
        whitespace()
        guard index == bytes.count else { throw error("unexpected data after the JSON value") }
    }

    private mutating func whitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    private func peek() -> UInt8? {
        index < bytes.count ? bytes[index] : nil
    }

    private func error(_ message: String) -> PaddockError {
        PaddockError(.unparsableData, "bad JSON at byte \(index): \(message)", details: ["offset": String(index)])
    }
}
