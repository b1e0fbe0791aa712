/// The id of one outside request (the gateway's `X-Request-Id`), carried
/// down to paddockd and the plugin so that one call can be followed through
/// every log it reaches.
public enum RequestID {
    /// Its name in the params of control calls and of calls to plugins.
    public static let parameter = "request_id"
    /// The longest id, in characters.
    public static let maximumLength = 128

    /// Whether `text` may be a request id: 1 to 128 of `[A-Za-z0-9._:-]`,
    /// so that it never breaks a log line or a header.
    public static func isValid(_ text: some StringProtocol) -> Bool {
        (1...maximumLength).contains(text.utf8.count) && text.utf8.allSatisfy(isAllowed)
    }

    /// Checks a request id.
    /// - Throws: ``PaddockError`` 102 (field `request_id`) for any other text.
    public static func check(_ text: String) throws(PaddockError) {
        guard isValid(text) else {
            throw PaddockError(
                .wrongFormat, "a request id is 1 to \(maximumLength) of A-Z, a-z, 0-9 and '.', '_', ':', '-'", field: "request_id")
        }
    }

    private static func isAllowed(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: ":"), UInt8(ascii: "-"):
            true
        default: false
        }
    }
}
