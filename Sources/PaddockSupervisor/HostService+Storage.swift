import PaddockCore
import PaddockStorage

/// The `storage.*` host methods (docs/protocol.md, "Storage").
enum StorageMethod: String {
    case get = "storage.get", set = "storage.set", delete = "storage.delete", list = "storage.list", usage = "storage.usage"
    case blobBegin = "storage.blob.begin", blobAppend = "storage.blob.append", blobCommit = "storage.blob.commit"
    case blobGet = "storage.blob.get", blobDelete = "storage.blob.delete"
}

extension HostService {
    /// A storage method in the calling plugin's namespace, under its quota,
    /// ready to run on the storage thread; its arguments are checked here.
    func storageOperation(
        _ method: StorageMethod, _ arguments: JSONValue
    ) throws(PaddockError) -> @Sendable (PluginStore) throws(PaddockError) -> JSONValue {
        // The SDKs name the tenant of the call they serve; a plugin may name
        // no other (the quota bounds all its tenants together in any case).
        let tenant = try tenant(arguments) ?? ""
        let namespace = PluginStore.Namespace(plugin: plugin, tenant: tenant)
        let quota = manifest.permission.storage.bytes
        @Sendable func usage(_ store: PluginStore) throws(PaddockError) -> JSONValue { .int(try store.usage(namespace)) }
        switch method {
        case .get:
            let key = try Self.string(arguments, "key")
            return { store throws(PaddockError) in
                .object(["value": try store.get(namespace, key: key).map { .string(Base64.encode($0)) } ?? .null])
            }
        case .set:
            let key = try Self.string(arguments, "key")
            let value = try Self.base64(try Self.string(arguments, "value"), "value")
            let condition: PluginStore.Condition
            if let expected = arguments["expected"], expected != .null {
                guard let text = expected.stringValue else {
                    throw PaddockError(.wrongFormat, "the parameter 'expected' must be a base64 string", field: "expected")
                }
                condition = .matches(try Self.base64(text, "expected"))
            } else {
                condition = arguments["if_absent"] == .bool(true) ? .ifAbsent : .always
            }
            return { store throws(PaddockError) in
                let stored = try store.set(namespace, key: key, value: value, quota: quota, condition: condition)
                return .object(["stored": .bool(stored), "usage": try usage(store)])
            }
        case .delete:
            let key = try Self.string(arguments, "key")
            return { store throws(PaddockError) in
                .object(["deleted": .bool(try store.delete(namespace, key: key)), "usage": try usage(store)])
            }
        case .list:
            let prefix = arguments["prefix"] == nil || arguments["prefix"] == .null ? "" : try Self.string(arguments, "prefix")
            let cursor = arguments["cursor"] == nil || arguments["cursor"] == .null ? nil : try Self.string(arguments, "cursor")
            let limit = try arguments.integer("limit", default: 100, in: 1...PluginStore.maximumPageSize)
            let values = arguments["values"] == .bool(true)
            return { store throws(PaddockError) in
                let page = try store.list(namespace, prefix: prefix, after: cursor, limit: limit, withValues: values)
                let items: [JSONValue] = page.items.map { item in
                    var object: [String: JSONValue] = ["key": .string(item.key), "size": .int(item.size)]
                    if let value = item.value { object["value"] = .string(Base64.encode(value)) }
                    return .object(object)
                }
                return .object(["items": .array(items), "cursor": page.next.map(JSONValue.string) ?? .null])
            }
        case .usage:
            return { store throws(PaddockError) in
                .object(["bytes": try usage(store), "total": .int(try store.usage(plugin: namespace.plugin)), "quota": .int(quota)])
            }
        case .blobBegin:
            let name = try Self.string(arguments, "name")
            let size = try arguments.integer("size", in: 0...PluginStore.maximumSize)
            guard let algorithm = PluginStore.ChecksumAlgorithm.allCases.first(where: { arguments[$0.rawValue] != nil }) else {
                throw PaddockError(.configurationMissing, "storage.blob.begin needs the blob's md5 or sha256", field: "md5")
            }
            let checksum = try Self.string(arguments, algorithm.rawValue)
            return { store throws(PaddockError) in
                let upload = try store.beginBlob(namespace, name: name, size: size, algorithm: algorithm, checksum: checksum, quota: quota)
                return .object(["upload": .int(Int(upload.id)), "received": .int(upload.received)])
            }
        case .blobAppend:
            let upload = Int64(try arguments.integer("upload", in: 1...Int.max))
            let offset = try arguments.integer("offset", in: 0...PluginStore.maximumSize)
            let data = try Self.base64(try Self.string(arguments, "data"), "data")
            return { store throws(PaddockError) in
                .object(["received": .int(try store.appendBlob(namespace, upload: upload, offset: offset, data: data).received)])
            }
        case .blobCommit:
            let upload = Int64(try arguments.integer("upload", in: 1...Int.max))
            return { store throws(PaddockError) in
                let blob = try store.commitBlob(namespace, upload: upload)
                return .object(["name": .string(blob.name), "size": .int(blob.size), blob.algorithm.rawValue: .string(blob.checksum)])
            }
        case .blobGet:
            let name = try Self.string(arguments, "name")
            let offset = try arguments.integer("offset", default: 0, in: 0...PluginStore.maximumSize)
            let length = try arguments.integer("length", default: PluginStore.maximumChunkBytes, in: 0...PluginStore.maximumChunkBytes)
            return { store throws(PaddockError) in
                guard let (data, blob) = try store.readBlob(namespace, name: name, offset: offset, length: length) else {
                    return .object(["data": .null])
                }
                return .object(["data": .string(Base64.encode(data)), "size": .int(blob.size)])
            }
        case .blobDelete:
            let name = try Self.string(arguments, "name")
            return { store throws(PaddockError) in
                .object(["deleted": .bool(try store.deleteBlob(namespace, name: name)), "usage": try usage(store)])
            }
        }
    }
}
