import PaddockCore
import Testing

/// Flow definitions: what is refused when a flow is stored (each refusal
/// coded and naming the node and field), the order nodes can run in, and
/// how references are read and written into values.
@Suite struct FlowDefinitionTests {
    private func flow(_ yaml: String, id: String = "f") throws -> FlowDefinition {
        try FlowDefinition(try FlowDefinition.document(Array(yaml.utf8)), id: id)
    }

    private func refusal(_ yaml: String) -> PaddockError? {
        do {
            _ = try flow(yaml)
            return nil
        } catch {
            return error as? PaddockError
        }
    }

    @Test func theIssuesExampleReadsWithItsDependencies() throws {
        let definition = try flow(
            """
            id: slug-and-count
            nodes:
              - id: count
                tool: {plugin: text-tools, name: word_count}
                input: {text: "{{nodes.slug.output.slug}}"}
              - id: slug
                tool: {plugin: text-tools, name: slugify}
                input: {text: "{{input.title}}"}
            output: {slug: "{{nodes.slug.output.slug}}", words: "{{nodes.count.output.words}}"}
            """, id: "slug-and-count")
        #expect(definition.nodes.map(\.id) == ["slug", "count"])
        #expect(definition.nodes[1].dependencies == ["slug"] && definition.nodes[0].dependencies.isEmpty)
        #expect(definition.nodes[0].kind == .tool(plugin: "text-tools", name: "slugify"))
        #expect(definition.deadline == FlowDefinition.defaultDeadline)

        // What a node sets may read its own output; a reader of the variable waits for the setter.
        let setting = try flow(
            """
            nodes:
              - {id: read, tool: {plugin: p, name: t}, input: {x: "{{variables.v}}"}}
              - {id: write, tool: {plugin: p, name: t}, set: {v: "{{nodes.write.output.y}}"}}
            """)
        #expect(setting.nodes.map(\.id) == ["write", "read"] && setting.nodes[0].dependencies.isEmpty)
    }

    @Test(arguments: [
        // A cycle, through a variable too, and a node referencing itself.
        ("nodes: [{id: a, tool: {plugin: p, name: t}, input: {x: '{{nodes.b.output.y}}'}}, {id: b, tool: {plugin: p, name: t}, input: {x: '{{nodes.a.output.y}}'}}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, input: {x: '{{variables.v}}'}, set: {w: '{{nodes.a.output}}'}}, {id: b, tool: {plugin: p, name: t}, input: {x: '{{variables.w}}'}, set: {v: 1}}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, input: {x: 'hi {{nodes.a.output.y}}'}}]", "a", 102),
        // Unknown nodes and variables, malformed references.
        ("nodes: [{id: a, tool: {plugin: p, name: t}, input: {x: '{{nodes.ghost.output.y}}'}}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, input: {x: '{{variables.nothing}}'}}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, input: {x: '{{nodes.b.y}}'}}, {id: b, tool: {plugin: p, name: t}}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, input: {x: '{{input.x'}}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, input: {x: '{{env.HOME}}'}}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, input: {x: '{{input.a[-1]}}'}}]", "a", 102),
        // Shapes: no kind, two kinds, a node naming a tenant, bad ids and deadlines, a variable with two setters.
        ("nodes: [{id: a, input: {}}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, model: {plugin: p, name: m}}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, tenant: other}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, deadline: 9223372036854775807}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, deadline: -1}]", "a", 102),
        ("nodes: [{id: a, model: {plugin: p, name: m}, input: {text: hi}}]", "a", 102),
        ("nodes: [{id: a, tool: {plugin: p, name: t}, set: {v: 1}}, {id: b, tool: {plugin: p, name: t}, set: {v: 2}}]", "b", 102),
        ("nodes: [{id: a, condition: {value: 1, resembles: 2}}]", "a", 102),
    ])
    func refusalsNameTheNode(yaml: String, node: String, code: Int) {
        let error = refusal(yaml)
        #expect(error?.code.rawValue == code, "\(yaml): \(String(describing: error))")
        #expect(error?.details["node"] == node && error?.message.contains("'\(node)'") == true, "\(String(describing: error))")
    }

    @Test func flowWideRefusalsAreCoded() {
        #expect(refusal("nodes: []")?.code == .wrongFormat)
        #expect(refusal("id: other\nnodes: [{id: a, tool: {plugin: p, name: t}}]")?.field == "id")
        #expect(refusal("nodes: [{id: 'a b', tool: {plugin: p, name: t}}]")?.code == .wrongFormat)
        #expect(refusal("nodes: [{id: a, tool: {plugin: p, name: t}}, {id: a, tool: {plugin: p, name: t}}]")?.details["node"] == "a")
        #expect(refusal("deadline: 0\nnodes: [{id: a, tool: {plugin: p, name: t}}]")?.field == "deadline")
        #expect(refusal("variables: {v: '{{nodes.a.output}}'}\nnodes: [{id: a, tool: {plugin: p, name: t}}]")?.field == "variables.v")
        #expect(refusal("output: {x: '{{nodes.gone.output}}'}\nnodes: [{id: a, tool: {plugin: p, name: t}}]")?.field == "output.x")
        let many = (0...FlowDefinition.maximumNodes).map { "{id: n\($0), tool: {plugin: p, name: t}}" }.joined(separator: ", ")
        #expect(refusal("nodes: [\(many)]")?.field == "nodes")
        #expect(refusal("[1, 2]")?.code == .wrongFormat)
        #expect((try? FlowDefinition.document(Array("{not json".utf8))) == nil)
    }

    @Test func referencesKeepTheirTypeWholeAndAreWrittenIntoText() throws {
        let template = try FlowTemplate(
            ["n": "{{nodes.a.output.items[1].n}}", "text": "got {{nodes.a.output.items[0].n}} and {{ input.missing }}!", "list": ["{{input.list.1}}"],
             "object": "{{nodes.a.output}}", "embedded": "x={{nodes.a.output.items[0]}}"],
            field: "input")
        #expect(template.references.count == 6)
        let output: JSONValue = ["items": [["n": 1], ["n": 2.5]]]
        let input: JSONValue = ["list": ["zero", "one"]]
        let rendered = template.render { reference in
            switch reference.root {
            case .node: reference.follow(output)
            case .input: reference.follow(input)
            case .variable: nil
            }
        }
        #expect(rendered["n"] == .double(2.5))
        #expect(rendered["text"] == "got 1 and !")
        #expect(rendered["list"] == ["one"])
        #expect(rendered["object"] == output)
        #expect(rendered["embedded"] == #"x={"n":1}"#)
    }

    @Test func conditionsAndTruth() {
        #expect(FlowCondition.Test.equals.holds(1, 1.0) && !FlowCondition.Test.equals.holds("1", 1))
        #expect(FlowCondition.Test.greaterThan.holds(3, 2) && !FlowCondition.Test.greaterThan.holds("a", 2))
        #expect(FlowCondition.Test.contains.holds("hello", "ell") && FlowCondition.Test.contains.holds([1, 2], 2))
        #expect(FlowCondition.Test.exists.holds(.null, false) && FlowCondition.Test.truthy.holds("yes", true))
        #expect(![JSONValue.null, false, 0, "", "false", [], [:]].contains(where: FlowCondition.isTrue))
        #expect([JSONValue.bool(true), 1, "x", [0], ["a": 1]].allSatisfy(FlowCondition.isTrue))
    }
}
