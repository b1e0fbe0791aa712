import Crypto
import Foundation
import Glibc
import NIOPosix
import PaddockCore
import Synchronization

/// Files tenants upload (whole, or in chunks that may come in any order and
/// again) and plugins create, in `<data>/files`: each tenant's own, within
/// its quota, gone after their lifetime. A file is known by an id that
/// cannot be guessed (`file-` and 32 hex digits); plugins get a file's
/// description, never a path, and read it through the host.
public final class FileStore: Sendable {
    public struct Limits: Sendable {
        /// The largest file.
        public var maximumFileSize = 1 << 30
        /// What one tenant's files (and uploads under way) may take together.
        public var tenantQuota = 2 << 30
        /// Seconds a file (or an unfinished upload) is kept.
        public var lifetime = 86_400
        /// Uploads one tenant may have under way.
        public var maximumUploads = 16
        /// Files one tenant may keep (and uploads under way), whatever their sizes.
        public var maximumFiles = 10_000

        public init() {}
    }

    /// A stored file.
    struct Record: Sendable, Codable {
        var id: String
        var tenant: String
        var name: String
        var contentType: String
        var size: Int
        var md5: String
        var sha256: String
        var createdAt: Int
        var expiresAt: Int

        /// What clients and plugins see of it.
        var json: JSONValue {
            [
                "id": .string(id), "name": .string(name), "content_type": .string(contentType), "size": .int(size), "md5": .string(md5),
                "sha256": .string(sha256), "created_at": .int(createdAt), "expires_at": .int(expiresAt),
            ]
        }
    }

    /// An upload under way.
    struct Upload: Sendable, Codable {
        var id: String
        var tenant: String
        var name: String
        var contentType: String
        var size: Int
        var chunkSize: Int
        var md5: String?
        var sha256: String?
        var received: Set<Int>
        var createdAt: Int
        var expiresAt: Int
        /// The last chunks are being checked and the file made: no more writes.
        var completing = false

        var chunks: Int { (size + chunkSize - 1) / chunkSize }

        /// The bytes chunk `index` holds.
        func length(of index: Int) -> Int { min(chunkSize, size - index * chunkSize) }

        var json: JSONValue {
            [
                "upload": .string(id), "name": .string(name), "size": .int(size), "chunk_size": .int(chunkSize), "chunks": .int(chunks),
                "received": .array(received.sorted().map(JSONValue.int)), "expires_at": .int(expiresAt),
            ]
        }
    }

    /// Chunks are 64 KiB to 8 MiB (each goes to paddockd in one control frame).
    static let chunkSizes = (64 << 10)...(8 << 20)
    public static let defaultChunkSize = 5 << 20
    /// The most a plugin reads (or creates) in one host call.
    static let largestPiece = 8 << 20

    private struct State {
        var files: [String: Record] = [:]
        var uploads: [String: Upload] = [:]
    }

    let directory: String
    let limits: Limits
    private let state = Mutex(State())
    private let disk = NIOThreadPool(numberOfThreads: 1)

    /// The store in `directory` (made 0700 when missing), with the files and
    /// uploads left there: expired ones and broken ones are removed.
    init(directory: String, limits: Limits) {
        self.directory = directory
        self.limits = limits
        disk.start()
        for folder in [directory, directory + "/.uploads"] { mkdir(folder, 0o700) }
        var loaded = State()
        let now = Self.now()
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? [] where Self.isFileID(name) {
            let folder = directory + "/" + name
            guard let record = Self.decode(Record.self, folder + "/meta.json"), record.expiresAt > now else {
                try? FileManager.default.removeItem(atPath: folder)
                continue
            }
            loaded.files[name] = record
        }
        for name in (try? FileManager.default.contentsOfDirectory(atPath: directory + "/.uploads")) ?? [] {
            let folder = directory + "/.uploads/" + name
            guard Self.isUploadID(name), var upload = Self.decode(Upload.self, folder + "/upload.json"), upload.expiresAt > now else {
                try? FileManager.default.removeItem(atPath: folder)
                continue
            }
            upload.completing = false
            loaded.uploads[name] = upload
        }
        state.withLock { $0 = loaded }
    }

    deinit {
        disk.shutdownGracefully { _ in }
    }

    // MARK: Uploads

