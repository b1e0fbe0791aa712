/// The outcome of loading a manifest: the manifest when it is valid, and
/// every problem found, each with its code, field path and message.
public struct ManifestReport: Sendable, Encodable {
    /// The normalised manifest; nil unless ``errors`` is empty.
    public var manifest: Manifest?
    public var errors: [PaddockError]
    /// Things worth fixing that do not make the manifest invalid (unknown keys).
    public var warnings: [PaddockError]
    /// The format the manifest was recognised as, valid or not.
    public var format: Manifest.Format

    public var isValid: Bool { errors.isEmpty && manifest != nil }

    public init(manifest: Manifest?, errors: [PaddockError], warnings: [PaddockError] = [], format: Manifest.Format = .paddock) {
        self.manifest = manifest
        self.errors = errors
        self.warnings = warnings
        self.format = format
    }

    init(error: PaddockError) {
        self.init(manifest: nil, errors: [error])
    }

    enum CodingKeys: String, CodingKey {
        case ok, format, errors, warnings, manifest
    }

    /// `{"ok": ..., "format": "paddock"|"dify", "errors": [{"code", "field", "message", "line"?, "column"?}], "warnings": [...], "manifest": ...}`
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(isValid, forKey: .ok)
        try container.encode(format, forKey: .format)
        try container.encode(errors.map(Problem.init), forKey: .errors)
        try container.encode(warnings.map(Problem.init), forKey: .warnings)
        if let manifest {
            try container.encode(manifest, forKey: .manifest)
        } else {
            try container.encodeNil(forKey: .manifest)
        }
    }

    /// One problem as the JSON report shows it.
    private struct Problem: Encodable {
        var code: Int
        var field: String
        var message: String
        var line: Int?
        var column: Int?

        init(_ error: PaddockError) {
            code = error.code.rawValue
            field = error.field ?? ""
            message = error.message
            line = error.details["line"].flatMap { Int($0) }
            column = error.details["column"].flatMap { Int($0) }
        }
    }
}
