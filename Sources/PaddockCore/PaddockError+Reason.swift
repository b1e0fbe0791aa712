extension PaddockError {
    /// What kind of error it is within its catalog code, where callers branch
    /// on it: a plugin that is not installed among the 306s (HTTP 404, not
    /// 503), a call cycle among the 206s. A struct over a private enum, like
    /// ``Code``, so reasons can be added without breaking callers.
    ///
    /// On the wire a reason is `details["reason"]` (its ``rawValue``), as it
    /// was before it had a type, so clients reading that string keep working.
    public struct Reason: Hashable, Sendable, CustomStringConvertible {
        private enum Storage: String, CaseIterable {
            case notInstalled = "not_installed"
            case callCycle = "call_cycle"
            case callDepth = "call_depth"
            case hostCallsInFlight = "host_calls_in_flight"
            case inUse = "in_use"
            case permissionsWidened = "permissions_widened"
        }

        private let storage: Storage

        private init(_ storage: Storage) {
            self.storage = storage
        }

        /// The reason its wire form names, or nil for any other text.
        public init?(rawValue: String) {
            guard let storage = Storage(rawValue: rawValue) else { return nil }
            self.storage = storage
        }

        /// The wire form: `details["reason"]`.
        public var rawValue: String { storage.rawValue }

        /// Every reason there is.
        public static var allCases: [Reason] { Storage.allCases.map(Reason.init) }

        public var description: String { rawValue }

        /// 306: no plugin of that id is installed (or loaded), so waiting will not help.
        public static let notInstalled = Reason(.notInstalled)
        /// 206: the call would enter a plugin already serving its chain of calls.
        public static let callCycle = Reason(.callCycle)
        /// 206: plugins calling plugins would go deeper than the host allows.
        public static let callDepth = Reason(.callDepth)
        /// 206: the plugin has as many host calls in flight as it may.
        public static let hostCallsInFlight = Reason(.hostCallsInFlight)
        /// 206: the plugin serves calls now, so it is not uninstalled without `force`.
        public static let inUse = Reason(.inUse)
        /// 104: the new version of a plugin may do what the installed one may not; install again accepting it.
        public static let permissionsWidened = Reason(.permissionsWidened)
    }

    /// The error's ``Reason``, kept in `details["reason"]` (one place, so
    /// that an error decoded from the wire has it too). Nil when there is
    /// none, or when `details["reason"]` is free text (a system error's
    /// words, a plugin's own).
    public var reason: Reason? {
        details["reason"].flatMap(Reason.init(rawValue:))
    }
}
