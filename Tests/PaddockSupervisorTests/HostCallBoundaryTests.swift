import Foundation
import PaddockCore
import PaddockStorage
@testable import PaddockSupervisor
import PaddockTestSupport
import Testing

/// Every host method, every field, with the values a hostile plugin sends:
/// each is answered (or refused with a catalog code naming the field), and
/// the host, the plugin and its neighbour go on serving with their storage
/// consistent and within quota. Real sandboxed Python plugins, real SQLite.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct HostCallBoundaryTests {
    /// Runs host calls one after the other and reports each outcome.
    static let probing = """
        @plugin.tool("probe")
        def probe(params, context):
            outcomes = []
            for case in params["cases"]:
                try:
                    outcomes.append({"ok": context._connection.call(case["method"], case["params"])})
                except PluginError as error:
                    outcomes.append({"code": error.code, "message": error.message})
            return {"outcomes": outcomes}

        @plugin.tool("words")
        def words(params, context):
            return {"count": len(params.get("text", "").split())}
        """

    /// Each host method with parameters that work, before one is replaced.
    static let methods: [(method: String, params: [String: JSONValue])] = [
        ("storage.get", ["key": "k"]),
        ("storage.set", ["key": "k", "value": "dmFsdWU="]),
        ("storage.delete", ["key": "k"]),
        ("storage.list", ["prefix": "", "limit": 10]),
        ("storage.usage", [:]),
        ("storage.blob.begin", ["name": "b", "size": 10, "md5": .string(String(repeating: "0", count: 32))]),
        ("storage.blob.append", ["upload": 1, "offset": 0, "data": "dmFsdWU="]),
        ("storage.blob.commit", ["upload": 1]),
        ("storage.blob.get", ["name": "b", "offset": 0, "length": 10]),
        ("storage.blob.delete", ["name": "b"]),
        ("tool.invoke", ["plugin": "neighbour", "tool": "words", "params": ["text": "a b"]]),
        ("model.invoke", ["plugin": "neighbour", "model": "m", "messages": []]),
        ("app.list", [:]),
        ("app.get", ["id": "neighbour"]),
        ("app.invoke", ["id": "neighbour", "method": "GET", "path": "/"]),
    ]

    /// Fields that carry a count, size, offset or limit: out of range is 102 naming them.
    static let numeric: Set<String> = ["size", "offset", "length", "limit", "upload"]

    static let hostile: [JSONValue] = [
        0, -1, .int(.max), .int(.min), .int(1 << 53 + 1), .double(18_446_744_073_709_551_616.0), -0.5,
        .string(String(repeating: "x", count: 64 << 10)), "", true, [], [:], nil, "../../etc/passwd", "\u{0}",
    ]

    private func probe(_ engine: Engine, _ id: String, _ cases: [JSONValue], scope: CallScope? = nil) async throws -> [JSONValue] {
        let result = try TestPlugin.json(try await engine.invokeTool(id, tool: "probe", arguments: ["cases": .array(cases)], scope: scope))
        return result["outcomes"]?.arrayValue ?? []
    }

    @Test func everyMethodAndFieldWithHostileValuesIsAnsweredOrACodedErrorAndTheHostLives() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let hostile = try await engine.load(directory: try TestPlugin.write(
            name: "hostile", tools: ["probe", "words"], code: Self.probing,
            permission: "{storage: 4KB, tools: true, llms: true, apps: write}"))
        let neighbour = try await engine.load(directory: try TestPlugin.write(
            name: "neighbour", tools: ["probe", "words"], code: Self.probing, permission: "{storage: 4KB}"))
        try await engine.start(hostile)
        try await engine.start(neighbour)

        var cases: [(label: String, field: String, value: JSONValue, request: JSONValue)] = []
        for (method, params) in Self.methods {
            for field in params.keys.sorted() + ["tenant"] {
                for value in Self.hostile {
                    var changed = params
                    changed[field] = value
                    cases.append(("\(method) \(field)=\(value.jsonText.prefix(24))", field, value, ["method": .string(method), "params": .object(changed)]))
                }
            }
        }
        // In batches, so that no frame nears the 16 MiB limit.
        var outcomes: [JSONValue] = []
        for start in stride(from: 0, to: cases.count, by: 60) {
            outcomes += try await probe(engine, hostile, cases[start..<min(start + 60, cases.count)].map(\.request))
        }
        #expect(outcomes.count == cases.count)
        for (item, outcome) in zip(cases, outcomes) {
            if case .int(let code)? = outcome["code"] {
                #expect((101...399).contains(code), "\(item.label): \(outcome)")
            } else {
                #expect(outcome["ok"] != nil, "\(item.label): \(outcome)")
            }
            let outOfRange: Bool = switch item.value {
            case .int(let number): number < 0 || number > 1 << 53
            case .double: true
            default: false
            }
            if Self.numeric.contains(item.field), outOfRange {
                #expect(outcome["code"] == 102, "\(item.label): \(outcome)")
                #expect(outcome["message"]?.stringValue?.contains(item.field) == true, "\(item.label): \(outcome)")
            }
        }
        // The blob-size attack of the report, alone: a coded error, nothing reserved.
        let attack = try await probe(engine, hostile, [[
            "method": "storage.blob.begin",
            "params": ["name": "big", "size": .int(.max), "md5": .string(String(repeating: "0", count: 32))],
        ]])
        #expect(attack.first?["code"] == 102, "\(attack)")

        #expect(try TestPlugin.json(try await engine.invokeTool(neighbour, tool: "words", arguments: ["text": "still here"])) == ["count": 2])
        #expect(try TestPlugin.json(try await engine.invokeTool(hostile, tool: "words", arguments: ["text": "me too"])) == ["count": 2])
        let store = try PluginStore(path: engine.configuration.dataDirectory + "/paddock.db")
        #expect(try store.usage(plugin: hostile) <= 4000)
        #expect(try store.check(plugin: hostile).allSatisfy(\.consistent))
    }

    @Test func aPluginNamesOnlyTheTenantItServesAndItsQuotaBoundsAllTenantsTogether() async throws {
        let engine = try TestPlugin.engine()
        defer { Task { await engine.shutdown() } }
        let id = try await engine.load(directory: try TestPlugin.write(
            name: "tenanted", tools: ["probe", "words"], code: Self.probing, permission: "{storage: 4KB}"))
        try await engine.start(id)
        let value = JSONValue.string(Base64.encode(Array(repeating: 0x61, count: 1500)))
        func set(_ key: String, tenant: JSONValue) -> JSONValue {
            ["method": "storage.set", "params": ["key": .string(key), "value": value, "tenant": tenant]]
        }
        let acme = CallScope(tenant: "acme", settings: [:])

        // Serving acme: acme and no tenant are fine; an invented one is 104, a number 102.
        let served = try await probe(engine, id, [set("a", tenant: "acme"), set("b", tenant: nil), set("c", tenant: "globex"), set("d", tenant: 7)], scope: acme)
        #expect(served[0]["ok"]?["stored"] == true, "\(served)")
        #expect(served[1]["ok"]?["stored"] == true, "\(served)")
        #expect(served[2]["code"] == 104, "\(served)")
        #expect(served[3]["code"] == 102, "\(served)")
        // Serving no tenant, acme is as foreign as any other.
        let outside = try await probe(engine, id, [set("e", tenant: "acme")])
        #expect(outside[0]["code"] == 104, "\(outside)")

        // 51 invented tenants gain nothing; and the quota counts acme's and the default tenant's bytes together.
        let invented = try await probe(engine, id, (0..<51).map { set("k", tenant: .string("t\($0)")) })
        #expect(invented.allSatisfy { $0["code"] == 104 }, "\(invented)")
        let third = try await probe(engine, id, [set("f", tenant: "acme")], scope: acme)
        #expect(third[0]["code"] == 205, "4 KB holds two 1500-byte values, in any tenants: \(third)")
        let store = try PluginStore(path: engine.configuration.dataDirectory + "/paddock.db")
        #expect(try store.usage(plugin: id) <= 4000)
        #expect(try store.usageByTenant(plugin: id).keys.sorted() == ["", "acme"])
    }
}