    /// Starts an upload of `size` bytes in chunks of `chunkSize`.
    /// - Throws: 102 naming the field for a bad name, size, chunk size or
    ///   digest; 205 when the tenant's files would pass its quota; 206 past
    ///   ``Limits/maximumUploads`` uploads under way.
    func startUpload(
        tenant: String, name: String, size: Int, chunkSize: Int, contentType: String?, md5: String?, sha256: String?
    ) async throws -> Upload {
        try Self.checkName(name)
        guard (1...limits.maximumFileSize).contains(size) else {
            throw PaddockError(.wrongFormat, "size must be 1 to \(limits.maximumFileSize) bytes", field: "size", details: ["limit": String(limits.maximumFileSize)])
        }
        guard Self.chunkSizes.contains(chunkSize) else {
            throw PaddockError(.wrongFormat, "chunk_size must be \(Self.chunkSizes.lowerBound) to \(Self.chunkSizes.upperBound) bytes", field: "chunk_size")
        }
        let now = Self.now()
        let upload = Upload(
            id: "upload-" + Self.randomHex(), tenant: tenant, name: name, contentType: try Self.checkedType(contentType), size: size, chunkSize: chunkSize,
            md5: try Self.checkedDigest(md5, field: "md5", length: 32), sha256: try Self.checkedDigest(sha256, field: "sha256", length: 64),
            received: [], createdAt: now, expiresAt: now + limits.lifetime)
        try await sweep()
        try state.withLock { state throws(PaddockError) in
            try check(size, for: tenant, in: state)
            guard state.uploads.values.count(where: { $0.tenant == tenant }) < limits.maximumUploads else {
                throw PaddockError(.rateLimited, "tenant \(tenant) has \(limits.maximumUploads) uploads under way; finish or abort one", details: ["retry_after": "60"])
            }
            state.uploads[upload.id] = upload
        }
        let folder = uploadFolder(upload.id)
        do {
            try await disk.runIfActive {
                try Self.makeFolder(folder) { fd in
                    guard ftruncate(fd, off_t(size)) == 0 else { throw PaddockError(.internalError, "cannot size the upload's file: \(String(cString: strerror(errno)))") }
                }
                try Self.encode(upload, to: folder + "/upload.json")
            }
        } catch {
            forget(upload: upload.id)
            throw error
        }
        return upload
    }

    /// Writes chunk `index` (again, when it was written before). When it is
    /// the last one missing, the file is checked against the digests given
    /// at the start and made: the answer then holds it. A file whose digest
    /// differs is refused and nothing of the upload is kept.
    /// - Throws: 306 for no such upload of this tenant; 102 for an index out
    ///   of range or a chunk of the wrong length; 102 (field `md5`/`sha256`)
    ///   for a digest that differs.
    func writeChunk(
        tenant: String, upload id: String, index: Int, data: [UInt8], offset: Int? = nil, total: Int? = nil
    ) async throws -> (upload: Upload, file: Record?) {
        let upload = try state.withLock { state throws(PaddockError) -> Upload in
            guard let upload = state.uploads[id], upload.tenant == tenant else { throw Self.noUpload(id) }
            guard !upload.completing else { throw PaddockError(.wrongFormat, "the upload is complete; its file is being made", field: "index") }
            return upload
        }
        guard (0..<upload.chunks).contains(index) else {
            throw PaddockError(.wrongFormat, "chunk index must be 0 to \(upload.chunks - 1)", field: "index")
        }
        guard data.count == upload.length(of: index) else {
            throw PaddockError(
                .wrongFormat, "chunk \(index) holds \(upload.length(of: index)) bytes, not \(data.count)", field: "data",
                details: ["expected": String(upload.length(of: index))])
        }
        if let offset, offset != index * upload.chunkSize {
            throw PaddockError(.wrongFormat, "chunk \(index) starts at byte \(index * upload.chunkSize), not \(offset)", field: "Content-Range")
        }
        if let total, total != upload.size {
            throw PaddockError(.wrongFormat, "the file is \(upload.size) bytes, not \(total)", field: "Content-Range")
        }
        let path = uploadFolder(id) + "/data"
        let offset = index * upload.chunkSize
        try await disk.runIfActive {
            let fd = open(path, O_WRONLY | O_CLOEXEC)
            guard fd >= 0 else { throw Self.noUpload(id) }
            defer { close(fd) }
            try Self.writeAll(fd, data, at: offset)
        }
        let (updated, complete) = try state.withLock { state throws(PaddockError) -> (Upload, Bool) in
            guard var current = state.uploads[id] else { throw Self.noUpload(id) }
            current.received.insert(index)
            let complete = current.received.count == current.chunks && !current.completing
            if complete { current.completing = true }
            state.uploads[id] = current
            return (current, complete)
        }
        guard complete else {
            try? await disk.runIfActive { try Self.encode(updated, to: self.uploadFolder(id) + "/upload.json") }
            return (updated, nil)
        }
        return (updated, try await finish(updated))
    }

