import HTTPTypes
import Hummingbird
import NIOCore
import PaddockControl
import PaddockCore

/// `/v1/files...`: a tenant's files. `POST /v1/files` takes a whole file as
/// the body; larger ones go in chunks that may be sent in any order and
/// again after a dropped connection: `POST /v1/files/uploads`, then
/// `PUT /v1/files/uploads/{upload}/chunks/{index}` (with `Content-Range`),
/// the last chunk answering with the file once its digest checks out.
extension Gateway {
    /// The size of the pieces a whole-body upload goes to paddockd in.
    static let uploadPiece = 4 << 20

    /// `POST /v1/files?name=N&md5=H|sha256=H`: the body is the file (`Content-Length` required);
    /// with `Content-Range`, a chunk (``postChunk(_:_:tenant:range:)``).
    func uploadFile(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let tenant = try Self.requiredTenant(request, context)
        if let range = request.headers[.contentRange] { return try await postChunk(request, context, tenant: tenant, range: range) }
        guard let length = request.headers[.contentLength].flatMap(Int.init), length > 0 else {
            throw GatewayError(
                status: .lengthRequired, PaddockError(.configurationMissing, "a file upload needs its Content-Length (and a body)", field: "Content-Length"))
        }
        let query = request.uri.queryParameters
        let name = query.get("name") ?? request.headers[.fileName] ?? "upload"
        let start = FileUploadRequest(
            tenant: tenant, name: name, size: length, chunkSize: Self.uploadPiece, contentType: request.headers[.contentType],
            md5: query.get("md5"), sha256: query.get("sha256"))
        let upload = try await supervisor.json(.fileUploadStart, start.params, requestID: context.requestID)
        guard let id = upload["upload"]?.stringValue else { throw GatewayError(PaddockError(.internalError, "paddockd started no upload")) }
        do {
            var pending: [UInt8] = []
            var index = 0
            var received = 0
            var last: JSONValue = [:]
            for try await buffer in request.body {
                received += buffer.readableBytes
                guard received <= length else {
                    throw GatewayError(PaddockError(.wrongFormat, "the body is longer than its Content-Length", field: "Content-Length"), fromRequest: true)
                }
                pending += buffer.readableBytesView
                while pending.count >= Self.uploadPiece || (received == length && !pending.isEmpty) {
                    let piece = Array(pending.prefix(Self.uploadPiece))
                    pending.removeFirst(piece.count)
                    last = try await supervisor.json(
                        .fileUploadChunk, FileChunkRequest(tenant: tenant, upload: id, index: index, data: piece).params, requestID: context.requestID)
                    index += 1
                }
            }
            guard received == length, let file = last["file"], file != .null else {
                throw GatewayError(PaddockError(.wrongFormat, "the body is shorter than its Content-Length", field: "Content-Length"), fromRequest: true)
            }
            return Self.json(file, status: .created)
        } catch {
            _ = try? await supervisor.call(.fileUploadAbort, TenantRequest(tenant: tenant, id: id).params)
            throw error
        }
    }

    /// `POST /v1/files/uploads {"name", "size", "md5"? | "sha256"?, "chunk_size"?, "content_type"?}`.
    func startUpload(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let tenant = try Self.requiredTenant(request, context)
        let body = try await jsonBody(request)
        var params = body.merging(["tenant": .string(tenant)])
        if case .object(let fields) = body, let unknown = fields.keys.sorted().first(where: {
            !["name", "size", "md5", "sha256", "chunk_size", "content_type"].contains($0)
        }) {
            throw GatewayError(PaddockError(.wrongFormat, "an upload takes name, size, md5, sha256, chunk_size, content_type; not '\(unknown.prefix(64))'", field: unknown), fromRequest: true)
        }
        do throws(PaddockError) {
            params = try FileUploadRequest(params: params).params
        } catch {
            throw GatewayError(error, fromRequest: true)
        }
        return Self.json(try await supervisor.json(.fileUploadStart, params, requestID: context.requestID), status: .created)
    }

    /// `PUT /v1/files/uploads/{upload}/chunks/{index}`: the chunk as the body;
    /// `Content-Range: bytes S-E/T`, when sent, must be the chunk's.
    func putChunk(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let tenant = try Self.requiredTenant(request, context)
        let upload = try context.parameters.require("upload")
        guard let index = Int(try context.parameters.require("index")), index >= 0 else {
            throw GatewayError(PaddockError(.wrongFormat, "the chunk index is a number from 0", field: "index"), fromRequest: true)
        }
        let data = Array(buffer: try await request.body.collect(upTo: 8 << 20))
        var chunk = FileChunkRequest(tenant: tenant, upload: upload, index: index, data: data)
        if let range = request.headers[.contentRange] {
            let (start, end, total) = try Self.contentRange(range)
            guard end - start + 1 == data.count else {
                throw GatewayError(PaddockError(.wrongFormat, "Content-Range names \(end - start + 1) bytes; the body has \(data.count)", field: "Content-Range"), fromRequest: true)
            }
            chunk.offset = start
            chunk.total = total
        }
        return try await relay(.fileUploadChunk, chunk.params, context)
    }

