import Glibc

/// Reads, decodes and validates a plugin's `manifest.yaml`: Paddock's own
/// format, or a Dify plugin's (``DifyManifestReader``).
public struct ManifestLoader: Sendable {
    public static let fileName = "manifest.yaml"

    public var parser: YAMLParser

    public init(parser: YAMLParser = YAMLParser()) {
        self.parser = parser
    }

    /// Loads the manifest of the plugin in `directory` and checks every rule,
    /// including that the files it declares exist there.
    public func load(directory: String) -> ManifestReport {
        guard FileSystem.kind(of: directory) == .directory else {
            return ManifestReport(
                error: PaddockError(.configurationMissing, "plugin directory '\(directory)' does not exist")
            )
        }
        // Opened without following a link: the folder is the plugin author's.
        do {
            guard let fd = try FileSystem.openInside(directory, Self.fileName) else {
                return ManifestReport(error: PaddockError(.configurationMissing, "'\(directory)' has no \(Self.fileName)"))
            }
            defer { close(fd) }
            // One byte past the limit is enough to know the file is too large.
            let bytes = try FileSystem.read(descriptor: fd, limit: parser.maximumBytes + 1, name: Self.fileName)
            return load(yaml: bytes, directory: directory)
        } catch {
            return ManifestReport(error: error)
        }
    }

    /// Decodes and validates manifest text. With a `directory`, declared
    /// files are checked too.
    public func load(yaml bytes: [UInt8], directory: String? = nil) -> ManifestReport {
        let root: YAMLNode
        do {
            guard let parsed = try parser.parse(bytes) else {
                return ManifestReport(error: PaddockError(.configurationMissing, "\(Self.fileName) is empty"))
            }
            root = parsed
        } catch {
            return ManifestReport(error: error)
        }
        if DifyManifestReader.isDify(root) {
            return DifyManifestReader(parser: parser, directory: directory).read(root)
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
    public func manifest(in directory: String) throws -> Manifest {
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