    /// Checks a complete upload's digests and makes its file.
    private func finish(_ upload: Upload) async throws -> Record {
        let folder = uploadFolder(upload.id)
        let (md5, sha256) = try await disk.runIfActive { try Self.digests(of: folder + "/data") }
        for (field, expected, actual) in [("md5", upload.md5, md5), ("sha256", upload.sha256, sha256)] {
            guard let expected, expected != actual else { continue }
            try? await discard(upload.id)
            throw PaddockError(
                .wrongFormat, "the uploaded file's \(field.uppercased()) is \(actual), not \(expected): nothing is kept", field: field,
                details: ["expected": expected, "actual": actual])
        }
        let now = Self.now()
        let record = Record(
            id: "file-" + Self.randomHex(), tenant: upload.tenant, name: upload.name, contentType: upload.contentType, size: upload.size, md5: md5,
            sha256: sha256, createdAt: now, expiresAt: now + limits.lifetime)
        let target = fileFolder(record.id)
        try await disk.runIfActive {
            guard mkdir(target, 0o700) == 0, rename(folder + "/data", target + "/data") == 0 else {
                throw PaddockError(.internalError, "cannot keep the uploaded file: \(String(cString: strerror(errno)))")
            }
            try Self.encode(record, to: target + "/meta.json")
            try? FileManager.default.removeItem(atPath: folder)
        }
        state.withLock { state in
            state.uploads[upload.id] = nil
            state.files[record.id] = record
        }
        return record
    }

    /// An upload of this tenant, to see which chunks it has.
    func upload(tenant: String, id: String) throws(PaddockError) -> Upload {
        guard let upload = state.withLock({ $0.uploads[id] }), upload.tenant == tenant, upload.expiresAt > Self.now() else { throw Self.noUpload(id) }
        return upload
    }

    /// Abandons an upload and what it received.
    func abort(tenant: String, upload id: String) async throws {
        _ = try upload(tenant: tenant, id: id)
        try await discard(id)
    }

    private func discard(_ id: String) async throws {
        forget(upload: id)
        let folder = uploadFolder(id)
        try await disk.runIfActive { try? FileManager.default.removeItem(atPath: folder) }
    }

    private func forget(upload id: String) {
        state.withLock { $0.uploads[id] = nil }
    }

    // MARK: Files

    /// Stores `data` whole as a new file of the tenant (a plugin's result).
    /// - Throws: 102 for a bad name or type, or data over ``largestPiece``; 205 past the quota.
    func create(tenant: String, name: String, contentType: String?, data: [UInt8]) async throws -> Record {
        try Self.checkName(name)
        guard data.count <= min(Self.largestPiece, limits.maximumFileSize) else {
            throw PaddockError(.wrongFormat, "a file made in one call holds at most \(min(Self.largestPiece, limits.maximumFileSize)) bytes", field: "data")
        }
        let type = try Self.checkedType(contentType)
        try await sweep()
        let now = Self.now()
        let record = Record(
            id: "file-" + Self.randomHex(), tenant: tenant, name: name, contentType: type, size: data.count,
            md5: Insecure.MD5.hash(data: data).hex, sha256: SHA256.hash(data: data).hex, createdAt: now, expiresAt: now + limits.lifetime)
        // Counted before it is written, so that two creations cannot both pass the quota.
        try state.withLock { state throws(PaddockError) in
            try check(data.count, for: tenant, in: state)
            state.files[record.id] = record
        }
        let folder = fileFolder(record.id)
        do {
            try await disk.runIfActive {
                try Self.makeFolder(folder) { fd in try Self.writeAll(fd, data, at: 0) }
                try Self.encode(record, to: folder + "/meta.json")
            }
        } catch {
            state.withLock { $0.files[record.id] = nil }
            try? await disk.runIfActive { try? FileManager.default.removeItem(atPath: folder) }
            throw error
        }
        return record
    }

    /// The tenant's file, while it lives.
    func file(_ id: String, tenant: String) -> Record? {
        guard let record = state.withLock({ $0.files[id] }), record.tenant == tenant, record.expiresAt > Self.now() else { return nil }
        return record
    }

