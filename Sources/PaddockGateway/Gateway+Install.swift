import HTTPTypes
import Hummingbird
import NIOCore
import PaddockControl
import PaddockCore

/// `POST /v1/plugins` (admin key): the body is a package (`paddock pack`'s
/// file), installed, or upgraded to, by paddockd. `?yes=true` accepts
/// permissions an upgrade widens, `?force=true` installs a lower version,
/// `?allow_network=true` grants the plugin outbound network.
/// Answered when the install is done (201 a new plugin, 200 an upgrade),
/// or with `Accept: text/event-stream` as `progress` events, then `result`
/// or `error`. `GET /v1/plugins/{id}/versions` and `POST .../rollback`.
extension Gateway {
    /// An install builds its Python environment before it answers: minutes, not the call timeout.
    static let installTimeout = Duration.seconds(3600)

    func installPackage(_ request: Request, _ context: GatewayContext) async throws -> Response {
        let limit = configuration.maximumPackageBytes
        let package: [UInt8]
        do {
            package = Array(buffer: try await request.body.collect(upTo: limit))
        } catch is NIOTooManyBytesError {
            throw GatewayError(
                status: .contentTooLarge,
                PaddockError(
                    .wrongFormat, "the package is larger than \(ByteSize(bytes: limit)) (gateway.yaml limits.package)",
                    details: ["limit": String(limit)]))
        }
        guard !package.isEmpty else {
            throw GatewayError(PaddockError(.configurationMissing, "the request body must be a package (from `paddock pack`)"), fromRequest: true)
        }
        let yes = request.uri.queryParameters.get("yes") == "true"
        let force = request.uri.queryParameters.get("force") == "true"
        let allowNetwork = request.uri.queryParameters.get("allow_network") == "true"
        let wantsEvents = request.headers[.accept]?.contains("text/event-stream") == true
        let install = InstallRequest(.package(package), yes: yes, force: force, stream: wantsEvents, allowNetwork: allowNetwork)
        let supervisor = self.supervisor
        // What the plugin was is stale once it is installed anew: its description and cached results.
        let forget: @Sendable (JSONValue?) -> Void = { [catalog, cache] result in
            guard let id = result?["id"]?.stringValue else { return }
            catalog.forget(id)
            cache.forget(plugin: id)
        }
        guard wantsEvents else {
            let result = try await supervisor.streamingCall(
                .install, install.params, timeout: Self.installTimeout, onChunk: { _ in }, connected: { _ in })
            let answer = try? JSONValue(parsing: result)
            forget(answer)
            let upgraded = answer?["previous_version"] != nil || answer?["unchanged"] != nil
            return Self.raw(result, status: upgraded ? .ok : .created)
        }
        let events = ChunkStream(pause: {}, resume: {})
        let task = Task {
            do {
                let result = try await supervisor.streamingCall(
                    .install, install.params, timeout: Self.installTimeout,
                    onChunk: { chunk in
                        guard let progress = (try? JSONValue(parsing: chunk))?["progress"] else { return }
                        events.yield(Self.event("progress", progress.jsonBytes))
                    }, connected: { _ in })
                forget(try? JSONValue(parsing: result))
                events.yield(Self.event("result", result))
            } catch {
                events.yield(Self.event("error", Self.errorBody(EdgeMiddleware.gatewayError(error).error)))
            }
            events.finish()
        }
        events.onTermination { task.cancel() }
        return Response(status: .ok, headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"], body: .init(asyncSequence: events))
    }

    /// `GET /v1/plugins/{id}/versions` or `POST /v1/plugins/{id}/rollback`.
    func versions(_ method: ControlMethod, _ context: GatewayContext) async throws -> Response {
        let id = try context.parameters.require("id")
        defer {
            if method == .rollback {
                catalog.forget(id)
                cache.forget(plugin: id)
            }
        }
        return try await relay(method, PluginRequest(id).params, context)
    }

    /// An `error` event's data: `{"code", "message", "details"}`.
    static func errorBody(_ error: PaddockError) -> [UInt8] {
        JSONValue.object([
            "code": .int(error.code.rawValue), "message": .string(error.message),
            "details": .object(error.details.mapValues(JSONValue.string)),
        ]).jsonBytes
    }
}
