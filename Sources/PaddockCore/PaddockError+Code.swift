extension PaddockError {
    /// A code of the error catalog. A struct over a private enum, so that the
    /// catalog can grow without breaking callers that switch over it.
    public struct Code: Hashable, Sendable, Comparable, CustomStringConvertible {
        private enum Storage: Int, CaseIterable {
            case configurationMissing = 101
            case wrongFormat = 102
            case forbiddenCombination = 103
            case permissionDenied = 104
            case dependencyUnavailable = 105
            case upstreamFailed = 201
            case unparsableData = 202
            case handlerFailed = 203
            case timedOut = 204
            case storageQuotaExceeded = 205
            case rateLimited = 206
            case memoryLimitExceeded = 301
            case fileLimitExceeded = 302
            case cpuLimitExceeded = 303
            case sandboxViolation = 304
            case pluginCrashed = 305
            case pluginUnavailable = 306
            case internalError = 307
        }

        private let storage: Storage

        private init(_ storage: Storage) {
            self.storage = storage
        }

        /// The code for its three-digit number, or nil when the catalog has no such code.
        public init?(rawValue: Int) {
            guard let storage = Storage(rawValue: rawValue) else { return nil }
            self.storage = storage
        }

        /// The three-digit number that travels on the wire and in exit reports.
        public var rawValue: Int { storage.rawValue }

        /// Every code of the catalog, in ascending order.
        public static var allCases: [Code] { Storage.allCases.map(Code.init) }

        public var description: String { String(rawValue) }

        public static func < (lhs: Code, rhs: Code) -> Bool { lhs.rawValue < rhs.rawValue }

        /// 101 — required configuration missing (manifest field, setting, credential, parameter).
        public static let configurationMissing = Code(.configurationMissing)
        /// 102 — a configuration value has a wrong format or type.
        public static let wrongFormat = Code(.wrongFormat)
        /// 103 — the manifest declares a forbidden combination.
        public static let forbiddenCombination = Code(.forbiddenCombination)
        /// 104 — permission not declared for what was attempted.
        public static let permissionDenied = Code(.permissionDenied)
        /// 105 — dependency unavailable (runner, version, requirement, declared file).
        public static let dependencyUnavailable = Code(.dependencyUnavailable)
        /// 201 — a third-party API call failed (reported by the plugin).
        public static let upstreamFailed = Code(.upstreamFailed)
        /// 202 — data could not be parsed (bad JSON, bad frame, bad schema).
        public static let unparsableData = Code(.unparsableData)
        /// 203 — the plugin's handler raised an error.
        public static let handlerFailed = Code(.handlerFailed)
        /// 204 — the invocation timed out.
        public static let timedOut = Code(.timedOut)
        /// 205 — storage quota exceeded.
        public static let storageQuotaExceeded = Code(.storageQuotaExceeded)
        /// 206 — rate limited.
        public static let rateLimited = Code(.rateLimited)
        /// 301 — memory limit exceeded.
        public static let memoryLimitExceeded = Code(.memoryLimitExceeded)
        /// 302 — file I/O error or file-size limit exceeded.
        public static let fileLimitExceeded = Code(.fileLimitExceeded)
        /// 303 — CPU time limit exceeded.
        public static let cpuLimitExceeded = Code(.cpuLimitExceeded)
        /// 304 — sandbox violation (forbidden system call).
        public static let sandboxViolation = Code(.sandboxViolation)
        /// 305 — the plugin crashed (other signal or unexpected exit).
        public static let pluginCrashed = Code(.pluginCrashed)
        /// 306 — plugin unavailable (not active, restarting, or given up after a crash loop).
        public static let pluginUnavailable = Code(.pluginUnavailable)
        /// 307 — an internal error of the supervisor (its database, its
        /// secret key, an invariant it broke): nothing the caller or the
        /// plugin did, and not a plugin's file-size limit (302).
        public static let internalError = Code(.internalError)

        /// What the code means, as the catalog in the README says it.
        public var meaning: String {
            switch storage {
            case .configurationMissing: "required configuration missing"
            case .wrongFormat: "configuration value has a wrong format or type"
            case .forbiddenCombination: "manifest declares a forbidden combination"
            case .permissionDenied: "permission not declared for what was attempted"
            case .dependencyUnavailable: "dependency unavailable"
            case .upstreamFailed: "third-party API call failed"
            case .unparsableData: "data could not be parsed"
            case .handlerFailed: "plugin handler raised an error"
            case .timedOut: "invocation timed out"
            case .storageQuotaExceeded: "storage quota exceeded"
            case .rateLimited: "rate limited"
            case .memoryLimitExceeded: "memory limit exceeded"
            case .fileLimitExceeded: "file I/O error or file-size limit exceeded"
            case .cpuLimitExceeded: "CPU time limit exceeded"
            case .sandboxViolation: "sandbox violation (forbidden system call)"
            case .pluginCrashed: "plugin crashed"
            case .pluginUnavailable: "plugin unavailable"
            case .internalError: "an internal error of the supervisor"
            }
        }
    }
}
