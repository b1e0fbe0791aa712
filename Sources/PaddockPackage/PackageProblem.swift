public import PaddockCore

/// Why a package is refused: every refusal is a ``PaddockError`` whose
/// `details["reason"]` names one of these, so that scripts can branch on it.
public enum PackageProblem: String, Sendable, CaseIterable {
    /// Not a zip archive, or one that cannot be read.
    case notAPackage = "not_a_package"
    /// An absolute path, `..`, an empty component, a backslash or a control character.
    case unsafePath = "unsafe_path"
    /// A symbolic link whose target is absolute or leaves the package, or a path through a link.
    case linkOutside = "link_outside"
    /// A device, FIFO or socket, or (in a folder) a file with other hard links.
    case specialFile = "special_file"
    /// Two entries for one path.
    case duplicateEntry = "duplicate_entry"
    /// More entries than the policy allows.
    case tooManyEntries = "too_many_entries"
    /// More unpacked bytes than the policy allows.
    case tooLarge = "too_large"
    /// An entry that unpacks to far more than it takes compressed (a zip bomb).
    case compressionRatio = "compression_ratio"
    /// The files are not those the package's listing names (changed after packing).
    case digestMismatch = "digest_mismatch"
    /// `signature: required` and the package has none.
    case unsigned
    /// Signed, but by a key the operator does not trust.
    case untrustedSigner = "untrusted_signer"
    /// The signature does not verify: the package changed after signing.
    case badSignature = "bad_signature"

    /// The catalog code: 104 for signatures (the package may not be
    /// installed here), 102 for everything else (a package of the wrong shape).
    var code: PaddockError.Code {
        switch self {
        case .unsigned, .untrustedSigner, .badSignature: .permissionDenied
        default: .wrongFormat
        }
    }

    /// The refusal, with this problem as its `reason`.
    public func error(_ message: String, path: String? = nil) -> PaddockError {
        var details = ["reason": rawValue]
        if let path { details["path"] = Self.shown(path) }
        return PaddockError(code, "package refused: \(message)", details: details)
    }

    /// A path from a package as it may appear in a message: short, escaped.
    static func shown(_ path: String) -> String {
        let short = path.unicodeScalars.count > 200 ? String(String.UnicodeScalarView(path.unicodeScalars.prefix(200))) + "…" : path
        return short.escapingControlCharacters()
    }
}
