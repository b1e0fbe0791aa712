import PaddockControl
import PaddockCore

/// Flows (``FlowDefinition``): each tenant's, stored when they check out
/// against the installed plugins, run with the tenant's settings and
/// storage, and recorded (``FlowStore``).
extension Daemon {
    /// `flow.put`: checks the definition and stores it.
    /// - Throws: the definition's coded problem (``FlowDefinition``), and for
    ///   a node: 104 when it calls a plugin that is not installed, 102 when it
    ///   names a tool, model or endpoint the plugin does not declare or
    ///   references an output field the node's output cannot have.
    func putFlow(_ request: FlowPutRequest) async throws -> JSONValue {
        let size = request.definition.jsonBytes.count
        guard size <= FlowDefinition.largestDefinition else {
            throw PaddockError(.wrongFormat, "a flow's definition is at most \(FlowDefinition.largestDefinition) bytes as JSON, not \(size)", field: "definition")
        }
        let definition = try FlowDefinition(request.definition, id: request.id)
        try await check(definition, tenant: request.tenant)
        let created = try await flows.put(tenant: request.tenant, id: request.id, definition: definition.source)
        return ["id": .string(request.id), "tenant": .string(request.tenant), "nodes": .int(definition.nodes.count), "created": .bool(created)]
    }

    /// `flow.get`: the stored definition.
    func getFlow(_ request: TenantRequest) async throws -> JSONValue {
        ["id": .string(request.id), "tenant": .string(request.tenant), "definition": try await storedFlow(request.tenant, request.id).source]
    }

    func listFlows(_ request: TenantRequest) async throws -> JSONValue {
        let flows = try await flows.list(tenant: request.tenant).map { entry -> JSONValue in
            ["id": .string(entry.id), "updated_at": .int(entry.updatedAt)]
        }
        return ["tenant": .string(request.tenant), "flows": .array(flows)]
    }

    func deleteFlow(_ request: TenantRequest) async throws -> JSONValue {
        guard try await flows.delete(tenant: request.tenant, id: request.id) else { throw Self.noFlow(request.id) }
        return ["id": .string(request.id), "deleted": true]
    }

    /// `flow.runs`: the flow's recent runs, newest first.
    func flowRuns(_ request: TenantRequest) async throws -> JSONValue {
        _ = try await storedFlow(request.tenant, request.id)
        return ["id": .string(request.id), "runs": .array(try await flows.runs(tenant: request.tenant, flow: request.id))]
    }

    /// `flow.show`: one run's record.
    func showFlowRun(_ request: FlowShowRequest) async throws -> JSONValue {
        guard let record = try await flows.run(tenant: request.tenant, id: request.run) else {
            throw PaddockError(.pluginUnavailable, "tenant \(request.tenant) has no run \(request.run.prefix(64))", reason: .notInstalled)
        }
        return record
    }

    /// `flow.run`: runs the stored flow (checked again: plugins may have
    /// changed since it was stored) and records the run.
    /// - Returns: `{"run", "status", "output"}`.
    /// - Throws: the failing node's error, with `details.node` and `details.run`.
    /// - Parameter chain: the plugins the run is made within (a plugin's `flow.run`); its nodes' calls continue it.
    func runFlow(
        _ request: FlowRunRequest, chain: CallChain = .outside, onEvent: @escaping @Sendable (JSONValue) -> Void
    ) async throws -> JSONValue {
        let definition = try await storedFlow(request.tenant, request.id)
        try await check(definition, tenant: request.tenant)
        let start = FlowRecord(run: Self.newRunID(), tenant: request.tenant, flow: request.id, startedMs: FlowRecord.now(), input: request.input)
        try await flows.record(start)
        let tenant = request.tenant
        let requestID = request.requestID
        let runner = FlowRunner(
            definition: definition,
            perform: { [weak self] node, input in
                guard let self else { throw PaddockError(.pluginUnavailable, "paddockd is stopping") }
                return try await self.perform(node, input, tenant: tenant, requestID: requestID, chain: chain)
            },
            onEvent: onEvent)
        let record = await runner.run(start)
        try await flows.record(record)
        if let error = record.error { throw error }
        return ["run": .string(record.run), "status": .string(record.status.rawValue), "output": record.output ?? .null]
    }

    private func storedFlow(_ tenant: String, _ id: String) async throws -> FlowDefinition {
        guard let source = try await flows.definition(tenant: tenant, id: id) else { throw Self.noFlow(id) }
        return try FlowDefinition(source, id: id)
    }

    static func noFlow(_ id: String) -> PaddockError {
        PaddockError(.pluginUnavailable, "no flow named \(String(id.prefix(64)).escapingControlCharacters())", reason: .notInstalled)
    }

    static func newRunID() -> String {
        var random = SystemRandomNumberGenerator()
        return (0..<3).map { _ in String(random.next() as UInt32, radix: 16) }.map { String(repeating: "0", count: 8 - $0.count) + $0 }.joined()
    }

