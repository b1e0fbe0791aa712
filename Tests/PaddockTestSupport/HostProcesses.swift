public import Foundation
import Glibc

/// The host's processes, as tests that look for survivors see them.
public enum HostProcesses {
    /// The pids whose command line has an argument equal to `marker`.
    public static func containing(_ marker: String) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { $0.allSatisfy(\.isNumber) }.filter { pid in
            let cmdline = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))) ?? Data()
            return String(decoding: cmdline, as: UTF8.self).split(separator: "\0").contains { $0 == marker }
        }
    }

    /// A fresh directory only root can enter (mode 0700, as `mktemp -d` and
    /// root's home make them), for code that must run from below one.
    public static func privateDirectory() throws -> String {
        var template = Array("/tmp/paddock-private-XXXXXX".utf8CString)
        guard let path = mkdtemp(&template) else { throw POSIXError(.EACCES) }
        return String(cString: path)
    }
}

extension HostProcesses {
    /// The pids running as `uid` (real uid), zombies excluded.
    public static func owned(by uid: UInt32) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.filter { $0.allSatisfy(\.isNumber) }.filter { pid in
            let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
            let lines = status.split(separator: "\n")
            guard let uids = lines.first(where: { $0.hasPrefix("Uid:") }), !lines.contains(where: { $0.hasPrefix("State:\tZ") }) else {
                return false
            }
            return uids.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first == Substring(String(uid))
        }
    }
}
