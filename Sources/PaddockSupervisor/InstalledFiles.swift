import Foundation
import Glibc
import PaddockCore
import PaddockPackage

/// Where installed plugins live: `<data>/plugins/<id>/<version>/`, copies
/// that paddockd owns, and `<data>/staging/`, where a package is unpacked
/// and checked first. A copy is renamed into place only when everything
/// succeeded, so `plugins/` never holds half a plugin; what a crash leaves
/// in `staging/` (or a copy no registry row names) is swept at start.
struct InstalledFiles: Sendable {
    /// A package unpacked and checked, not yet in place.
    struct Staged: Sendable {
        var directory: String
        var manifest: Manifest
        var unpacked: PackageUnpacker.Unpacked
    }

    let dataDirectory: String
    var plugins: String { dataDirectory + "/plugins" }
    var staging: String { dataDirectory + "/staging" }

    /// The files of the data folder `dataDirectory`, whose `plugins/` and `staging/` are made now.
    init(dataDirectory: String) {
        self.dataDirectory = dataDirectory
        mkdir(plugins, 0o755)
        mkdir(staging, 0o700)
    }

    /// Unpacks `package` into a new folder under `staging/` and loads its manifest.
    /// - Throws: the package's refusal or the manifest's first error; the folder is removed then.
    func stage(_ package: [UInt8], policy: PackagePolicy) throws -> Staged {
        var template = Array((staging + "/install-XXXXXX").utf8CString)
        guard let made = mkdtemp(&template) else {
            throw PaddockError(.fileLimitExceeded, "cannot create a staging folder in \(staging): \(String(cString: strerror(errno)))")
        }
        let directory = String(cString: made)
        do {
            let unpacked = try PackageUnpacker(policy: policy).unpack(package, into: directory)
            // The plugin reads its copy as its own uid, through the sandbox's bind mount.
            chmod(directory, 0o755)
            let report = ManifestLoader().load(directory: directory)
            guard unpacked.listed || report.format == .dify else {
                throw PackageProblem.notAPackage.error(
                    "it has no \(PackageListing.listingPath) and is not a Dify package: pack it with `paddock pack`")
            }
            guard let manifest = report.manifest else {
                let first = report.errors.first ?? PaddockError(.configurationMissing, "the package has no valid manifest.yaml")
                throw PaddockError(first.code, "the package's manifest is not valid: \(first.message)", field: first.field, details: first.details)
            }
            return Staged(directory: directory, manifest: manifest, unpacked: unpacked)
        } catch {
            remove(directory)
            throw error
        }
    }

    /// Renames a staged copy into `plugins/<id>/<version>/`.
    /// - Returns: its final folder.
    /// - Throws: 102 when that version's folder exists (it is installed), 302 when the rename fails.
    func commit(_ staged: Staged) throws(PaddockError) -> String {
        let parent = plugins + "/" + staged.manifest.name
        mkdir(parent, 0o755)
        let target = parent + "/" + staged.manifest.version.description
        guard FileSystem.kind(of: target) == nil else {
            remove(staged.directory)
            throw PaddockError(
                .wrongFormat, "\(staged.manifest.name) \(staged.manifest.version) is already installed; give the new package a higher version",
                field: "version")
        }
        guard rename(staged.directory, target) == 0 else {
            let error = PaddockError(.fileLimitExceeded, "cannot move the plugin into \(target): \(String(cString: strerror(errno)))")
            remove(staged.directory)
            throw error
        }
        return target
    }

    /// Removes a folder and everything in it (never following a link).
    func remove(_ directory: String) {
        try? FileManager.default.removeItem(atPath: directory)
        let parent = String(directory[..<(directory.lastIndex(of: "/") ?? directory.endIndex)])
        if parent.hasPrefix(plugins + "/") { rmdir(parent) }  // an id with no copy left
    }

    /// Removes everything in `staging/`, and every copy under `plugins/` that `installed` does not name.
    func sweep(keeping installed: Set<String>) {
        for name in (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? [] { remove(staging + "/" + name) }
        for id in (try? FileManager.default.contentsOfDirectory(atPath: plugins)) ?? [] {
            for version in (try? FileManager.default.contentsOfDirectory(atPath: plugins + "/" + id)) ?? []
            where !installed.contains(plugins + "/" + id + "/" + version) {
                remove(plugins + "/" + id + "/" + version)
            }
        }
    }
}
