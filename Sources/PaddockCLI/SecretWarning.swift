import Foundation
import PaddockCore

/// The warning for a secret setting written in argv, where any process on the
/// host can read it (`/proc/PID/cmdline`).
enum SecretWarning {
    /// One line per assignment that gives a setting in `secrets` inline.
    static func lines(_ assignments: [SettingAssignment], secrets: Set<String>) -> [String] {
        assignments.filter { $0.isInlineValue && secrets.contains($0.name) }.map { assignment in
            let name = assignment.name
            return "warning: the secret setting '\(name)' was given on the command line, where other users can read it; "
                + "use \(name)=@FILE, \(name)=- or \(name)=?"
        }
    }

    /// Prints the warnings on standard error.
    static func print(_ assignments: [SettingAssignment], secrets: Set<String>) {
        for line in lines(assignments, secrets: secrets) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
    }

    /// The names of the `type: secret` settings a manifest declares.
    static func secrets(of manifest: Manifest) -> Set<String> {
        Set(manifest.settings.filter { $0.type == .secret }.map(\.name))
    }
}
