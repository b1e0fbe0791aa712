/// The one error type of Paddock: a catalog code, a message for people, and
/// machine-readable details. Every component throws it; each boundary (CLI,
/// JSON-RPC, HTTP) translates its ``code`` once.
public struct PaddockError: Error, Sendable, CustomStringConvertible {
    /// The catalog code (101–307).
    public var code: Code
    /// An English sentence saying what went wrong and, where it helps, what to do.
    public var message: String
    /// The field the error is about, as a path such as `permission.storage`.
    public var field: String?
    /// Evidence for machines: line and column, signal, limit, peak memory, ...
    public var details: [String: String]
    /// The lower-level error this one was translated from, if any.
    public var underlying: (any Error & Sendable)?

    /// - Parameters:
    ///   - reason: what kind of error it is within `code`; kept in
    ///     `details["reason"]`, its wire form, over any text there.
    public init(
        _ code: Code,
        _ message: String,
        reason: Reason? = nil,
        field: String? = nil,
        details: [String: String] = [:],
        underlying: (any Error & Sendable)? = nil
    ) {
        self.code = code
        self.message = message
        self.field = field
        self.details = details
        self.underlying = underlying
        if let reason { self.details["reason"] = reason.rawValue }
    }

    public var description: String {
        let location = field.map { " \($0):" } ?? ""
        return "error \(code.rawValue):\(location) \(message)"
    }
}
