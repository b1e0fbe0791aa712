public import Foundation
import Glibc

/// Reads, decodes and validates a plugin's `manifest.yaml`.
public struct ManifestLoader: Sendable {
    public static let fileName = "manifest.yaml"

    public var parser: YAMLParser

    public init(parser: YAMLParser = YAMLParser()) {
        self.parser = parser
    }

    /// Loads the manifest of the plugin in `directory` and checks every rule,
    /// including that the files it declares exist there.
    public func load(directory: URL) -> ManifestReport {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue
        else {
            return ManifestReport(
                error: PaddockError(.configurationMissing, "plugin directory '\(directory.path)' does not exist")
            )
        }
        let file = directory.appendingPathComponent(Self.fileName)
        guard FileManager.default.fileExists(atPath: file.path) else {
            return ManifestReport(
                error: PaddockError(.configurationMissing, "'\(directory.path)' has no \(Self.fileName)")
            )
        }
        // A FIFO or device would block or never end: read regular files only.
        var info = stat()
        guard stat(file.path, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            return ManifestReport(
                error: PaddockError(.wrongFormat, "'\(file.path)' is not a regular file")
            )
        }
        do {
            let handle = try FileHandle(forReadingFrom: file)
            defer { try? handle.close() }
            // One byte past the limit is enough to know the file is too large.
            let data = try handle.read(upToCount: parser.maximumBytes + 1) ?? Data()
            return load(yaml: [UInt8](data), directory: directory)
        } catch {
            return ManifestReport(
                error: PaddockError(.fileLimitExceeded, "cannot read \(file.path): \(error.localizedDescription)")
            )
        }
    }

    /// Decodes and validates manifest text. With a `directory`, declared
    /// files are checked too.
    public func load(yaml bytes: [UInt8], directory: URL? = nil) -> ManifestReport {
        let root: YAMLNode
        do {
            guard let parsed = try parser.parse(bytes) else {
                return ManifestReport(error: PaddockError(.configurationMissing, "\(Self.fileName) is empty"))
            }
            root = parsed
        } catch {
            return ManifestReport(error: error)
        }
        let diagnostics = YAMLDiagnostics()
        let decoder = YAMLDecoder(node: root, diagnostics: diagnostics)
        let manifest = Manifest(from: decoder)
        ManifestValidator(root: decoder, manifest: manifest, directory: directory).validate()
        let errors = diagnostics.errors.sorted(by: Self.documentOrder)
        return ManifestReport(
            manifest: errors.isEmpty ? manifest : nil,
            errors: errors,
            warnings: diagnostics.warnings.sorted(by: Self.documentOrder)
        )
    }

    /// Loads a manifest that must be valid.
    /// - Throws: the first ``PaddockError`` when it is not.
    public func manifest(in directory: URL) throws -> Manifest {
        let report = load(directory: directory)
        if let manifest = report.manifest { return manifest }
        throw report.errors.first ?? PaddockError(.wrongFormat, "invalid manifest")
    }

    private static func documentOrder(_ a: PaddockError, _ b: PaddockError) -> Bool {
        let lineA = a.details["line"].flatMap { Int($0) } ?? .max
        let lineB = b.details["line"].flatMap { Int($0) } ?? .max
        if lineA != lineB { return lineA < lineB }
        return (a.details["column"].flatMap { Int($0) } ?? .max) < (b.details["column"].flatMap { Int($0) } ?? .max)
    }
}