    /// Checks each node against the installed plugins and what `tenant` may call (see ``putFlow(_:)``).
    private func check(_ definition: FlowDefinition, tenant: String?) async throws {
        var outputs: [String: Set<String>] = [:]
        for node in definition.nodes {
            let at = "nodes.\(node.id).\(node.kind.name)"
            outputs[node.id] = node.kind.outputFields
            guard let plugin = node.kind.plugin else { continue }
            guard let manifest = try? await engine.manifest(plugin) else {
                throw PaddockError(
                    .permissionDenied, "node '\(node.id)' calls \(plugin), which is not installed: no tenant may call it", field: at + ".plugin",
                    details: ["node": node.id])
            }
            if let tenant, allowedTenants[plugin].map({ !$0.contains(tenant) }) == true {
                throw PaddockError(
                    .permissionDenied, "node '\(node.id)' calls \(plugin), which tenant \(tenant) may not call", field: at + ".plugin",
                    details: ["node": node.id])
            }
            switch node.kind {
            case .tool(_, let name):
                guard let tool = manifest.tools.flatMap(\.items).first(where: { $0.name == name }) else {
                    throw PaddockError(.wrongFormat, "node '\(node.id)': \(plugin) has no tool \(name)", field: at + ".name", details: ["node": node.id])
                }
                outputs[node.id] = tool.output.map { Set($0.keys) }
            case .model(_, let name):
                guard manifest.models.flatMap(\.items).contains(where: { $0.name == name }) else {
                    throw PaddockError(.wrongFormat, "node '\(node.id)': \(plugin) has no model \(name)", field: at + ".name", details: ["node": node.id])
                }
            case .endpoint(_, let method, let path):
                guard manifest.endpoints.flatMap(\.items).contains(where: { $0.method == method && $0.matches(path) }) else {
                    throw PaddockError(
                        .wrongFormat, "node '\(node.id)': \(plugin) declares no endpoint \(method.rawValue) \(path)", field: at + ".path",
                        details: ["node": node.id])
                }
            case .condition:
                break
            }
        }
        for (owner, field, reference) in definition.references {
            guard case .node(let id) = reference.root, let key = reference.firstKey, let fields = outputs[id] ?? nil, !fields.contains(key) else {
                continue
            }
            let who = owner.map { "node '\($0)'" } ?? "the output"
            throw PaddockError(
                .wrongFormat, "\(who) references \(reference), but node '\(id)''s output has no field '\(key)' (it has \(fields.sorted().joined(separator: ", ")))",
                field: field, details: ["node": owner ?? id])
        }
    }

    /// A node's call, for `tenant`: its output as JSON.
    private func perform(_ node: FlowNode, _ input: JSONValue, tenant: String, requestID: String?, chain: CallChain) async throws -> JSONValue {
        switch node.kind {
        case .tool(let plugin, let name):
            let result = try await engine.invokeTool(
                plugin, tool: name, arguments: input, chain: chain, scope: try await scope(plugin, tenant), requestID: requestID)
            return try JSONValue(parsing: result)
        case .model(let plugin, let name):
            var messages = input["messages"] ?? []
            if let prompt = input["prompt"] {
                let user: JSONValue = ["role": "user", "content": .string(prompt.stringValue ?? prompt.jsonText)]
                messages = input["system"].map { [["role": "system", "content": $0], user] } ?? [user]
            }
            let result = try await engine.invokeModel(
                plugin, model: name, messages: messages, params: input["params"] ?? [:], chain: chain, scope: try await scope(plugin, tenant),
                requestID: requestID)
            return try JSONValue(parsing: result)
        case .endpoint(let plugin, let method, let path):
            return try await callEndpoint(plugin, method, path, input, tenant: tenant, requestID: requestID, chain: chain)
        case .condition(let test):
            let value = input["value"] ?? .null
            return ["result": .bool(test.holds(value, input["operand"] ?? .null)), "value": value]
        }
    }

    /// An endpoint node's call: `query` and `headers` as text, a `body` that
    /// is not a string sent as JSON; the answer's body read as JSON when it
    /// says it is, else as text (base64 in `body_base64` when it is not UTF-8).
    private func callEndpoint(
        _ plugin: String, _ method: HTTPMethod, _ path: String, _ input: JSONValue, tenant: String, requestID: String?, chain: CallChain
    ) async throws -> JSONValue {
        func strings(_ value: JSONValue?) -> [String: String] {
            guard case .object(let members)? = value else { return [:] }
            return members.mapValues { $0.stringValue ?? $0.jsonText }
        }
        var headers = strings(input["headers"])
        let body: [UInt8]
        switch input["body"] ?? .null {
        case .null: body = []
        case .string(let text): body = Array(text.utf8)
        case let value:
            body = value.jsonBytes
            if !headers.keys.contains(where: { $0.lowercased() == "content-type" }) { headers["content-type"] = "application/json" }
        }
        let answer = try JSONValue(parsing: try await engine.invokeEndpoint(
            plugin, method: method, path: path, query: strings(input["query"]), headers: headers, body: body, chain: chain,
            scope: try await scope(plugin, tenant), requestID: requestID))
        let bytes = answer["body"]?.stringValue.flatMap(Base64.decode) ?? []
        let answerHeaders = answer["headers"] ?? [:]
        var result: [String: JSONValue] = ["status": answer["status"] ?? .null, "headers": answerHeaders]
        let type = strings(answerHeaders).first { $0.key.lowercased() == "content-type" }?.value ?? ""
        if type.contains("json"), let parsed = try? JSONValue(parsing: bytes) {
            result["body"] = parsed
        } else if let text = String(validating: bytes, as: UTF8.self) {
            result["body"] = .string(text)
        } else {
            result["body"] = .null
            result["body_base64"] = .string(Base64.encode(bytes))
        }
        return .object(result)
    }
}
