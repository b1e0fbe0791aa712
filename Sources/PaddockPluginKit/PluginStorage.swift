public import PaddockCore

/// The plugin's key-value store on the host (needs `permission.storage`):
/// byte values under UTF-8 keys, within the declared quota (205 beyond it).
/// Values travel in base64; see docs/protocol.md, "Storage".
public struct PluginStorage: Sendable {
    let context: PluginContext

    /// The key's value, or nil.
    public func get(_ key: String) async throws -> [UInt8]? {
        try await context.host("storage.get", ["key": .string(key)])["value"]?.stringValue.flatMap(Base64.decode)
    }

    /// Stores `value`; false when `ifAbsent` found a value or `expected`
    /// (compare-and-set) did not match.
    @discardableResult
    public func set(_ key: String, _ value: [UInt8], ifAbsent: Bool = false, expected: [UInt8]? = nil) async throws -> Bool {
        var params: [String: JSONValue] = ["key": .string(key), "value": .string(Base64.encode(value))]
        if ifAbsent { params["if_absent"] = true }
        if let expected { params["expected"] = .string(Base64.encode(expected)) }
        return try await context.host("storage.set", .object(params))["stored"] == true
    }

    /// Removes `key`; false when there was none.
    @discardableResult
    public func delete(_ key: String) async throws -> Bool {
        try await context.host("storage.delete", ["key": .string(key)])["deleted"] == true
    }

    /// One page of the keys starting with `prefix`, in byte order, and the
    /// cursor of the next page (nil on the last).
    public func keys(prefix: String = "", after cursor: String? = nil, limit: Int = 100) async throws -> (keys: [String], next: String?) {
        var params: [String: JSONValue] = ["prefix": .string(prefix), "limit": .int(limit)]
        if let cursor { params["cursor"] = .string(cursor) }
        let page = try await context.host("storage.list", .object(params))
        return (page["items"]?.arrayValue?.compactMap { $0["key"]?.stringValue } ?? [], page["cursor"]?.stringValue)
    }

    /// The bytes used (keys, values and 32 per entry) and the quota.
    public func usage() async throws -> (bytes: Int, quota: Int) {
        let usage = try await context.host("storage.usage")
        func number(_ key: String) -> Int { if case .int(let value)? = usage[key] { value } else { 0 } }
        return (number("bytes"), number("quota"))
    }
}

extension PluginContext {
    /// The plugin's store on the host.
    public var storage: PluginStorage { PluginStorage(context: self) }
}
