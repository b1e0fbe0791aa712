import Foundation
import PaddockCore

/// The loaded plugins as other plugins see them (`app.list`, `app.get`):
/// what each one is and offers, never its settings.
extension Engine {
    /// Every loaded plugin, by id.
    func apps() async throws -> JSONValue {
        var apps: [JSONValue] = []
        for id in loadedIDs { apps.append(try await summary(id)) }
        return .array(apps)
    }

    /// One plugin with its tools, models and endpoints.
    func app(_ id: String) async throws -> JSONValue {
        let manifest = try manifest(id)
        let encoder = JSONEncoder()
        func json(_ value: some Encodable) throws -> JSONValue { try JSONValue(parsing: Array(try encoder.encode(value))) }
        return try await summary(id).merging([
            "tools": try json(manifest.tools.flatMap(\.items)),
            "models": try json(manifest.models.flatMap(\.items)),
            "endpoints": try json(manifest.endpoints.flatMap(\.items)),
        ])
    }

    private func summary(_ id: String) async throws -> JSONValue {
        let manifest = try manifest(id)
        return .object([
            "id": .string(id), "type": .string(manifest.type.rawValue), "version": .string(manifest.version.description),
            "label": .object(manifest.label.translations.mapValues(JSONValue.string)),
            "description": .object(manifest.description.translations.mapValues(JSONValue.string)),
            "state": .string(try await status(id).state.rawValue),
        ])
    }
}
