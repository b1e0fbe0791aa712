import PaddockCore
import PaddockRPC

/// What a plugin may call back into the host. Each call is checked against
/// the calling plugin's manifest before anything happens: a missing
/// permission is 104 naming it. The services themselves come with the
/// storage issue; until then an allowed call is a clear 105.
enum HostService {
    /// The permission a host method needs, or nil when no plugin may call it.
    static func requiredPermission(for method: String, in manifest: Manifest) -> (granted: Bool, name: String)? {
        let permission = manifest.permission
        switch method {
        case _ where method.hasPrefix("storage."):
            return (permission.storage.bytes > 0, "permission.storage")
        case "tool.invoke":
            return (permission.tools, "permission.tools")
        case "model.invoke":
            return (permission.llms, "permission.llms")
        case "app.list", "app.get":
            return (permission.apps != .none, "permission.apps: read")
        case "app.invoke":
            return (permission.apps == .write, "permission.apps: write")
        default:
            return nil
        }
    }

    /// Answers a request from the plugin.
    static func answer(method: String, manifest: Manifest, reply: RPCReply, log: PluginLog) {
        guard let (granted, name) = requiredPermission(for: method, in: manifest) else {
            reply.fail(RPCError(PaddockError(.unparsableData, "the host has no method '\(method)'"), code: RPCError.methodNotFound))
            return
        }
        guard granted else {
            log.write("warn", "denied \(method): the manifest does not declare \(name)")
            reply.fail(RPCError(PaddockError(.permissionDenied, "\(method) needs \(name) in the manifest", details: ["permission": name])))
            return
        }
        reply.fail(RPCError(PaddockError(.dependencyUnavailable, "\(method) is not available yet in this version of Paddock")))
    }
}
