public import Logging

/// The supervisor's log metadata, spelled once. Keys: `plugin` (its id),
/// `generation` (which start of it: 1, 2, ... as restarts go), `pid` (as
/// the host sees it), `call` (the JSON-RPC id of a call to it), `request_id`
/// (the outside request served, see PaddockCore's `RequestID`), `tenant`, `method` (a
/// control method), `code` (a catalog code).
extension Logger {
    /// This logger with `plugin` set, for every line about one plugin.
    public func plugin(_ id: String) -> Logger {
        var logger = self
        logger[metadataKey: "plugin"] = .string(id)
        return logger
    }
}

extension Logger.Metadata {
    /// One process of a plugin: its `generation` and, once it has one, its `pid`.
    public static func process(generation: Int, pid: Int32?) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["generation": .stringConvertible(generation)]
        if let pid { metadata["pid"] = .stringConvertible(pid) }
        return metadata
    }

    /// A call to a plugin: its JSON-RPC `call` id and, when it serves one, the outside `request_id`.
    public static func call(_ id: String, requestID: String?) -> Logger.Metadata {
        var metadata: Logger.Metadata = ["call": .string(id)]
        if let requestID { metadata["request_id"] = .string(requestID) }
        return metadata
    }
}
