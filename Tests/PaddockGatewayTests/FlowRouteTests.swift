import Foundation
import PaddockCore
import PaddockTestSupport
import Testing

/// Flows through the gateway and the CLI, on a real paddockd with the
/// text-tools and mini-llm examples: stored per tenant after their checks,
/// run with independent nodes at once, and recorded for inspection.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct FlowRouteTests {
    private func stack() throws -> (RunningGateway, key: String) {
        let stack = try RunningGateway()
        try stack.activate("text-tools")
        try stack.activate("mini-llm")
        return (stack, try stack.key("--tenant", "acme"))
    }

    static let threeNodes = """
        id: reply
        variables: {prefix: "Title:"}
        nodes:
          - id: slug
            tool: {plugin: text-tools, name: slugify}
            input: {text: "{{input.title}}"}
          - id: reply
            model: {plugin: mini-llm, name: mini-chat}
            input: {prompt: "repeat after me {{nodes.slug.output.slug}}", params: {max_tokens: 8}}
            set: {answer: "{{nodes.reply.output.content}}"}
          - id: count
            tool: {plugin: text-tools, name: word_count}
            input: {text: "{{variables.prefix}} {{nodes.slug.output.slug}} {{variables.answer}}"}
        output: {slug: "{{nodes.slug.output.slug}}", answer: "{{variables.answer}}", words: "{{nodes.count.output.words}}", counted: "{{nodes.count.output}}"}
        """

    @Test func aThreeNodeFlowRunsToolModelToolAndIsRecorded() throws {
        let (stack, key) = try stack()
        let put = try stack.request("PUT", "/v1/flows/reply", key: key, headers: ["Content-Type": "application/yaml"], body: Self.threeNodes)
        #expect(put.status == 201 && put.json?["nodes"] == 3, "\(put.text)")
        #expect(try stack.request("PUT", "/v1/flows/reply", key: key, body: Self.threeNodes).status == 200)

        let run = try stack.request("POST", "/v1/flows/reply/runs", key: key, body: #"{"input": {"title": "Hello Big World"}}"#)
        #expect(run.status == 200, "\(run.text)")
        #expect(run.json?["output"]?["slug"] == "hello-big-world")
        #expect(run.json?["output"]?["answer"] == "hello-big-world")
        #expect(run.json?["output"]?["words"] == .int(3), "a whole reference keeps its JSON type: \(run.text)")
        #expect(run.json?["output"]?["counted"]?["characters"] == .int(38))
        let id = try #require(run.json?["run"]?.stringValue)

        let record = try stack.request("GET", "/v1/flows/reply/runs/\(id)", key: key).json
        #expect(record?["status"] == "succeeded" && record?["input"]?["title"] == "Hello Big World")
        #expect(record?["variables"]?["answer"] == "hello-big-world")
        #expect(record?["nodes"]?["count"]?["input"]?["text"] == "Title: hello-big-world hello-big-world")
        for node in ["slug", "reply", "count"] {
            #expect(record?["nodes"]?[node]?["status"] == "succeeded" && record?["nodes"]?[node]?["duration_ms"]?.numberValue != nil)
        }
        let listed = try stack.request("GET", "/v1/flows/reply/runs", key: key).json?["runs"]?.arrayValue
        #expect(listed?.first?["run"] == .string(id))

        // The same through the CLI, for the tenant.
        let cli = try stack.paddock("flow", "run", "reply", "--tenant", "acme", "--input", #"{"title": "a b"}"#)
        #expect(cli.status == 0 && cli.stdout.contains(#""slug":"a-b""#), "\(cli.stderr)")
        let shown = try stack.paddock("flow", "show", "--tenant", "acme", id)
        #expect(shown.status == 0 && shown.stdout.contains(#""run":"\#(id)""#))

        // Node events as server-sent events, then the result.
        let events = try stack.request(
            "POST", "/v1/flows/reply/runs", key: key, headers: ["Accept": "text/event-stream"], body: #"{"input": {"title": "x"}}"#)
        let names = events.text.split(separator: "\n").filter { $0.hasPrefix("event: ") }.map { String($0.dropFirst(7)) }
        #expect(names == ["node_started", "node_finished", "node_started", "node_finished", "node_started", "node_finished", "result"], "\(events.text)")
    }

    @Test func theCustomerSupportExampleOfTheDocsRuns() throws {
        let (stack, key) = try stack()
        try stack.activate("notes")
        let saved = try stack.request(
            "POST", "/v1/plugins/notes/tools/save_note", key: key, body: #"{"title": "Parcels", "text": "A parcel takes two days."}"#)
        #expect(saved.status == 200, "\(saved.text)")
        let put = try stack.paddock("flow", "put", RunningGateway.repository.appendingPathComponent("examples/flows/customer-support.yaml").path, "--tenant", "acme")
        #expect(put.status == 0, "\(put.stderr)")

        let input = #"{"input": {"customer": "Ada", "message": "Hello, where is my parcel?", "keyword": "parcel"}}"#
        let run = try stack.request("POST", "/v1/flows/customer-support/runs", key: key, body: input)
        let output = run.json?["output"]
        #expect(output?["reply"]?.stringValue?.hasPrefix("Hello Ada, Hello!") == true, "\(run.text)")
        #expect(output?["topic"] == "hello-where-is-my-parcel" && output?["sources"]?.arrayValue?.count == 1, "the tenant's notes: \(run.text)")
        #expect(output?["handed_off"] == false && output?["route"] == .null && output?["words"]?.numberValue != nil)

        let refund = try stack.request(
            "POST", "/v1/flows/customer-support/runs", key: key, body: #"{"input": {"customer": "Bo", "message": "I want a refund", "keyword": "refund"}}"#)
        #expect(refund.json?["output"]?["handed_off"] == true && refund.json?["output"]?["route"] == "a person (refund)", "\(refund.text)")
        #expect(refund.json?["output"]?["sources"] == [])
    }

    @Test func badFlowsAreRefusedWhenStoredNamingTheNode() throws {
        let (stack, key) = try stack()
        let tool = "tool: {plugin: text-tools, name: slugify}"
        for (yaml, node, code) in [
            ("nodes: [{id: a, \(tool), input: {text: '{{nodes.b.output.slug}}'}}, {id: b, \(tool), input: {text: '{{nodes.a.output.slug}}'}}]", "a", 102),
            ("nodes: [{id: a, \(tool), input: {text: '{{nodes.ghost.output.slug}}'}}]", "a", 102),
            ("nodes: [{id: a, \(tool)}, {id: b, tool: {plugin: not-installed, name: x}}]", "b", 104),
            ("nodes: [{id: a, tool: {plugin: text-tools, name: no_such_tool}}]", "a", 102),
            ("nodes: [{id: a, model: {plugin: mini-llm, name: no-such-model}, input: {prompt: hi}}]", "a", 102),
            ("nodes: [{id: a, \(tool), input: {text: x}}, {id: b, \(tool), input: {text: '{{nodes.a.output.words}}'}}]", "b", 102),
            ("nodes: [{id: a, model: {plugin: mini-llm, name: mini-chat}, input: {prompt: hi}}, {id: b, \(tool), input: {text: '{{nodes.a.output.text}}'}}]", "b", 102),
            ("nodes: [{id: a, \(tool), tenant: other}]", "a", 102),
        ] {
            let refused = try stack.request("PUT", "/v1/flows/bad", key: key, headers: ["Content-Type": "application/yaml"], body: yaml)
            #expect(refused.json?["code"] == .int(code) && refused.json?["details"]?["node"] == .string(node), "\(yaml): \(refused.text)")
            #expect(refused.json?["message"]?.stringValue?.contains("'\(node)'") == true, "\(refused.text)")
        }
        #expect(try stack.request("GET", "/v1/flows/bad", key: key).status == 404, "nothing refused is stored")
        let description = String(repeating: "d", count: 300 << 10)
        let huge = #"{"description": "\#(description)", "nodes": [{"id": "a", "tool": {"plugin": "text-tools", "name": "slugify"}}]}"#
        for hostile in ["{", "- [", String(repeating: "[", count: 5000), #"{"nodes": "x"}"#, huge] {
            let refused = try stack.request("PUT", "/v1/flows/bad", key: key, body: hostile)
            #expect(refused.status == 400, "\(hostile.prefix(20)): \(refused.text)")
        }
    }

    @Test func aNodeItsTenantMayNotCallIsRefusedWhenStoredAndWhenRun() throws {
        let (stack, key) = try stack()
        let other = try stack.key("--tenant", "other")
        #expect(try stack.request("PUT", "/v1/flows/reply", key: key, headers: ["Content-Type": "application/yaml"], body: Self.threeNodes).status == 201)

        // The operator lets only "other" call mini-llm: acme's flow through it is refused, naming the node.
        let limited = try stack.request("PUT", "/v1/plugins/mini-llm/settings", key: stack.admin, body: #"{"tenants": ["other"]}"#)
        #expect(limited.status == 200, "\(limited.text)")
        let put = try stack.request("PUT", "/v1/flows/reply", key: key, headers: ["Content-Type": "application/yaml"], body: Self.threeNodes)
        #expect(put.status == 403 && put.json?["code"] == .int(104) && put.json?["details"]?["node"] == "reply", "\(put.text)")
        let run = try stack.request("POST", "/v1/flows/reply/runs", key: key, body: #"{"input": {"title": "x"}}"#)
        #expect(run.json?["code"] == .int(104) && run.json?["details"]?["node"] == "reply", "stored before the limit: \(run.text)")
        let direct = #"{"messages": [{"role": "user", "content": "hello"}]}"#
        #expect(try stack.request("POST", "/v1/plugins/mini-llm/models/mini-chat", key: key, body: direct).status == 403)
        #expect(try stack.request("POST", "/v1/plugins/mini-llm/models/mini-chat", key: other, body: direct).status == 200)
        #expect(try stack.request("POST", "/v1/flows/reply/runs", key: other, body: "{}").status == 404)
        #expect(try stack.request("GET", "/v1/plugins/mini-llm", key: stack.admin).json?["tenants"] == ["other"])

        // The limit outlives a restart of paddockd; ["*"] lifts it.
        stack.killDaemon()
        try stack.restartDaemon()
        #expect(try stack.request("POST", "/v1/plugins/mini-llm/models/mini-chat", key: key, body: direct).status == 403)
        for hostile in [#"{"tenants": ["*", "acme"]}"#, #"{"tenants": ["Not A Tenant"]}"#, #"{"tenants": "acme"}"#] {
            #expect(try stack.request("PUT", "/v1/plugins/mini-llm/settings", key: stack.admin, body: hostile).status == 400, "\(hostile)")
        }
        #expect(try stack.request("PUT", "/v1/plugins/mini-llm/settings", key: key, body: #"{"tenants": ["*"]}"#).status == 403)
        #expect(try stack.request("PUT", "/v1/plugins/mini-llm/settings", key: stack.admin, body: #"{"tenants": ["*"]}"#).status == 200)
        #expect(try stack.request("POST", "/v1/flows/reply/runs", key: key, body: #"{"input": {"title": "x"}}"#).status == 200)
    }

    @Test func independentNodesRunAtOnceAndDeadlinesFallbacksAndConditionsHold() throws {
        let (stack, key) = try stack()
        let slow = "tool: {plugin: text-tools, name: split_words}"
        let parallel = """
            {"nodes": [
              {"id": "left", "tool": {"plugin": "text-tools", "name": "split_words"}, "input": {"text": "a b c", "delay_ms": 150}},
              {"id": "right", "tool": {"plugin": "text-tools", "name": "split_words"}, "input": {"text": "d e f", "delay_ms": 150}}],
             "output": {"total": "{{nodes.left.output.count}}"}}
            """
        #expect(try stack.request("PUT", "/v1/flows/parallel", key: key, body: parallel).status == 201)
        let run = try stack.request("POST", "/v1/flows/parallel/runs", key: key, body: "{}")
        #expect(run.json?["output"]?["total"] == .int(3), "\(run.text)")
        let record = try stack.request("GET", "/v1/flows/parallel/runs/\(run.json?["run"]?.stringValue ?? "")", key: key).json
        let left = try #require(record?["nodes"]?["left"]), right = try #require(record?["nodes"]?["right"])
        let (leftStart, leftEnd) = (left["started_ms"]?.numberValue ?? 0, left["ended_ms"]?.numberValue ?? 0)
        let (rightStart, rightEnd) = (right["started_ms"]?.numberValue ?? 0, right["ended_ms"]?.numberValue ?? 0)
        #expect(leftEnd - leftStart >= 400 && rightEnd - rightStart >= 400, "\(left) \(right)")
        #expect(leftStart < rightEnd && rightStart < leftEnd, "the two nodes overlap in time: \(left) \(right)")

        // A node past its own deadline fails the flow with 204 naming it; with a fallback, the flow goes on.
        let late = """
            nodes:
              - {id: late, \(slow), input: {text: "a b c d", delay_ms: 1000}, deadline: 0.3}
              - {id: after, tool: {plugin: text-tools, name: word_count}, input: {text: "{{nodes.late.output.count}} words"}}
            """
        #expect(try stack.request("PUT", "/v1/flows/late", key: key, headers: ["Content-Type": "application/yaml"], body: late).status == 201)
        let failed = try stack.request("POST", "/v1/flows/late/runs", key: key, body: "{}")
        #expect(failed.status == 504 && failed.json?["code"] == .int(204) && failed.json?["details"]?["node"] == "late", "\(failed.text)")
        let failedRun = try #require(failed.json?["details"]?["run"]?.stringValue)
        let failedRecord = try stack.request("GET", "/v1/flows/late/runs/\(failedRun)", key: key).json
        #expect(failedRecord?["status"] == "failed" && failedRecord?["nodes"]?["after"] == nil, "\(String(describing: failedRecord))")

        let fallback = late.replacingOccurrences(of: "deadline: 0.3}", with: "deadline: 0.3, fallback: {count: 0}}")
        #expect(try stack.request("PUT", "/v1/flows/late", key: key, headers: ["Content-Type": "application/yaml"], body: fallback).status == 200)
        let recovered = try stack.request("POST", "/v1/flows/late/runs", key: key, body: "{}")
        #expect(recovered.status == 200, "\(recovered.text)")
        let recoveredRecord = try stack.request("GET", "/v1/flows/late/runs/\(recovered.json?["run"]?.stringValue ?? "")", key: key).json
        #expect(recoveredRecord?["nodes"]?["late"]?["status"] == "fallback" && recoveredRecord?["nodes"]?["late"]?["error"]?["code"] == .int(204))
        #expect(recoveredRecord?["nodes"]?["after"]?["input"]?["text"] == "0 words")

        // The flow's own deadline stops what is still running.
        let overall = "deadline: 0.3\nnodes: [{id: slow, \(slow), input: {text: a b c d, delay_ms: 1000}}]"
        #expect(try stack.request("PUT", "/v1/flows/overall", key: key, headers: ["Content-Type": "application/yaml"], body: overall).status == 201)
        let stopped = try stack.request("POST", "/v1/flows/overall/runs", key: key, body: "{}")
        #expect(stopped.json?["code"] == .int(204) && stopped.json?["details"]?["node"] == "slow", "\(stopped.text)")

        // A condition picks a branch; the other is skipped, and so is what depends on it.
        let branch = """
            nodes:
              - {id: long, condition: {value: "{{input.words}}", greater_than: 3}}
              - {id: slug, tool: {plugin: text-tools, name: slugify}, input: {text: "{{input.text}}"}, when: "{{nodes.long.output.result}}"}
              - {id: after, tool: {plugin: text-tools, name: word_count}, input: {text: "{{nodes.slug.output.slug}}"}}
            output: {slug: "{{nodes.slug.output.slug}}", long: "{{nodes.long.output.result}}"}
            """
        #expect(try stack.request("PUT", "/v1/flows/branch", key: key, headers: ["Content-Type": "application/yaml"], body: branch).status == 201)
        let short = try stack.request("POST", "/v1/flows/branch/runs", key: key, body: #"{"input": {"words": 2, "text": "A B"}}"#)
        #expect(short.json?["output"] == ["slug": nil, "long": false], "\(short.text)")
        let long = try stack.request("POST", "/v1/flows/branch/runs", key: key, body: #"{"input": {"words": 9, "text": "A B"}}"#)
        #expect(long.json?["output"] == ["slug": "a-b", "long": true], "\(long.text)")
    }

    @Test func flowsBelongToTheirTenant() throws {
        let (stack, key) = try stack()
        let other = try stack.key("--tenant", "other")
        let flow = #"{"nodes": [{"id": "a", "tool": {"plugin": "text-tools", "name": "slugify"}, "input": {"text": "{{input.t}}"}}]}"#
        #expect(try stack.request("PUT", "/v1/flows/mine", key: key, body: flow).status == 201)
        let run = try stack.request("POST", "/v1/flows/mine/runs", key: key, body: #"{"input": {"t": "secret title"}}"#)
        let id = try #require(run.json?["run"]?.stringValue)

        #expect(try stack.request("GET", "/v1/flows/mine", key: other).status == 404)
        #expect(try stack.request("POST", "/v1/flows/mine/runs", key: other, body: "{}").status == 404)
        #expect(try stack.request("GET", "/v1/flows/mine/runs/\(id)", key: other).status == 404)
        #expect(try stack.request("GET", "/v1/flows", key: other).json?["flows"] == [])
        #expect(try stack.request("DELETE", "/v1/flows/mine", key: other).status == 404)
        // A tenant key's X-Paddock-Tenant is no way in.
        #expect(try stack.request("GET", "/v1/flows/mine", key: other, headers: ["X-Paddock-Tenant": "acme"]).status == 404)

        #expect(try stack.request("GET", "/v1/flows/mine", key: stack.admin).status == 400, "an admin names the tenant")
        let admin = try stack.request("GET", "/v1/flows/mine/runs/\(id)", key: stack.admin, headers: ["X-Paddock-Tenant": "acme"])
        #expect(admin.status == 200 && admin.json?["input"]?["t"] == "secret title")

        for hostile in [#"{"input": [1]}"#, #"{"input": {}, "tenant": "other"}"#, "[]"] {
            #expect(try stack.request("POST", "/v1/flows/mine/runs", key: key, body: hostile).status == 400, "\(hostile)")
        }
        #expect(try stack.request("DELETE", "/v1/flows/mine", key: key).status == 200)
        #expect(try stack.request("GET", "/v1/flows/mine/runs/\(id)", key: key).status == 404)
    }
}
