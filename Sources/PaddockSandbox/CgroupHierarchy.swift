import Glibc
import PaddockCore

/// Where this process's cgroups are: the mounts (`/proc/self/mountinfo`)
/// and the process's place in each (`/proc/self/cgroup`).
struct CgroupHierarchy {
    /// v1 mount points by controller, and the v2 mount point.
    var v1Mounts: [String: String] = [:]
    var v2Mount: String?
    /// This process's path by v1 controller, and in v2.
    var v1Paths: [String: String] = [:]
    var v2Path: String?

    static func current() -> CgroupHierarchy {
        var hierarchy = CgroupHierarchy()
        for line in lines("/proc/self/mountinfo") {
            // "... mountpoint options - fstype source superoptions"
            let halves = line.components(separatedBy: " - ")
            guard halves.count == 2 else { continue }
            let fields = halves[0].split(separator: " ")
            let tail = halves[1].split(separator: " ")
            guard fields.count >= 5, tail.count >= 3 else { continue }
            let mountPoint = String(fields[4])
            if tail[0] == "cgroup2" { hierarchy.v2Mount = mountPoint }
            if tail[0] == "cgroup" {
                for option in tail[2].split(separator: ",") { hierarchy.v1Mounts[String(option)] = mountPoint }
            }
        }
        for line in lines("/proc/self/cgroup") {
            let parts = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3 else { continue }
            if parts[1].isEmpty {
                hierarchy.v2Path = String(parts[2])
            } else {
                for controller in parts[1].split(separator: ",") { hierarchy.v1Paths[String(controller)] = String(parts[2]) }
            }
        }
        return hierarchy
    }

    /// The v2 cgroup to create children in, when it offers the memory
    /// controller to them (or can be made to).
    var v2MemoryParent: String? {
        guard let mount = v2Mount, let path = v2Path else { return nil }
        let directory = mount + (path == "/" ? "" : path)
        let controllers = Self.lines(directory + "/cgroup.controllers").first ?? ""
        guard controllers.split(separator: " ").contains("memory") else { return nil }
        let subtree = directory + "/cgroup.subtree_control"
        guard (try? Cgroup.write("+memory", to: subtree)) != nil else { return nil }
        try? Cgroup.write("+pids", to: subtree)
        try? Cgroup.write("+cpu", to: subtree)
        return directory
    }

    /// The v1 directory of this process for `controller`, when it is mounted and writable.
    func v1Parent(for controller: String) -> String? {
        guard let mount = v1Mounts[controller] else { return nil }
        let directory = mount + (v1Paths[controller].map { $0 == "/" ? "" : $0 } ?? "")
        return access(directory, W_OK) == 0 ? directory : nil
    }

    private static func lines(_ path: String) -> [String] {
        let bytes = (try? FileSystem.read(path, limit: 1 << 20)) ?? []
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

extension String {
    fileprivate func components(separatedBy separator: String) -> [String] {
        guard let range = firstRange(of: separator) else { return [self] }
        return [String(self[..<range.lowerBound]), String(self[range.upperBound...])]
    }
}
