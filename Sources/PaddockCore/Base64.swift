/// Standard base64 (RFC 4648, with padding), without Foundation: endpoint
/// bodies travel in it on the wire.
public enum Base64 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let values: [UInt8] = {
        var table = [UInt8](repeating: 0xFF, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    public static func encode(_ bytes: [UInt8]) -> String {
        let count = (bytes.count + 2) / 3 * 4
        guard count > 0 else { return "" }
        // Pointer loops: this runs over megabytes (files, endpoint bodies), also in debug builds.
        return String(unsafeUninitializedCapacity: count) { output in
            bytes.withUnsafeBufferPointer { input in
                alphabet.withUnsafeBufferPointer { alphabet in
                    var read = 0
                    var written = 0
                    while read + 3 <= input.count {
                        let value = UInt32(input[read]) << 16 | UInt32(input[read + 1]) << 8 | UInt32(input[read + 2])
                        output[written] = alphabet[Int(value >> 18 & 0x3F)]
                        output[written + 1] = alphabet[Int(value >> 12 & 0x3F)]
                        output[written + 2] = alphabet[Int(value >> 6 & 0x3F)]
                        output[written + 3] = alphabet[Int(value & 0x3F)]
                        read += 3
                        written += 4
                    }
                    let left = input.count - read
                    if left > 0 {
                        let value = UInt32(input[read]) << 16 | (left > 1 ? UInt32(input[read + 1]) << 8 : 0)
                        output[written] = alphabet[Int(value >> 18 & 0x3F)]
                        output[written + 1] = alphabet[Int(value >> 12 & 0x3F)]
                        output[written + 2] = left > 1 ? alphabet[Int(value >> 6 & 0x3F)] : UInt8(ascii: "=")
                        output[written + 3] = UInt8(ascii: "=")
                    }
                }
            }
            return count
        }
    }

    /// The bytes of base64 text (line breaks ignored); nil when it is not valid base64.
    public static func decode(_ text: String) -> [UInt8]? {
        var text = text
        return text.withUTF8 { utf8 -> [UInt8]? in
            var output = [UInt8](repeating: 0, count: utf8.count / 4 * 3)
            var written = 0
            var quad: UInt32 = 0
            var digits = 0
            var padding = 0
            let valid = values.withUnsafeBufferPointer { values in
                output.withUnsafeMutableBufferPointer { output in
                    for byte in utf8 {
                        if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r") { continue }
                        if byte == UInt8(ascii: "=") {
                            padding += 1
                            guard padding <= 2 else { return false }
                            quad <<= 6
                            digits += 1
                        } else {
                            let digit = values[Int(byte)]
                            guard digit != 0xFF, padding == 0 else { return false }
                            quad = quad << 6 | UInt32(digit)
                            digits += 1
                        }
                        if digits == 4 {
                            output[written] = UInt8(quad >> 16 & 0xFF)
                            output[written + 1] = UInt8(quad >> 8 & 0xFF)
                            output[written + 2] = UInt8(quad & 0xFF)
                            written += 3 - padding
                            digits = 0
                            quad = 0
                            if padding > 0 { padding = 3 }  // nothing may follow the padded quad
                        }
                    }
                    return digits == 0
                }
            }
            guard valid else { return nil }
            output.removeLast(output.count - written)
            return output
        }
    }
}
