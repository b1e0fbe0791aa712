import Crypto
import Foundation
import Glibc
public import PaddockCore
import ZIPFoundation

/// Unpacks a package into an empty folder, checking everything before and
/// while it writes: paths, entry types, links, the policy's limits on
/// entries, size and compression ratio (counted as bytes come out, not as
/// the archive claims), the digest, and the signature. On any refusal
/// the caller removes the folder: nothing it wrote is kept.
public struct PackageUnpacker: Sendable {
    /// What an unpacked package is.
    public struct Unpacked: Sendable {
        public var digest: String
        /// The signer's public key (base64), when the package is signed.
        public var signer: String?
        /// Whether the signer is one of the trusted keys.
        public var trusted: Bool
        public var files: Int
        public var bytes: Int
        /// Whether the package carried its listing (`paddock pack` writes
        /// one; a Dify `.difypkg` has none).
        public var listed: Bool
    }

    public var policy: PackagePolicy

    public init(policy: PackagePolicy) {
        self.policy = policy
    }

    /// Unpacks `package` into `directory` (which must exist and be empty).
    /// - Throws: ``PaddockError`` with a ``PackageProblem`` reason, or 302 for a write that failed.
    public func unpack(_ package: [UInt8], into directory: String) throws(PaddockError) -> Unpacked {
        let archive: Archive
        do {
            archive = try Archive(data: Data(package), accessMode: .read)
        } catch {
            throw PackageProblem.notAPackage.error("it is not a zip archive")
        }
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard root >= 0 else { throw Self.writeFailure(directory) }
        defer { close(root) }

        var declared: (listing: String?, signature: String?) = (nil, nil)
        var hashed: [(path: String, kind: PackageEntry.Kind, digest: String)] = []
        var seen = Set<String>()
        var count = 0
        var total = 0
        for entry in archive {
            count += 1
            guard count <= policy.maximumEntries else {
                throw PackageProblem.tooManyEntries.error("it has more than \(policy.maximumEntries) entries")
            }
            var path = entry.path
            let type = try Self.type(of: entry)
            if type == .directory, path.hasSuffix("/") { path.removeLast() }
            try PackagePath.check(path)
            guard seen.insert(path).inserted else {
                throw PackageProblem.duplicateEntry.error("\(PackageProblem.shown(path)) appears twice", path: path)
            }
            if path == PackageListing.listingPath || path == PackageListing.signaturePath {
                guard type == .file else { throw PackageProblem.notAPackage.error("its \(path) is not a file") }
                let text = try read(entry, from: archive, limit: 16 << 20)
                if path == PackageListing.listingPath { declared.listing = text } else { declared.signature = text }
                continue
            }
            guard path != PackageListing.folder, !path.hasPrefix(PackageListing.folder + "/") else {
                throw PackageProblem.unsafePath.error("\(PackageProblem.shown(path)) is inside the package's own folder", path: path)
            }
            switch type {
            case .directory:
                try Self.makeDirectories(root, path, includingLast: true)
            case .symlink:
                guard entry.compressedSize <= 4096 else {
                    throw PackageProblem.linkOutside.error("\(PackageProblem.shown(path)) is a link with an overlong target", path: path)
                }
                let target = Array(Data(try read(entry, from: archive, limit: 4096).utf8))
                try PackagePath.checkLink(from: path, to: target)
                let parent = try Self.makeDirectories(root, path, includingLast: false)
                defer { close(parent) }
                guard symlinkat(String(decoding: target, as: UTF8.self), parent, Self.lastComponent(path)) == 0 else {
                    throw Self.writeFailure(path)
                }
                hashed.append((path, .link, Array(SHA256.hash(data: target)).hexString))
            case .file:
                let executable = Self.mode(of: entry).map { $0 & 0o111 != 0 } ?? false
                let digest = try write(
                    entry, from: archive, at: path, in: root, executable: executable, packageBytes: package.count, total: &total)
                hashed.append((path, executable ? .executable : .file, digest))
            }
        }
        let listing = PackageListing(hashed: hashed)
        // Without a listing it may still be a Dify package (`.difypkg`): the
        // caller decides from its manifest; the digest is then of what was unpacked.
        if let listingText = declared.listing, listing.text != listingText {
            throw PackageProblem.digestMismatch.error("its files are not those its listing names: it changed after it was packed")
        }
        let digest = listing.digest
        var signer: String?
        var trusted = false
        if policy.signature != .off, let text = declared.signature {
            let signature = try PackageSignature(text: text)
            try signature.verify(digest: digest)
            signer = signature.signer
            trusted = policy.trustedKeys.contains(signature.signer)
        }
        if policy.signature == .required {
            guard let signer else { throw PackageProblem.unsigned.error("this daemon requires signed packages and it is not signed") }
            guard trusted else { throw PackageProblem.untrustedSigner.error("it is signed by a key this daemon does not trust (\(signer))") }
        }
        return Unpacked(digest: digest, signer: signer, trusted: trusted, files: hashed.count, bytes: total, listed: declared.listing != nil)
    }

