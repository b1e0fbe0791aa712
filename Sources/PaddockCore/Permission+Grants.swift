extension Permission {
    /// What the permission allows, one line each (`network: true`,
    /// `storage: 10 MB`...), nothing for what it denies.
    public var grants: [String] {
        var lines: [String] = []
        if tools { lines.append("tools: true (may call other plugins' tools)") }
        if llms { lines.append("llms: true (may call model plugins)") }
        if flows { lines.append("flows: true (may run the flows of the tenant it serves)") }
        if apps != .none { lines.append("apps: \(apps.rawValue)") }
        if storage.bytes > 0 { lines.append("storage: \(storage)") }
        if network { lines.append("network: true (outbound connections)") }
        if !endpoints.isEmpty { lines.append("endpoints: \(endpoints.map(\.rawValue).joined(separator: ", "))") }
        return lines
    }

    /// What this permission allows that `old` did not, one line each
    /// (`network: false → true`): empty when it allows nothing more.
    public func widening(from old: Permission) -> [String] {
        var lines: [String] = []
        if tools, !old.tools { lines.append("tools: false → true (may call other plugins' tools)") }
        if llms, !old.llms { lines.append("llms: false → true (may call model plugins)") }
        if flows, !old.flows { lines.append("flows: false → true (may run the flows of the tenant it serves)") }
        let order: [AppAccess] = [.none, .read, .write]
        if order.firstIndex(of: apps)! > order.firstIndex(of: old.apps)! { lines.append("apps: \(old.apps.rawValue) → \(apps.rawValue)") }
        if storage > old.storage { lines.append("storage: \(old.storage) → \(storage)") }
        if network, !old.network { lines.append("network: false → true (outbound connections)") }
        let added = endpoints.filter { !old.endpoints.contains($0) }
        if !added.isEmpty { lines.append("endpoints: + \(added.map(\.rawValue).joined(separator: ", "))") }
        return lines
    }
}
