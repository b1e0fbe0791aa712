import PaddockControl
import PaddockCore
import PaddockPackage

/// Installs, upgrades and rollbacks: every plugin paddockd runs is a copy
/// it unpacked and checked, in `<data>/plugins/<id>/<version>/`.
extension Daemon {
    /// Where an install is: `stage` (packing, unpacking, environment,
    /// starting, switching) and a message for people.
    typealias Progress = @Sendable (_ stage: String, _ message: String) -> Void

    /// `install`: unpacks and checks the package (or the folder, packed
    /// first) and installs it, or upgrades the installed plugin to it.
    func install(_ request: InstallRequest, progress: @escaping Progress = { _, _ in }) async throws -> JSONValue {
        let package: [UInt8]
        switch request.source {
        case .package(let bytes):
            package = bytes
        case .directory(let path):
            progress("packing", "packing \(path)")
            package = try PackageWriter.write(PackageSource.entries(in: path)).bytes
        }
        progress("unpacking", "checking and unpacking \(ByteSize(bytes: package.count)) of package")
        let staged = try files.stage(package, policy: packagePolicy)
        let id = staged.manifest.name
        guard installing.insert(id).inserted else {
            files.remove(staged.directory)
            throw PaddockError(.rateLimited, "an install of \(id) is under way; try again when it has finished", reason: .inUse)
        }
        defer { installing.remove(id) }
        do {
            // Without requirements, whether an interpreter fits is the activation's question (105 there).
            if staged.manifest.runner.language == .python, try PythonEnvironment.requirements(in: staged.directory) != nil {
                let python = try await engine.python(for: staged.manifest.runner.version)
                try await engine.environment(python: python).build(for: staged.directory) { line in progress("environment", line) }
            }
        } catch {
            files.remove(staged.directory)
            throw error
        }
        var result: [String: JSONValue] = [
            "digest": .string(staged.unpacked.digest), "signed": .bool(staged.unpacked.signer != nil),
            "trusted_signer": .bool(staged.unpacked.trusted), "files": .int(staged.unpacked.files),
            "permissions": .array(staged.manifest.permission.grants.map(JSONValue.string)),
        ]
        result["signer"] = staged.unpacked.signer.map(JSONValue.string)
        result["format"] = .string(staged.manifest.format.rawValue)
        if request.allowNetwork { result["network_granted"] = true }
        if let current = try await registry.record(id) {
            return try await upgrade(current, to: staged, request, progress: progress).merging(result)
        }
        let directory = try files.commit(staged)
        do {
            let record = try await registry.install(
                staged.manifest, directory: directory, digest: staged.unpacked.digest, signer: staged.unpacked.signer)
            do {
                try await registry.setNetworkGranted(id, request.allowNetwork)
                await engine.setNetworkGrant(id, request.allowNetwork)
                try await engine.load(directory: directory, uid: record.uid)
            } catch {
                try? await registry.uninstall(id)
                throw error
            }
            progress("installed", "\(id) \(record.version) installed")
            return Self.json(record).merging(result)
        } catch {
            files.remove(directory)
            throw error
        }
    }