    /// A small entry's contents as text.
    private func read(_ entry: Entry, from archive: Archive, limit: Int) throws(PaddockError) -> String {
        var bytes = Data()
        do {
            let checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                bytes.append(chunk)
                if bytes.count > limit { throw PackageProblem.tooLarge.error("\(PackageProblem.shown(entry.path)) is too large") }
            }
            guard entry.type == .symlink || checksum == entry.checksum else { throw ZIPCorrupt() }
        } catch let error as PaddockError {
            throw error
        } catch {
            throw PackageProblem.notAPackage.error("\(PackageProblem.shown(entry.path)) cannot be read: \(error)")
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes a file entry, counting what comes out against the limits; returns its SHA-256.
    private func write(
        _ entry: Entry, from archive: Archive, at path: String, in root: Int32, executable: Bool, packageBytes: Int, total: inout Int
    ) throws(PaddockError) -> String {
        // What the archive claims is checked first; what comes out is counted below, since a claim can lie.
        // An entry's compressed size cannot exceed the archive's: a claim that it does earns no allowance.
        let compressed = min(Int(clamping: entry.compressedSize), packageBytes)
        let allowance = max(policy.ratioFloorBytes, compressed.multipliedReportingOverflow(by: policy.maximumCompressionRatio).partialValue)
        try check(claimed: Int(clamping: entry.uncompressedSize), allowance: allowance, total: total, path: path)
        let parent = try Self.makeDirectories(root, path, includingLast: false)
        defer { close(parent) }
        let fd = openat(parent, Self.lastComponent(path), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, executable ? 0o755 : 0o644)
        guard fd >= 0 else { throw Self.writeFailure(path) }
        defer { close(fd) }
        var hash = SHA256()
        var written = 0
        let startTotal = total
        do {
            let checksum = try archive.extract(entry, skipCRC32: false) { chunk in
                written += chunk.count
                try check(claimed: written, allowance: allowance, total: startTotal + written - chunk.count, path: path, adding: chunk.count)
                hash.update(data: chunk)
                let ok = chunk.withUnsafeBytes { buffer in
                    var offset = 0
                    while offset < buffer.count {
                        let count = Glibc.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                        if count < 0, errno == EINTR { continue }
                        guard count > 0 else { return false }
                        offset += count
                    }
                    return true
                }
                guard ok else { throw Self.writeFailure(path) }
            }
            guard checksum == entry.checksum else { throw ZIPCorrupt() }
        } catch let error as PaddockError {
            throw error
        } catch {
            throw PackageProblem.notAPackage.error("\(PackageProblem.shown(path)) cannot be unpacked: \(error)", path: path)
        }
        fchmod(fd, executable ? 0o755 : 0o644)
        total += written
        return Array(hash.finalize()).hexString
    }

    private func check(claimed: Int, allowance: Int, total: Int, path: String, adding: Int = -1) throws(PaddockError) {
        let added = adding < 0 ? claimed : adding
        guard claimed <= allowance else {
            throw PackageProblem.compressionRatio.error(
                "\(PackageProblem.shown(path)) unpacks to more than \(policy.maximumCompressionRatio) times its compressed size", path: path)
        }
        guard total + added <= policy.maximumUnpackedBytes else {
            throw PackageProblem.tooLarge.error("it unpacks to more than \(ByteSize(bytes: policy.maximumUnpackedBytes))", path: path)
        }
    }

    private struct ZIPCorrupt: Error, CustomStringConvertible {
        var description: String { "its checksum does not match" }
    }

    /// The entry's type from its Unix mode when it has one: a device, FIFO
    /// or socket is refused (ZIPFoundation would call it a file).
    private static func type(of entry: Entry) throws(PaddockError) -> Entry.EntryType {
        if let mode = mode(of: entry) {
            switch mode & 0o170000 {
            case 0, 0o100000, 0o040000, 0o120000: break
            default: throw PackageProblem.specialFile.error("\(PackageProblem.shown(entry.path)) is a device, FIFO or socket", path: entry.path)
            }
        }
        return entry.type
    }

    /// The Unix mode the archive records for an entry made on Unix. ZIPFoundation
    /// keeps it in an internal field, read here by reflection.
    private static func mode(of entry: Entry) -> UInt32? {
        let mirror = Mirror(reflecting: entry)
        guard let directory = mirror.descendant("centralDirectoryStructure"),
            let attributes = Mirror(reflecting: directory).descendant("externalFileAttributes") as? UInt32,
            let madeBy = Mirror(reflecting: directory).descendant("versionMadeBy") as? UInt16, madeBy >> 8 == 3 || madeBy >> 8 == 19
        else { return nil }
        return attributes >> 16
    }

    /// Opens (creating) the folders of `path` below `root`, never through a link.
    /// - Returns: the folder holding the last component (or, `includingLast`, the last one).
    @discardableResult
    private static func makeDirectories(_ root: Int32, _ path: String, includingLast: Bool) throws(PaddockError) -> Int32 {
        var components = path.split(separator: "/").map(String.init)
        if !includingLast { components.removeLast() }
        var folder = dup(root)
        for component in components {
            if mkdirat(folder, component, 0o755) != 0, errno != EEXIST {
                close(folder)
                throw writeFailure(path)
            }
            let next = openat(folder, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            close(folder)
            guard next >= 0 else {
                throw PackageProblem.linkOutside.error("\(PackageProblem.shown(path)) goes through a link or a file", path: path)
            }
            folder = next
        }
        if includingLast { close(folder); return -1 }
        return folder
    }

    private static func lastComponent(_ path: String) -> String {
        String(path.split(separator: "/").last ?? "")
    }

    private static func writeFailure(_ path: String) -> PaddockError {
        if errno == EEXIST { return PackageProblem.duplicateEntry.error("\(PackageProblem.shown(path)) appears twice", path: path) }
        return PaddockError(.fileLimitExceeded, "cannot unpack \(PackageProblem.shown(path)): \(String(cString: strerror(errno)))")
    }
}
