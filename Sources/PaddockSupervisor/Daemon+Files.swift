import PaddockControl
import PaddockCore

/// Tenants' files (``FileStore``) for the gateway: uploads in chunks,
/// descriptions, reads, lists and deletes, each within the tenant.
extension Daemon {
    func startUpload(_ request: FileUploadRequest) async throws -> JSONValue {
        try await engine.files.startUpload(
            tenant: request.tenant, name: request.name, size: request.size, chunkSize: request.chunkSize ?? FileStore.defaultChunkSize,
            contentType: request.contentType, md5: request.md5, sha256: request.sha256
        ).json
    }

    /// The upload's progress, and `file` once the last chunk made it.
    func writeChunk(_ request: FileChunkRequest) async throws -> JSONValue {
        let (upload, file) = try await engine.files.writeChunk(
            tenant: request.tenant, upload: request.upload, index: request.index, data: request.data, offset: request.offset, total: request.total)
        var answer = upload.json
        if case .object(var object) = answer {
            object["index"] = .int(request.index)
            object["file"] = file?.json
            answer = .object(object)
        }
        return answer
    }

    func uploadStatus(_ request: TenantRequest) throws -> JSONValue {
        try engine.files.upload(tenant: request.tenant, id: request.id).json
    }

    func abortUpload(_ request: TenantRequest) async throws -> JSONValue {
        try await engine.files.abort(tenant: request.tenant, upload: request.id)
        return ["upload": .string(request.id), "aborted": true]
    }

    func fileInfo(_ request: TenantRequest) throws -> JSONValue {
        try engine.files.existing(request.id, tenant: request.tenant).json
    }

    func readFile(_ request: FileReadRequest) async throws -> JSONValue {
        let size = try engine.files.existing(request.id, tenant: request.tenant).size
        let data = try await engine.files.read(request.id, tenant: request.tenant, offset: request.offset, length: request.length)
        return ["data": .string(Base64.encode(data)), "size": .int(size), "offset": .int(request.offset)]
    }

    func listFiles(_ request: TenantRequest) async throws -> JSONValue {
        let files = try await engine.files.list(tenant: request.tenant)
        let usage = engine.files.usage(tenant: request.tenant)
        return ["tenant": .string(request.tenant), "files": .array(files.map(\.json)), "bytes": .int(usage.bytes), "quota": .int(usage.quota)]
    }

    func deleteFile(_ request: TenantRequest) async throws -> JSONValue {
        try await engine.files.delete(request.id, tenant: request.tenant)
        return ["id": .string(request.id), "deleted": true]
    }
}
