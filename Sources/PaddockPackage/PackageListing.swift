import Crypto
import PaddockCore

/// What a package holds, in a canonical text that its digest and signature
/// cover: a first line `paddock-package 1`, then one line per entry in
/// byte order of its path, `<kind> <sha256 of contents> <path>` (kind
/// `file`, `exec` or `link`). The listing travels in the package as
/// `.paddock-package/listing`; an installer recomputes it from the files
/// it unpacked and refuses a package whose files differ.
public struct PackageListing: Sendable, Equatable {
    /// The package's own folder: the listing and the signature.
    public static let folder = ".paddock-package"
    public static let listingPath = folder + "/listing"
    public static let signaturePath = folder + "/signature"
    static let header = "paddock-package 1"

    public let text: String

    /// The listing of `entries` (any order).
    public init(_ entries: [PackageEntry]) {
        self.init(hashed: entries.map { ($0.path, $0.kind, Array(SHA256.hash(data: $0.contents)).hexString) })
    }

    /// Lines already hashed: `(path, kind, sha256 hex)`.
    init(hashed: [(path: String, kind: PackageEntry.Kind, digest: String)]) {
        var lines = [Self.header]
        for entry in hashed.sorted(by: { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }) {
            lines.append("\(entry.kind.rawValue) \(entry.digest) \(entry.path)")
        }
        self.init(text: lines.joined(separator: "\n") + "\n")
    }

    public init(text: String) {
        self.text = text
    }

    /// SHA-256 of the listing, in hex: the package's content digest.
    public var digest: String {
        Array(SHA256.hash(data: Array(text.utf8))).hexString
    }
}
