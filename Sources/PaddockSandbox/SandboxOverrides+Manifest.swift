public import PaddockCore

extension SandboxOverrides {
    /// The overrides a plugin's manifest asks for: `resource.memory` is the
    /// memory cap, `resource.cpu_seconds` the CPU limit, `permission.network`
    /// allows AF_INET/AF_INET6 sockets; the plugin reads its own directory
    /// and writes only its data directory and a private tmp directory.
    public init(manifest: Manifest, pluginDirectory: String, dataDirectory: String, tmpDirectory: String) {
        self.init()
        memory = manifest.resource.memory
        cpuSeconds = manifest.resource.cpuSeconds
        allowNetwork = manifest.permission.network
        readable = [pluginDirectory]
        writable = [dataDirectory, tmpDirectory]
        environment = ["TMPDIR": tmpDirectory, "HOME": dataDirectory]
    }

    /// The profile file a manifest runs under, in `profilesDirectory`:
    /// `network.yaml` when it declares network access, otherwise
    /// `default.yaml` for Python and `strict.yaml` for native plugins.
    public static func profilePath(for manifest: Manifest, in profilesDirectory: String) -> String {
        let name =
            manifest.permission.network ? "network" : manifest.runner.language == .python ? "default" : "strict"
        return profilesDirectory + "/" + name + ".yaml"
    }

    /// The `paddock-sandbox` flags that give these overrides.
    public var arguments: [String] {
        var arguments: [String] = []
        if let memory { arguments += ["--memory", String(memory.bytes)] }
        if let cpuSeconds { arguments += ["--cpu", String(cpuSeconds)] }
        if let fileSize { arguments += ["--file-size", String(fileSize.bytes)] }
        if allowNetwork { arguments.append("--allow-network") }
        for path in readable { arguments += ["--readable", path] }
        for path in writable { arguments += ["--writable", path] }
        for fd in keptDescriptors { arguments += ["--keep-fd", String(fd)] }
        if let credentials { arguments += ["--uid", String(credentials.uid), "--gid", String(credentials.gid)] }
        for path in cgroups { arguments += ["--cgroup", path] }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) { arguments += ["--env", "\(name)=\(value)"] }
        if dieWithParent { arguments.append("--die-with-parent") }
        return arguments
    }
}
