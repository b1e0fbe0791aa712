public import PaddockCore

/// `file.upload.start {"tenant", "name", "size", "chunk_size"?, "content_type"?, "md5"?, "sha256"?}`:
/// an upload of a tenant's file in chunks; the digests given are checked when the last chunk is in.
public struct FileUploadRequest: ControlRequest {
    public var tenant: String
    public var name: String
    public var size: Int
    public var chunkSize: Int?
    public var contentType: String?
    public var md5: String?
    public var sha256: String?

    public init(
        tenant: String, name: String, size: Int, chunkSize: Int? = nil, contentType: String? = nil, md5: String? = nil, sha256: String? = nil
    ) {
        self.tenant = tenant
        self.name = name
        self.size = size
        self.chunkSize = chunkSize
        self.contentType = contentType
        self.md5 = md5
        self.sha256 = sha256
    }

    public init(params: JSONValue) throws(PaddockError) {
        tenant = try params.requiredTenant()
        name = try params.required("name")
        size = try params.integer("size", in: 0...Int.max)
        chunkSize = params["chunk_size"] == nil ? nil : try params.integer("chunk_size", in: 0...Int.max)
        contentType = params["content_type"]?.stringValue
        md5 = params["md5"]?.stringValue
        sha256 = params["sha256"]?.stringValue
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = ["tenant": .string(tenant), "name": .string(name), "size": .int(size)]
        object["chunk_size"] = chunkSize.map(JSONValue.int)
        object["content_type"] = contentType.map(JSONValue.string)
        object["md5"] = md5.map(JSONValue.string)
        object["sha256"] = sha256.map(JSONValue.string)
        return .object(object)
    }
}

/// `file.upload.chunk {"tenant", "upload", "index", "data": base64, "offset"?, "total"?}`:
/// one chunk (again, when resent); `offset` and `total`, when given (an HTTP
/// `Content-Range`), must be the chunk's and the file's.
public struct FileChunkRequest: ControlRequest {
    public var tenant: String
    public var upload: String
    public var index: Int
    public var data: [UInt8]
    public var offset: Int?
    public var total: Int?

    public init(tenant: String, upload: String, index: Int, data: [UInt8], offset: Int? = nil, total: Int? = nil) {
        self.tenant = tenant
        self.upload = upload
        self.index = index
        self.data = data
        self.offset = offset
        self.total = total
    }

    public init(params: JSONValue) throws(PaddockError) {
        tenant = try params.requiredTenant()
        upload = try params.required("upload")
        index = try params.integer("index", in: 0...Int.max)
        guard let text = params["data"]?.stringValue, let data = Base64.decode(text) else {
            throw PaddockError(.wrongFormat, "data is the chunk in base64", field: "data")
        }
        self.data = data
        offset = params["offset"] == nil ? nil : try params.integer("offset", in: 0...Int.max)
        total = params["total"] == nil ? nil : try params.integer("total", in: 0...Int.max)
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = ["tenant": .string(tenant), "upload": .string(upload), "index": .int(index), "data": .string(Base64.encode(data))]
        object["offset"] = offset.map(JSONValue.int)
        object["total"] = total.map(JSONValue.int)
        return .object(object)
    }
}

/// `file.read {"tenant", "id", "offset"?, "length"?}` → `{"data": base64, "size"}`:
/// up to 8 MiB of a file from `offset`.
public struct FileReadRequest: ControlRequest {
    public var tenant: String
    public var id: String
    public var offset: Int
    public var length: Int

    public init(tenant: String, id: String, offset: Int = 0, length: Int = 4 << 20) {
        self.tenant = tenant
        self.id = id
        self.offset = offset
        self.length = length
    }

    public init(params: JSONValue) throws(PaddockError) {
        tenant = try params.requiredTenant()
        id = try params.required("id")
        offset = try params.integer("offset", default: 0, in: 0...Int.max)
        length = try params.integer("length", default: 4 << 20, in: 0...Int.max)
    }

    public var params: JSONValue {
        ["tenant": .string(tenant), "id": .string(id), "offset": .int(offset), "length": .int(length)]
    }
}
