public import PaddockCore

/// The launcher's steps, in the order it takes them. A failure in a step
/// ends the launcher with that step's exit status and a coded error on
/// stderr; the plugin never starts with less protection than asked for.
public enum LaunchStep: Int32, CaseIterable, Sendable {
    case arguments = 110
    case descriptors = 111
    case profile = 112
    case program = 113
    case session = 114
    case cgroup = 115
    case limits = 116
    case namespace = 117
    case credentials = 118
    case noNewPrivileges = 119
    case landlock = 120
    case seccomp = 121
    case exec = 122
    /// Building the plugin's view of the filesystem (after `namespace`).
    case view = 123

    /// The exit status of a launcher that failed in this step.
    public var exitStatus: Int32 { rawValue }
}

/// A launcher failure: the step it happened in and the coded error.
public struct LaunchFailure: Error, Sendable {
    public var step: LaunchStep
    public var error: PaddockError

    public init(_ step: LaunchStep, _ error: PaddockError) {
        self.step = step
        self.error = error
    }

    /// The line the launcher prints on stderr: `paddock-sandbox: error 105: ...`.
    public var line: String { "paddock-sandbox: \(error)" }
}
