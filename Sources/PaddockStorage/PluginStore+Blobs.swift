import Crypto
public import PaddockCore

/// Large values, uploaded in chunks and verified by checksum at commit.
///
/// `begin` reserves the declared size against the quota at once, so an
/// upload can never outgrow it and an interrupted one holds its place;
/// `append` takes the chunk at exactly the offset received so far (a chunk
/// already received is acknowledged again, so a client can resume by
/// re-sending from its last acknowledgement); `commit` checks the size and
/// checksum and replaces any blob of that name. A wrong checksum removes
/// the upload and releases its reservation.
extension PluginStore {
    public enum ChecksumAlgorithm: String, Sendable, CaseIterable {
        case md5, sha256

        var hexLength: Int { self == .md5 ? 32 : 64 }
    }

    /// An upload in progress.
    public struct Upload: Sendable, Equatable {
        public var id: Int64
        public var name: String
        public var size: Int
        /// Bytes received and acknowledged: where the next chunk starts.
        public var received: Int
    }

    /// A committed blob.
    public struct Blob: Sendable, Equatable {
        public var name: String
        public var size: Int
        public var algorithm: ChecksumAlgorithm
        public var checksum: String
    }

    /// The most bytes one chunk or one read may carry.
    public static let maximumChunkBytes = 4 << 20