    /// The tenant's file, or 306 (not found).
    func existing(_ id: String, tenant: String) throws(PaddockError) -> Record {
        guard let record = file(id, tenant: tenant) else {
            throw PaddockError(
                .pluginUnavailable, "tenant \(tenant) has no file \(String(id.prefix(48)).escapingControlCharacters()) (it may have expired)",
                reason: .notInstalled)
        }
        return record
    }

    /// Up to `length` bytes (at most ``largestPiece``) from `offset`.
    func read(_ id: String, tenant: String, offset: Int, length: Int) async throws -> [UInt8] {
        let record = try existing(id, tenant: tenant)
        guard offset >= 0, length >= 0 else { throw PaddockError(.wrongFormat, "offset and length are 0 or more", field: "offset") }
        let count = min(length, Self.largestPiece, max(0, record.size - offset))
        guard count > 0 else { return [] }
        let path = fileFolder(id) + "/data"
        return try await disk.runIfActive {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw PaddockError(.pluginUnavailable, "the file \(id) is gone", reason: .notInstalled) }
            defer { close(fd) }
            var bytes = [UInt8](repeating: 0, count: count)
            var done = 0
            while done < count {
                let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress! + done, count - done, off_t(offset + done)) }
                if n < 0, errno == EINTR { continue }
                guard n > 0 else { break }
                done += n
            }
            return Array(bytes[..<done])
        }
    }

    /// The tenant's files, newest first.
    func list(tenant: String) async throws -> [Record] {
        try await sweep()
        return state.withLock { $0.files.values.filter { $0.tenant == tenant } }.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
    }

    func delete(_ id: String, tenant: String) async throws {
        _ = try existing(id, tenant: tenant)
        state.withLock { $0.files[id] = nil }
        let folder = fileFolder(id)
        try await disk.runIfActive { try? FileManager.default.removeItem(atPath: folder) }
    }

    /// The bytes a tenant's files and uploads under way take, against its quota.
    func usage(tenant: String) -> (bytes: Int, quota: Int) {
        (state.withLock { Self.used(by: tenant, in: $0) }, limits.tenantQuota)
    }

    /// `arguments` with each `file` parameter given as a file id replaced by
    /// the file's description (``Record/json``), which a plugin reads through the host.
    /// - Throws: 102 naming the parameter for an id that is no file of `tenant`
    ///   (or for any id in a call made for no tenant).
    func describeFiles(in arguments: [String: JSONValue], parameters: [ParameterSchema], tenant: String?) throws(PaddockError) -> [String: JSONValue] {
        var described = arguments
        for parameter in parameters where parameter.type == .file {
            guard case .string(let id)? = arguments[parameter.name] else { continue }
            guard let tenant, let record = file(id, tenant: tenant) else {
                throw PaddockError(
                    .wrongFormat, "'\(parameter.name)' names no file of \(tenant.map { "tenant \($0)" } ?? "a call made for no tenant") (it may have expired)",
                    field: parameter.name)
            }
            described[parameter.name] = record.json
        }
        return described
    }

    // MARK: Helpers

    /// Removes expired files and uploads.
    private func sweep() async throws {
        let now = Self.now()
        let expired = state.withLock { state -> [String] in
            let files = state.files.values.filter { $0.expiresAt <= now }.map(\.id)
            let uploads = state.uploads.values.filter { $0.expiresAt <= now && !$0.completing }.map(\.id)
            for id in files { state.files[id] = nil }
            for id in uploads { state.uploads[id] = nil }
            return files.map(fileFolder) + uploads.map(uploadFolder)
        }
        guard !expired.isEmpty else { return }
        try await disk.runIfActive { for folder in expired { try? FileManager.default.removeItem(atPath: folder) } }
    }

    private func check(_ size: Int, for tenant: String, in state: State) throws(PaddockError) {
        let count = state.files.values.count { $0.tenant == tenant } + state.uploads.values.count { $0.tenant == tenant }
        guard count < limits.maximumFiles else {
            throw PaddockError(
                .storageQuotaExceeded, "tenant \(tenant) keeps \(limits.maximumFiles) files, the most it may; delete some",
                details: ["files": String(limits.maximumFiles)])
        }
        let used = Self.used(by: tenant, in: state)
        guard used + size <= limits.tenantQuota else {
            throw PaddockError(
                .storageQuotaExceeded, "tenant \(tenant)'s files take \(used) of \(limits.tenantQuota) bytes; \(size) more would pass the quota",
                details: ["quota": String(limits.tenantQuota), "used": String(used)])
        }
    }

    private static func used(by tenant: String, in state: State) -> Int {
        state.files.values.reduce(0) { $0 + ($1.tenant == tenant ? $1.size : 0) }
            + state.uploads.values.reduce(0) { $0 + ($1.tenant == tenant ? $1.size : 0) }
    }

    private func fileFolder(_ id: String) -> String { directory + "/" + id }
    private func uploadFolder(_ id: String) -> String { directory + "/.uploads/" + id }

    static func noUpload(_ id: String) -> PaddockError {
        PaddockError(.pluginUnavailable, "no upload \(String(id.prefix(48)).escapingControlCharacters()) (it may have expired)", reason: .notInstalled)
    }

    static func isFileID(_ text: String) -> Bool { isID(text, prefix: "file-") }
    static func isUploadID(_ text: String) -> Bool { isID(text, prefix: "upload-") }

    private static func isID(_ text: String, prefix: String) -> Bool {
        text.hasPrefix(prefix) && text.utf8.count == prefix.utf8.count + 32
            && text.utf8.dropFirst(prefix.utf8.count).allSatisfy { (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains($0) }
    }

    private static func checkName(_ name: String) throws(PaddockError) {
        guard (1...255).contains(name.utf8.count), !name.contains("/"), !name.containsControlCharacters else {
            throw PaddockError(.wrongFormat, "a file's name is 1 to 255 bytes with no '/' or control characters", field: "name")
        }
    }

    private static func checkedType(_ type: String?) throws(PaddockError) -> String {
        guard let type, !type.isEmpty else { return "application/octet-stream" }
        guard type.utf8.count <= 255, !type.containsControlCharacters else {
            throw PaddockError(.wrongFormat, "content_type is at most 255 bytes, no control characters", field: "content_type")
        }
        return type
    }

    private static func checkedDigest(_ digest: String?, field: String, length: Int) throws(PaddockError) -> String? {
        guard let digest else { return nil }
        let lower = digest.lowercased()
        guard lower.utf8.count == length, lower.allSatisfy(\.isHexDigit) else {
            throw PaddockError(.wrongFormat, "\(field) is \(length) hex digits", field: field)
        }
        return lower
    }

    private static func digests(of path: String) throws -> (String, String) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw PaddockError(.internalError, "cannot read the upload: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var md5 = Insecure.MD5()
        var sha256 = SHA256()
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { break }
            buffer.withUnsafeBytes { bytes in
                md5.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[..<n]))
                sha256.update(bufferPointer: UnsafeRawBufferPointer(rebasing: bytes[..<n]))
            }
        }
        return (md5.finalize().hex, sha256.finalize().hex)
    }

    /// Makes `folder` (0700) with an empty `data` file (0600), which `fill` then gets open.
    private static func makeFolder(_ folder: String, fill: (Int32) throws -> Void) throws {
        guard mkdir(folder, 0o700) == 0 else { throw PaddockError(.internalError, "cannot make \(folder): \(String(cString: strerror(errno)))") }
        let fd = open(folder + "/data", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw PaddockError(.internalError, "cannot create \(folder)/data: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        try fill(fd)
    }

    private static func writeAll(_ fd: Int32, _ data: [UInt8], at offset: Int) throws {
        var done = 0
        while done < data.count {
            let n = data.withUnsafeBytes { pwrite(fd, $0.baseAddress! + done, data.count - done, off_t(offset + done)) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw PaddockError(.internalError, "cannot write the file: \(String(cString: strerror(errno)))") }
            done += n
        }
    }

    private static func encode(_ value: some Encodable, to path: String) throws {
        let data = try JSONEncoder().encode(value)
        try data.write(to: URL(fileURLWithPath: path + ".tmp"))
        guard rename(path + ".tmp", path) == 0 else { throw PaddockError(.internalError, "cannot write \(path)") }
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ path: String) -> T? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(type, from: data)
    }

    private static func randomHex() -> String {
        var random = SystemRandomNumberGenerator()
        return [random.next() as UInt64, random.next() as UInt64].map { value in
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 16 - digits.count) + digits
        }.joined()
    }

    static func now() -> Int { time(nil) }
}

extension Digest {
    var hex: String { map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined() }
}
