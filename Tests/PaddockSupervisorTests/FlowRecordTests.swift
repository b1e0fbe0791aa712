import PaddockCore
@testable import PaddockSupervisor
import Testing

/// A run's record stays small whatever its nodes said: a tenant looping on
/// runs of a flow whose nodes answer megabytes cannot fill the disk.
@Suite struct FlowRecordTests {
    @Test func largeValuesAreKeptAsTheirSizeAndARecordStaysSmall() {
        var record = FlowRecord(run: "r", tenant: "acme", flow: "f", startedMs: 1, input: ["text": .string(String(repeating: "x", count: 100 << 10))])
        for index in 0..<64 {
            record.nodes["n\(index)"] = .init(
                kind: "tool", status: .succeeded, startedMs: 1, endedMs: 2, input: ["i": .int(index)],
                output: ["text": .string(String(repeating: "y", count: 60 << 10))])
        }
        record.output = ["small": 1]
        let json = record.json
        #expect(json.jsonBytes.count < FlowRecord.largestRecord, "\(json.jsonBytes.count)")
        #expect(json["input"]?["bytes"] == .int(100 << 10 + 11), "\(String(describing: json["input"]))")
        #expect(json["nodes"]?["n3"]?["output"]?["not_kept"] != nil && json["nodes"]?["n3"]?["input"] == ["i": 3])
        #expect(json["output"] == ["small": 1])

        var small = FlowRecord(run: "r", tenant: "acme", flow: "f", startedMs: 1, input: ["text": .string(String(repeating: "x", count: 8 << 10))])
        small.nodes["a"] = .init(kind: "tool", status: .succeeded, startedMs: 1, output: ["text": .string(String(repeating: "y", count: 8 << 10))])
        #expect(small.json["input"]?["text"]?.stringValue?.count == 8 << 10, "values under the limit are kept whole")
    }
}