    /// Starts an upload of `size` bytes, or resumes the one of the same
    /// name, size and checksum.
    /// - Throws: 205 when `size` does not fit in the quota; 102 for a bad
    ///   name, size or checksum.
    public func beginBlob(
        _ namespace: Namespace, name: String, size: Int, algorithm: ChecksumAlgorithm, checksum: String, quota: Int
    ) throws(PaddockError) -> Upload {
        try Self.checkName(name, "name")
        let cost = try Self.cost(name, size, "size")
        let checksum = checksum.lowercased()
        guard checksum.count == algorithm.hexLength, checksum.allSatisfy(\.isHexDigit) else {
            throw PaddockError(
                .wrongFormat, "a \(algorithm.rawValue) checksum is \(algorithm.hexLength) hexadecimal digits", field: "checksum")
        }
        return try database.transaction { () throws(PaddockError) in
            if let existing = try upload(namespace, name: name) {
                if existing.upload.size == size, existing.algorithm == algorithm, existing.checksum == checksum {
                    return existing.upload
                }
                try discard(namespace, existing.upload)
            }
            try charge(namespace, cost, quota: quota)
            try database.query(
                "INSERT INTO storage_uploads (plugin, tenant, name, size, algorithm, checksum) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    .text(namespace.plugin), .text(namespace.tenant), .text(name), .integer(Int64(size)),
                    .text(algorithm.rawValue), .text(checksum),
                ])
            guard let created = try upload(namespace, name: name) else {
                throw PaddockError(.internalError, "the upload of \(name) was not recorded")
            }
            return created.upload
        }
    }

    /// Adds the chunk that starts at `offset`.
    /// - Returns: the upload, with the bytes received so far.
    /// - Throws: 102 for an unknown upload, a gap (the details name the
    ///   expected offset) or bytes past the declared size.
    public func appendBlob(_ namespace: Namespace, upload id: Int64, offset: Int, data: [UInt8]) throws(PaddockError) -> Upload {
        guard data.count <= Self.maximumChunkBytes else {
            throw PaddockError(.wrongFormat, "a chunk carries at most \(Self.maximumChunkBytes) bytes", field: "data")
        }
        guard (0...Self.maximumSize).contains(offset) else {
            throw PaddockError(.wrongFormat, "an offset is 0 to \(Self.maximumSize), not \(offset)", field: "offset")
        }
        return try database.transaction { () throws(PaddockError) in
            var upload = try self.upload(namespace, id: id)
            if offset < upload.received, offset + data.count <= upload.received { return upload }  // a re-sent chunk
            guard offset == upload.received else {
                throw PaddockError(
                    .wrongFormat, "the next chunk of \(upload.name) starts at byte \(upload.received), not \(offset)",
                    field: "offset", details: ["expected_offset": String(upload.received)])
            }
            guard offset + data.count <= upload.size else {
                throw PaddockError(
                    .wrongFormat, "\(upload.name) was declared as \(upload.size) bytes; this chunk ends at \(offset + data.count)",
                    field: "data", details: ["size": String(upload.size)])
            }
            guard !data.isEmpty else { return upload }
            try database.query(
                "INSERT INTO storage_chunks (content, offset, data) VALUES (?, ?, ?)",
                [.integer(id), .integer(Int64(offset)), .blob(data)])
            upload.received += data.count
            try database.query("UPDATE storage_uploads SET received = ? WHERE id = ?", [.integer(Int64(upload.received)), .integer(id)])
            return upload
        }
    }

    /// Verifies the upload's size and checksum and makes it the blob of its
    /// name, replacing an older one.
    /// - Throws: 202 for a checksum mismatch (the upload is removed and its
    ///   reservation released); 102 for an unknown or incomplete upload.
    public func commitBlob(_ namespace: Namespace, upload id: Int64) throws(PaddockError) -> Blob {
        let verdict = try database.transaction { () throws(PaddockError) -> Result<Blob, PaddockError> in
            let upload = try self.upload(namespace, id: id)
            guard upload.received == upload.size else {
                throw PaddockError(
                    .wrongFormat, "\(upload.name) has \(upload.received) of its \(upload.size) bytes; send the rest first",
                    field: "upload", details: ["received": String(upload.received), "size": String(upload.size)])
            }
            let row = try database.query("SELECT algorithm, checksum FROM storage_uploads WHERE id = ?", [.integer(id)]).first
            guard let algorithm = row?[0].text.flatMap(ChecksumAlgorithm.init(rawValue:)), let expected = row?[1].text else {
                throw unknownUpload(id)
            }
            let actual = try digest(content: id, algorithm: algorithm)
            guard actual == expected else {
                try discard(namespace, upload)
                return .failure(
                    PaddockError(
                        .unparsableData, "the \(algorithm.rawValue) of \(upload.name) is \(actual), not the declared \(expected); nothing was kept",
                        field: "checksum", details: ["expected": expected, "actual": actual]))
            }
            if let old = try blob(namespace, name: upload.name) { try deleteBlob(namespace, old) }
            try database.query("DELETE FROM storage_uploads WHERE id = ?", [.integer(id)])
            try database.query(
                "INSERT INTO storage_blobs (plugin, tenant, name, content, size, algorithm, checksum) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    .text(namespace.plugin), .text(namespace.tenant), .text(upload.name), .integer(id),
                    .integer(Int64(upload.size)), .text(algorithm.rawValue), .text(expected),
                ])
            return .success(Blob(name: upload.name, size: upload.size, algorithm: algorithm, checksum: expected))
        }
        return try verdict.get()
    }

    /// Up to `length` bytes of a committed blob from `offset`.
    /// - Returns: the bytes and the blob, or nil when there is no such blob.
    public func readBlob(
        _ namespace: Namespace, name: String, offset: Int = 0, length: Int = maximumChunkBytes
    ) throws(PaddockError) -> (data: [UInt8], blob: Blob)? {
        try Self.checkName(name, "name")
        guard offset >= 0 else { throw PaddockError(.wrongFormat, "an offset cannot be negative (\(offset))", field: "offset") }
        guard (0...Self.maximumChunkBytes).contains(length) else {
            throw PaddockError(
                .wrongFormat, "a read takes 0 to \(Self.maximumChunkBytes) bytes, not \(length)", field: "length",
                details: ["maximum": String(Self.maximumChunkBytes)])
        }
        guard let blob = try blob(namespace, name: name) else { return nil }
        let start = min(offset, blob.size)
        let end = min(blob.size, start + length)
        var data: [UInt8] = []
        data.reserveCapacity(end - start)
        let chunks = try database.query(
            """
            SELECT offset, data FROM storage_chunks WHERE content = ? AND offset < ? AND offset + length(data) > ?
            ORDER BY offset
            """, [.integer(blob.content), .integer(Int64(end)), .integer(Int64(start))])
        for chunk in chunks {
            guard let chunkOffset = chunk[0].integer.map(Int.init), let bytes = chunk[1].blob else { continue }
            let from = max(start, chunkOffset) - chunkOffset
            let to = min(end, chunkOffset + bytes.count) - chunkOffset
            data += bytes[from..<to]
        }
        return (data, blob.info)
    }

    /// Removes a committed blob.
    /// - Returns: whether it existed.
    @discardableResult
    public func deleteBlob(_ namespace: Namespace, name: String) throws(PaddockError) -> Bool {
        try Self.checkName(name, "name")
        return try database.transaction { () throws(PaddockError) in
            guard let blob = try blob(namespace, name: name) else { return false }
            try deleteBlob(namespace, blob)
            return true
        }
    }

    // MARK: Rows

    private struct StoredUpload {
        var upload: Upload
        var algorithm: ChecksumAlgorithm?
        var checksum: String
    }

    private struct StoredBlob {
        var info: Blob
        var content: Int64
        var size: Int { info.size }
    }

    private func upload(_ namespace: Namespace, name: String) throws(PaddockError) -> StoredUpload? {
        try database.query(
            "SELECT id, size, received, algorithm, checksum FROM storage_uploads WHERE plugin = ? AND tenant = ? AND name = ?",
            [.text(namespace.plugin), .text(namespace.tenant), .text(name)]
        ).first.map { row in
            StoredUpload(
                upload: Upload(
                    id: row[0].integer ?? 0, name: name, size: Int(row[1].integer ?? 0), received: Int(row[2].integer ?? 0)),
                algorithm: row[3].text.flatMap(ChecksumAlgorithm.init(rawValue:)), checksum: row[4].text ?? "")
        }
    }

    /// The namespace's upload with this id; another namespace's is unknown here.
    private func upload(_ namespace: Namespace, id: Int64) throws(PaddockError) -> Upload {
        guard
            let row = try database.query(
                "SELECT name, size, received FROM storage_uploads WHERE id = ? AND plugin = ? AND tenant = ?",
                [.integer(id), .text(namespace.plugin), .text(namespace.tenant)]
            ).first, let name = row[0].text
        else { throw unknownUpload(id) }
        return Upload(id: id, name: name, size: Int(row[1].integer ?? 0), received: Int(row[2].integer ?? 0))
    }

    private func blob(_ namespace: Namespace, name: String) throws(PaddockError) -> StoredBlob? {
        try database.query(
            "SELECT content, size, algorithm, checksum FROM storage_blobs WHERE plugin = ? AND tenant = ? AND name = ?",
            [.text(namespace.plugin), .text(namespace.tenant), .text(name)]
        ).first.flatMap { row in
            guard let content = row[0].integer, let size = row[1].integer,
                let algorithm = row[2].text.flatMap(ChecksumAlgorithm.init(rawValue:)), let checksum = row[3].text
            else { return nil }
            return StoredBlob(info: Blob(name: name, size: Int(size), algorithm: algorithm, checksum: checksum), content: content)
        }
    }

    /// Removes an upload and its chunks and releases its reservation.
    private func discard(_ namespace: Namespace, _ upload: Upload) throws(PaddockError) {
        try database.query("DELETE FROM storage_chunks WHERE content = ?", [.integer(upload.id)])
        try database.query("DELETE FROM storage_uploads WHERE id = ?", [.integer(upload.id)])
        try charge(namespace, -(try Self.cost(upload.name, upload.size, "size")), quota: .max)
    }

    private func deleteBlob(_ namespace: Namespace, _ blob: StoredBlob) throws(PaddockError) {
        try database.query("DELETE FROM storage_chunks WHERE content = ?", [.integer(blob.content)])
        try database.query(
            "DELETE FROM storage_blobs WHERE plugin = ? AND tenant = ? AND name = ?",
            [.text(namespace.plugin), .text(namespace.tenant), .text(blob.info.name)])
        try charge(namespace, -(try Self.cost(blob.info.name, blob.size, "size")), quota: .max)
    }

    private func digest(content: Int64, algorithm: ChecksumAlgorithm) throws(PaddockError) -> String {
        var md5 = Insecure.MD5()
        var sha256 = SHA256()
        // Chunk by chunk by offset, so a large blob is never in memory whole.
        var offset: Int64 = -1
        while let row = try database.query(
            "SELECT offset, data FROM storage_chunks WHERE content = ? AND offset > ? ORDER BY offset LIMIT 1",
            [.integer(content), .integer(offset)]
        ).first {
            offset = row[0].integer ?? Int64.max
            let bytes = row[1].blob ?? []
            if algorithm == .md5 { md5.update(data: bytes) } else { sha256.update(data: bytes) }
        }
        return (algorithm == .md5 ? Array(md5.finalize()) : Array(sha256.finalize())).hexString
    }

    private func unknownUpload(_ id: Int64) -> PaddockError {
        PaddockError(.wrongFormat, "there is no upload \(id) in progress here; begin it again", field: "upload")
    }
}
