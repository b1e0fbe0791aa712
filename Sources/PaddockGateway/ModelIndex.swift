import PaddockControl
import PaddockCore
import Synchronization

/// The chat models of the active model plugins, by the name an OpenAI client
/// uses: the model's own name when no other active plugin has a model of
/// that name, else `plugin/model` (always accepted too). Read from the
/// supervisor's `list` and the ``PluginCatalog``, remembered for two seconds.
final class ModelIndex: Sendable {
    struct Entry: Sendable, Equatable {
        /// The name clients use (``ModelIndex``).
        var name: String
        var plugin: String
        var model: String
        /// The parameters the manifest declares for the model.
        var parameters: Set<String>
    }

    private let supervisor: SupervisorClient
    private let catalog: PluginCatalog
    private let known = Mutex<(entries: [Entry], until: ContinuousClock.Instant)?>(nil)

    init(supervisor: SupervisorClient, catalog: PluginCatalog) {
        self.supervisor = supervisor
        self.catalog = catalog
    }

    /// Every chat model, sorted by name.
    func entries() async throws -> [Entry] {
        let now = ContinuousClock.now
        if let known = known.withLock({ $0 }), known.until > now { return known.entries }
        var found: [Entry] = []
        for record in try await supervisor.json(.list).arrayValue ?? [] where record["lifecycle"] == "active" {
            guard let id = record["id"]?.stringValue, let detail = try? await catalog.detail(id) else { continue }
            for provider in detail.manifest?["models"]?.arrayValue ?? [] {
                for item in provider["items"]?.arrayValue ?? [] where (item["model_type"]?.stringValue ?? "llm") == "llm" {
                    guard let model = item["name"]?.stringValue else { continue }
                    let parameters = Set((item["parameters"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue })
                    found.append(Entry(name: model, plugin: id, model: model, parameters: parameters))
                }
            }
        }
        let counts = Dictionary(found.map { ($0.model, 1) }, uniquingKeysWith: +)
        let entries = found.map { entry in
            var entry = entry
            if counts[entry.model, default: 0] > 1 { entry.name = entry.plugin + "/" + entry.model }
            return entry
        }.sorted { $0.name < $1.name }
        known.withLock { $0 = (entries, now + .seconds(2)) }
        return entries
    }

    /// The model a client named.
    /// - Throws: 404 (306) for no such model; 400 (102) for a name two plugins serve.
    func resolve(_ name: String) async throws -> Entry {
        let entries = try await entries()
        if let entry = entries.first(where: { $0.name == name || $0.plugin + "/" + $0.model == name }) { return entry }
        let shown = String(name.prefix(128)).escapingControlCharacters()
        let serving = entries.filter { $0.model == name }.map(\.name)
        if !serving.isEmpty {
            throw GatewayError(PaddockError(
                .wrongFormat, "several plugins serve a model named '\(shown)': name one of \(serving.joined(separator: ", "))", field: "model"),
                fromRequest: true)
        }
        throw GatewayError(PaddockError(
            .pluginUnavailable, "no active model plugin serves a chat model named '\(shown)' (GET /v1/models lists them)",
            reason: .notInstalled))
    }
}
