public import Crypto
import Foundation
import PaddockCore
import ZIPFoundation

/// Writes a package: a zip with `.paddock-package/listing` (and
/// `/signature` when signed) first, then the entries in byte order of
/// their paths, every date 1980-01-01 and modes normalised, so that the
/// same files always give the same bytes.
public enum PackageWriter {
    /// A written package.
    public struct Package: Sendable {
        public var bytes: [UInt8]
        public var listing: PackageListing
        public var signature: PackageSignature?
        public var digest: String { listing.digest }
    }

    /// The zip of `entries`, signed with `key` when one is given.
    /// - Throws: 102 for an entry whose path a package cannot hold.
    public static func write(_ entries: [PackageEntry], signingKey key: Curve25519.Signing.PrivateKey? = nil) throws -> Package {
        let listing = PackageListing(entries)
        let signature = try key.map { try PackageSignature(digest: listing.digest, key: $0) }
        let archive = try Archive(data: Data(), accessMode: .create)
        func add(_ path: String, _ kind: PackageEntry.Kind, _ bytes: [UInt8]) throws {
            let data = Data(bytes)
            try archive.addEntry(
                with: path, type: kind == .link ? .symlink : .file, uncompressedSize: Int64(data.count),
                modificationDate: Date(timeIntervalSince1970: 315_532_800),
                permissions: PackageEntry(path: path, kind: kind, contents: []).mode,
                compressionMethod: kind == .link ? .none : .deflate,
                provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
        }
        try add(PackageListing.listingPath, .file, Array(listing.text.utf8))
        if let signature { try add(PackageListing.signaturePath, .file, Array(signature.text.utf8)) }
        for entry in entries.sorted(by: { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }) {
            try PackagePath.check(entry.path)
            try add(entry.path, entry.kind, entry.contents)
        }
        return Package(bytes: Array(archive.data ?? Data()), listing: listing, signature: signature)
    }
}
