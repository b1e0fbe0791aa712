import Glibc
public import Logging
public import PaddockCore

extension Logger.Level {
    /// A level by the name an operator writes: `trace`, `debug`, `info`,
    /// `notice`, `warning` (or `warn`), `error`, `critical`, in any case.
    public init?(name: String) {
        let lowered = name.lowercased()
        self.init(rawValue: lowered == "warn" ? "warning" : lowered)
    }

    /// The level of `--log-level` when given, else of `PADDOCK_LOG_LEVEL`, else `info`.
    /// - Throws: ``PaddockError`` 102 naming the option or variable with a name that is not a level.
    public static func configured(option: String?) throws(PaddockError) -> Logger.Level {
        let variable = getenv("PADDOCK_LOG_LEVEL").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        guard let name = option ?? variable else { return .info }
        guard let level = Logger.Level(name: name) else {
            let source = option != nil ? "--log-level" : "PADDOCK_LOG_LEVEL"
            throw PaddockError(
                .wrongFormat, "\(source) is one of trace, debug, info, notice, warning, error, critical; not '\(name)'", field: source)
        }
        return level
    }
}
