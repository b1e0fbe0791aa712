public import PaddockCore

extension SandboxOverrides {
    /// The overrides a plugin's manifest asks for: `resource.memory` is the
    /// memory cap, `resource.cpu_seconds` the CPU limit of all its processes,
    /// `resource.disk`/`disk_files` its writable filesystem, `permission.network`
    /// outbound network; its directory is shown read-only at ``pluginPath``.
    public init(manifest: Manifest, pluginDirectory: String) {
        self.init()
        memory = manifest.resource.memory
        cpuSeconds = manifest.resource.cpuSeconds
        disk = manifest.resource.disk
        diskFiles = manifest.resource.diskFiles
        allowNetwork = manifest.permission.network
        binds = [Bind(source: pluginDirectory, target: Self.pluginPath)]
        identity = manifest.name
    }

    /// Where a plugin finds its own files in its view (its working directory).
    public static let pluginPath = "/plugin"

    /// The profile file a manifest runs under, in `profilesDirectory`:
    /// `network.yaml` when it declares network access, otherwise
    /// `default.yaml` for Python and `strict.yaml` for native plugins;
    /// `dify.yaml` for a Dify plugin (network, when granted, by `--allow-network`).
    public static func profilePath(for manifest: Manifest, in profilesDirectory: String) -> String {
        let name =
            manifest.format == .dify
            ? "dify" : manifest.permission.network ? "network" : manifest.runner.language == .python ? "default" : "strict"
        return profilesDirectory + "/" + name + ".yaml"
    }

    /// The `paddock-sandbox` flags that give these overrides.
    public var arguments: [String] {
        var arguments: [String] = []
        if let memory { arguments += ["--memory", String(memory.bytes)] }
        if let cpuSeconds { arguments += ["--cpu", String(cpuSeconds)] }
        if let fileSize { arguments += ["--file-size", String(fileSize.bytes)] }
        if let disk { arguments += ["--disk", String(disk.bytes)] }
        if let diskFiles { arguments += ["--disk-files", String(diskFiles)] }
        if allowNetwork { arguments.append("--allow-network") }
        for range in allowedRanges { arguments += ["--allow-range", range] }
        for port in allowedHostPorts { arguments += ["--allow-host-port", String(port)] }
        for path in readable { arguments += ["--readable", path] }
        for path in writable { arguments += ["--writable", path] }
        for bind in binds { arguments += ["--bind", bind.source, bind.target] }
        for fd in keptDescriptors { arguments += ["--keep-fd", String(fd)] }
        if let credentials { arguments += ["--uid", String(credentials.uid), "--gid", String(credentials.gid)] }
        for path in cgroups { arguments += ["--cgroup", path] }
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) { arguments += ["--env", "\(name)=\(value)"] }
        arguments += ["--name", identity]
        if dieWithParent { arguments.append("--die-with-parent") }
        return arguments
    }
}