    /// `POST /v1/files` with `Content-Range: bytes S-E/T`, as the seed's uploader
    /// sends chunks: without `X-Upload-Id` the first chunk starts the upload
    /// (`?name=`, `?md5=` or `?sha256=` for the whole file, `X-Chunk-Size` or
    /// this chunk's length as the chunk size); with it, a chunk of that upload.
    /// `X-Chunk-Index` is the chunk's index (default: its start over the chunk
    /// size). The answer is the upload's progress (its id in `upload`), with
    /// `file` once the last chunk is in.
    private func postChunk(_ request: Request, _ context: GatewayContext, tenant: String, range: String) async throws -> Response {
        let (start, end, total) = try Self.contentRange(range)
        let data = Array(buffer: try await request.body.collect(upTo: 8 << 20))
        guard end - start + 1 == data.count else {
            throw GatewayError(PaddockError(.wrongFormat, "Content-Range names \(end - start + 1) bytes; the body has \(data.count)", field: "Content-Range"), fromRequest: true)
        }
        let progress: JSONValue
        if let id = request.headers[.uploadID] {
            progress = try await supervisor.json(.fileUploadStatus, TenantRequest(tenant: tenant, id: id).params, requestID: context.requestID)
        } else {
            let query = request.uri.queryParameters
            let chunkSize = request.headers[.chunkSize].flatMap(Int.init) ?? data.count
            let start = FileUploadRequest(
                tenant: tenant, name: query.get("name") ?? request.headers[.fileName] ?? "upload", size: total, chunkSize: chunkSize,
                contentType: request.headers[.contentType], md5: query.get("md5"), sha256: query.get("sha256"))
            progress = try await supervisor.json(.fileUploadStart, start.params, requestID: context.requestID)
        }
        guard let upload = progress["upload"]?.stringValue, let chunkSize = progress["chunk_size"]?.numberValue.map({ Int($0) }), chunkSize > 0 else {
            throw GatewayError(PaddockError(.internalError, "paddockd answered no upload"))
        }
        let given = request.headers[.chunkIndex]
        guard let index = given.map({ Int($0) }) ?? start / chunkSize, index >= 0 else {
            throw GatewayError(PaddockError(.wrongFormat, "X-Chunk-Index is a number from 0", field: "X-Chunk-Index"), fromRequest: true)
        }
        let chunk = FileChunkRequest(tenant: tenant, upload: upload, index: index, data: data, offset: start, total: total)
        return try await relay(.fileUploadChunk, chunk.params, context)
    }

    /// `bytes S-E/T`.
    static func contentRange(_ text: String) throws(GatewayError) -> (Int, Int, Int) {
        let parts = text.split(whereSeparator: { $0 == " " || $0 == "-" || $0 == "/" })
        guard parts.count == 4, parts[0] == "bytes", let start = Int(parts[1]), let end = Int(parts[2]), let total = Int(parts[3]),
            start >= 0, end >= start, total > end
        else {
            throw GatewayError(PaddockError(.wrongFormat, "Content-Range is 'bytes START-END/TOTAL'", field: "Content-Range"), fromRequest: true)
        }
        return (start, end, total)
    }

    /// `GET`, `DELETE /v1/files/uploads/{upload}`, `GET /v1/files/{id}/info`, `DELETE /v1/files/{id}`, `GET /v1/files`.
    func file(_ method: ControlMethod, _ request: Request, _ context: GatewayContext, key: String = "id") async throws -> Response {
        let tenant = try Self.requiredTenant(request, context)
        return try await relay(method, TenantRequest(tenant: tenant, id: context.parameters.get(key) ?? "").params, context)
    }

    /// `GET /v1/files/{id}`: the file, read from paddockd a piece at a time as the client takes it.
    func downloadFile(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let tenant = try Self.requiredTenant(request, context)
        let id = try context.parameters.require("id")
        let info = try await supervisor.json(.fileInfo, TenantRequest(tenant: tenant, id: id).params, requestID: context.requestID)
        let size = info["size"]?.numberValue.map { Int($0) } ?? 0
        let name = info["name"]?.stringValue ?? id
        var headers: HTTPFields = [
            .contentType: info["content_type"]?.stringValue ?? "application/octet-stream", .contentLength: String(size),
            .contentDisposition: "attachment; filename*=UTF-8''" + Self.percentEncoded(name),
        ]
        if let sha256 = info["sha256"]?.stringValue { headers[.eTag] = "\"\(sha256)\"" }
        let pieces = FilePieces(supervisor: supervisor, request: FileReadRequest(tenant: tenant, id: id, offset: 0, length: Self.uploadPiece), size: size)
        return Response(status: .ok, headers: headers, body: .init(asyncSequence: pieces))
    }

    static func percentEncoded(_ text: String) -> String {
        text.utf8.map { byte in
            let plain = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || "-._~".utf8.contains(byte)
            return plain ? String(UnicodeScalar(byte)) : "%" + (byte < 16 ? "0" : "") + String(byte, radix: 16, uppercase: true)
        }.joined()
    }
}

/// A file's bytes as pieces read from paddockd when the response asks for
/// the next one: a slow client holds up nothing but its own download.
struct FilePieces: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let supervisor: SupervisorClient
    let request: FileReadRequest
    let size: Int

    struct AsyncIterator: AsyncIteratorProtocol {
        let supervisor: SupervisorClient
        var request: FileReadRequest
        let size: Int

        mutating func next() async throws -> ByteBuffer? {
            guard request.offset < size else { return nil }
            let answer = try await supervisor.json(.fileRead, request.params)
            guard let data = answer["data"]?.stringValue.flatMap(Base64.decode), !data.isEmpty else {
                throw PaddockError(.internalError, "the file ended before its size")
            }
            request.offset += data.count
            return ByteBuffer(bytes: data)
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(supervisor: supervisor, request: request, size: size)
    }
}

extension HTTPField.Name {
    static let fileName = HTTPField.Name("X-File-Name")!
    static let uploadID = HTTPField.Name("X-Upload-Id")!
    static let chunkIndex = HTTPField.Name("X-Chunk-Index")!
    static let chunkSize = HTTPField.Name("X-Chunk-Size")!
}
