import PaddockCore

/// Runs a flow: every node as soon as the nodes it depends on are done (so
/// independent nodes run at once), each within its own deadline and all
/// within the flow's. A node whose `when` is false, or that depends on a
/// skipped node, is skipped (references to it read null). A node that fails
/// stands in its `fallback` when it declares one; else the run fails with
/// the node's code, and the nodes still running are cancelled.
struct FlowRunner: Sendable {
    /// Makes a node's call with its input; answers its output.
    typealias Perform = @Sendable (FlowNode, JSONValue) async throws -> JSONValue

    let definition: FlowDefinition
    let perform: Perform
    /// Each node's `node_started`, `node_finished` and `node_skipped`.
    let onEvent: @Sendable (JSONValue) -> Void

    private enum Outcome: Sendable {
        case node(String, Result<JSONValue, PaddockError>, endedMs: Double)
        case deadline
    }

    /// Runs the flow from `record` (input and ids set); answers the record at its end.
    func run(_ start: FlowRecord) async -> FlowRecord {
        var record = start
        for (name, template) in definition.variables {
            record.variables[name] = template.render { Self.resolve($0, in: record) }
        }
        let nodes = Dictionary(definition.nodes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let deadline = definition.deadline
        await withTaskGroup(of: Outcome.self) { group in
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(deadline * 1000)))
                return .deadline
            }
            var running: Set<String> = []
            while record.error == nil {
                // Start (or skip) every node whose dependencies are done.
                var changed = true
                while changed {
                    changed = false
                    for node in definition.nodes where record.nodes[node.id] == nil {
                        guard node.dependencies.allSatisfy({ record.nodes[$0]?.isDone == true }) else { continue }
                        changed = true
                        let resolve = { (reference: FlowReference) in Self.resolve(reference, in: record) }
                        let skipped =
                            node.dependencies.contains { record.nodes[$0]?.status == .skipped }
                            || node.when.map { !FlowCondition.isTrue($0.render(resolve)) } == true
                        let now = FlowRecord.now()
                        if skipped {
                            record.nodes[node.id] = .init(kind: node.kind.name, status: .skipped, startedMs: now, endedMs: now)
                            onEvent(["event": "node_skipped", "node": .string(node.id), "at_ms": .double(now)])
                            continue
                        }
                        let input = node.input.render(resolve)
                        record.nodes[node.id] = .init(kind: node.kind.name, status: .running, startedMs: now, input: input)
                        running.insert(node.id)
                        onEvent(["event": "node_started", "node": .string(node.id), "kind": .string(node.kind.name), "at_ms": .double(now)])
                        let perform = self.perform
                        group.addTask {
                            let result = await Self.call(node, input, perform)
                            return .node(node.id, result, endedMs: FlowRecord.now())
                        }
                    }
                }
                guard !running.isEmpty, let outcome = await group.next() else { break }
                switch outcome {
                case .deadline:
                    record.error = PaddockError(
                        .timedOut, "the flow '\(definition.id)' passed its deadline of \(Self.seconds(deadline))",
                        details: ["run": record.run, "node": running.sorted().joined(separator: ",")])
                case .node(let id, let result, let ended):
                    running.remove(id)
                    finish(id, nodes[id]!, result, ended, &record)
                }
            }
            group.cancelAll()
            let now = FlowRecord.now()
            for id in running {
                record.nodes[id]?.status = .cancelled
                record.nodes[id]?.endedMs = now
            }
        }
        record.endedMs = FlowRecord.now()
        if record.error == nil {
            record.output = definition.output.render { Self.resolve($0, in: record) }
            record.status = .succeeded
        } else {
            record.status = .failed
        }
        return record
    }

    /// Records a node's end: its output (or fallback) and the variables it
    /// sets, or the run's error.
    private func finish(_ id: String, _ node: FlowNode, _ result: Result<JSONValue, PaddockError>, _ ended: Double, _ record: inout FlowRecord) {
        record.nodes[id]?.endedMs = ended
        switch result {
        case .success(let output):
            record.nodes[id]?.status = .succeeded
            record.nodes[id]?.output = output
        case .failure(let error):
            record.nodes[id]?.error = error
            if let fallback = node.fallback {
                let output = fallback.render { Self.resolve($0, in: record) }
                record.nodes[id]?.status = .fallback
                record.nodes[id]?.output = output
            } else {
                record.nodes[id]?.status = .failed
                var details = error.details
                details["node"] = id
                details["run"] = record.run
                record.error = PaddockError(error.code, "node '\(id)' failed: \(error.message)", field: error.field, details: details)
            }
        }
        if record.error == nil {
            for (name, template) in node.sets {
                let value = template.render { Self.resolve($0, in: record) }
                record.variables[name] = value
            }
        }
        var event: [String: JSONValue] = [
            "event": "node_finished", "node": .string(id), "status": .string(record.nodes[id]?.status.rawValue ?? ""), "at_ms": .double(ended),
            "duration_ms": .double(FlowRecord.rounded(ended - (record.nodes[id]?.startedMs ?? ended))),
        ]
        if let output = record.nodes[id]?.output { event["output"] = output }
        if case .failure(let error) = result { event["error"] = FlowRecord.json(error) }
        onEvent(.object(event))
    }

    /// The node's call, bounded by its deadline when it has one.
    private static func call(_ node: FlowNode, _ input: JSONValue, _ perform: @escaping Perform) async -> Result<JSONValue, PaddockError> {
        let attempt: @Sendable () async -> Result<JSONValue, PaddockError> = {
            do {
                return .success(try await perform(node, input))
            } catch let error as PaddockError {
                return .failure(error)
            } catch {
                return .failure(PaddockError(.timedOut, "node '\(node.id)' was cancelled"))
            }
        }
        guard let deadline = node.deadline else { return await attempt() }
        return await withTaskGroup(of: Result<JSONValue, PaddockError>?.self) { group in
            group.addTask { await attempt() }
            group.addTask {
                try? await Task.sleep(for: .milliseconds(Int(deadline * 1000)))
                return Task.isCancelled ? nil : .failure(PaddockError(.timedOut, "node '\(node.id)' passed its deadline of \(seconds(deadline))"))
            }
            for await result in group {
                if let result {
                    group.cancelAll()
                    return result
                }
            }
            return .failure(PaddockError(.timedOut, "node '\(node.id)' was cancelled"))
        }
    }

    /// What a reference reads in the run so far (nil: nothing, read as null).
    static func resolve(_ reference: FlowReference, in record: FlowRecord) -> JSONValue? {
        switch reference.root {
        case .input: reference.follow(record.input)
        case .node(let id): record.nodes[id]?.output.flatMap(reference.follow)
        case .variable(let name): record.variables[name].flatMap(reference.follow)
        }
    }

    static func seconds(_ value: Double) -> String {
        value == value.rounded() ? "\(Int(value)) s" : "\(value) s"
    }
}