    /// Switches an installed plugin to the staged copy: a higher version,
    /// or with `force` any other; permissions it widens need `yes`.
    private func upgrade(
        _ current: Registry.Record, to staged: InstalledFiles.Staged, _ request: InstallRequest, progress: Progress
    ) async throws -> JSONValue {
        let id = current.id
        let manifest = staged.manifest
        let installed = try ManifestLoader().manifest(in: current.directory)
        let copies = try await registry.versions(id)
        if manifest.version == installed.version {
            files.remove(staged.directory)
            guard copies.first(where: { $0.version == current.version })?.digest == staged.unpacked.digest else {
                throw PaddockError(
                    .wrongFormat, "\(id) \(current.version) is installed with other contents; give the new package a higher version",
                    field: "version")
            }
            return Self.json(current).merging(["unchanged": .bool(true)])
        }
        guard manifest.version > installed.version || request.force else {
            files.remove(staged.directory)
            throw PaddockError(
                .wrongFormat, "\(id) \(installed.version) is installed; \(manifest.version) is lower (install it with --force to go back)",
                field: "version")
        }
        let widened = manifest.permission.widening(from: installed.permission)
        guard widened.isEmpty || request.yes else {
            files.remove(staged.directory)
            var details = ["from": installed.version.description, "to": manifest.version.description]
            for (index, line) in widened.enumerated() { details["widened.\(index)"] = line }
            throw PaddockError(
                .permissionDenied,
                "\(id) \(manifest.version) may do what \(installed.version) may not: \(widened.joined(separator: "; ")); install again with --yes to accept",
                reason: .permissionsWidened, details: details)
        }
        let directory: String
        if let kept = copies.first(where: { $0.version == manifest.version.description }) {
            // The copy before the current one (a rollback's): the same contents or nothing.
            files.remove(staged.directory)
            guard kept.digest == staged.unpacked.digest else {
                throw PaddockError(.wrongFormat, "\(id) \(kept.version) was installed before with other contents; give the package a higher version", field: "version")
            }
            directory = kept.directory
        } else {
            directory = try files.commit(staged)
        }
        if request.allowNetwork {
            try await registry.setNetworkGranted(id, true)
            await engine.setNetworkGrant(id, true)
        }
        progress("switching", "starting \(id) \(manifest.version) beside \(installed.version)")
        do {
            try await engine.replace(id, directory: directory, uid: current.uid, start: current.state == .active)
        } catch {
            if directory != current.directory, !copies.contains(where: { $0.directory == directory }) { files.remove(directory) }
            throw error
        }
        let stale = try await registry.switchVersion(
            id, to: manifest.version.description, directory: directory, digest: staged.unpacked.digest, signer: staged.unpacked.signer)
        for folder in stale where folder.hasPrefix(files.plugins + "/") { files.remove(folder) }
        if !stale.isEmpty { await removeUnusedEnvironments(installing: id) }
        progress("installed", "\(id) \(installed.version) → \(manifest.version)")
        var record = current
        record.version = manifest.version.description
        record.directory = directory
        return Self.json(record).merging([
            "previous_version": .string(installed.version.description), "widened": .array(widened.map(JSONValue.string)),
        ])
    }

    /// Removes the Python environments no installed copy uses (after an
    /// uninstall, or an upgrade that dropped a copy; `installing` is its
    /// plugin). While another install is under way, its environment may not
    /// be recorded yet: nothing is removed then.
    func removeUnusedEnvironments(installing current: String? = nil) async {
        guard installing.subtracting([current].compactMap { $0 }).isEmpty, let directories = try? await registry.installedDirectories() else { return }
        var used = Set<String>()
        for directory in directories {
            guard let manifest = try? ManifestLoader().manifest(in: directory), manifest.runner.language == .python,
                let python = try? await engine.python(for: manifest.runner.version),
                let folder = try? engine.environment(python: python).folder(for: directory)
            else { continue }
            used.insert(folder)
        }
        engine.environment(python: engine.configuration.python).sweep(keeping: used)
    }

    /// `rollback {"id"}`: switches to the copy installed before the current one, the same way as an upgrade.
    func rollback(_ request: PluginRequest) async throws -> JSONValue {
        let id = request.id
        guard let current = try await registry.record(id) else { throw Self.notInstalled(id) }
        guard let previous = try await registry.versions(id).first(where: { $0.version != current.version }) else {
            throw PaddockError(.configurationMissing, "\(id) has no earlier version to roll back to")
        }
        guard installing.insert(id).inserted else {
            throw PaddockError(.rateLimited, "an install of \(id) is under way; try again when it has finished", reason: .inUse)
        }
        defer { installing.remove(id) }
        try await engine.replace(id, directory: previous.directory, uid: current.uid, start: current.state == .active)
        _ = try await registry.switchVersion(
            id, to: previous.version, directory: previous.directory, digest: previous.digest, signer: previous.signer)
        return try await status(id).merging(["previous_version": .string(current.version)])
    }

    /// `versions {"id"}`: the installed copies, newest install first.
    func versions(_ request: PluginRequest) async throws -> JSONValue {
        let id = request.id
        guard let current = try await registry.record(id) else { throw Self.notInstalled(id) }
        let copies = try await registry.versions(id)
        return .object([
            "id": .string(id), "current": .string(current.version),
            "versions": .array(copies.map { copy in
                var entry: [String: JSONValue] = [
                    "version": .string(copy.version), "digest": .string(copy.digest), "installed_at": .int(copy.installedAt),
                    "current": .bool(copy.version == current.version),
                ]
                entry["signer"] = copy.signer.map(JSONValue.string)
                return .object(entry)
            }),
        ])
    }
}
