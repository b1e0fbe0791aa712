import Foundation
import PaddockCore
import PaddockStorage
import PaddockSupervisor

/// `paddock-bench storage [--operations N] [--value-bytes B]`: durable
/// single-row writes, each in its own `BEGIN IMMEDIATE` transaction with
/// `Database`'s pragmas (WAL, synchronous=FULL): quota-checked
/// `PluginStore.set` against raw SQLite upserts into a one-table database,
/// of new keys and then overwriting them, in alternating rounds of 100 so
/// noise hits all four; then `storage.set` as a sandboxed Python plugin
/// sees it (host call round trip, quota check, durable commit).
func storageBench(_ arguments: ArraySlice<String>) async {
    let operations = max(1, integerOption("--operations", in: arguments, default: 10000))
    let value = [UInt8](repeating: 0x61, count: max(1, integerOption("--value-bytes", in: arguments, default: 100)))
    // Other bytes of the same size: SQLite skips writing a row that does not change.
    let changed = value.map { ~$0 }
    let directory = scratchDirectory("storage")
    defer { try? FileManager.default.removeItem(atPath: directory) }
    do {
        let raw = try Database(path: directory + "/raw.db")
        try raw.execute("CREATE TABLE entries (key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID")
        let store = try PluginStore(path: directory + "/store.db")
        func upsert(_ bytes: [UInt8]) -> (String) throws(PaddockError) -> Void {
            { key throws(PaddockError) in
                try raw.transaction { () throws(PaddockError) -> Void in
                    try raw.query(
                        "INSERT INTO entries (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                        [.text(key), .blob(bytes)])
                }
            }
        }
        func set(_ bytes: [UInt8]) -> (String) throws(PaddockError) -> Void {
            { key throws(PaddockError) in try store.set(.init(plugin: "bench"), key: key, value: bytes, quota: .max) }
        }
        // Each store row is measured against the raw row before it.
        let writes: [(label: String, write: (String) throws(PaddockError) -> Void)] = [
            ("raw SQLite upsert, new key", upsert(value)), ("PluginStore.set, new key", set(value)),
            ("raw SQLite upsert, overwrite", upsert(changed)), ("PluginStore.set, overwrite", set(changed)),
        ]
        // Past SQLite's 1000-page auto-checkpoint, so every WAL has wrapped and
        // is rewritten in place, as in a long-running store (growing it is slower).
        let warmUp = 1200
        var samples = Array(repeating: [UInt64](), count: writes.count)
        for start in stride(from: 0, to: warmUp + operations, by: 100) {
            for (kind, write) in writes.enumerated() {
                for index in start..<min(start + 100, warmUp + operations) {
                    let key = "key-\(index)"
                    let before = DispatchTime.now().uptimeNanoseconds
                    try write.write(key)
                    if index >= warmUp { samples[kind].append(DispatchTime.now().uptimeNanoseconds - before) }
                }
            }
        }
        print("== storage: \(operations) durable writes each, \(value.count)-byte values, one transaction per write")
        print("| write | ops/s | p50 µs | p99 µs | ops/s ÷ raw |")
        print("|---|---:|---:|---:|---:|")
        let rates = samples.map { Double($0.count) * 1e9 / Double($0.reduce(0, +)) }
        for (kind, write) in writes.enumerated() {
            let sorted = samples[kind].sorted()
            let (p50, p99) = (sorted[sorted.count / 2] / 1000, sorted[sorted.count * 99 / 100] / 1000)
            print("| \(write.label) | \(Int(rates[kind])) | \(p50) | \(p99) | \(format(rates[kind] / rates[kind - kind % 2], width: 0)) |")
        }
        let plugin = try await pluginSets(in: directory, operations: min(operations, 5000), valueBytes: value.count)
        print("| storage.set from a Python plugin | \(Int(plugin.perSecond)) | \(Int(plugin.p50)) | \(Int(plugin.p99)) | \(format(plugin.perSecond / rates[0], width: 0)) |")
    } catch {
        print("paddock-bench storage: \(error)")
        exit(1)
    }
}

/// Times `count` sequential `storage.set` calls inside a sandboxed Python
/// plugin, as its handler sees them.
private func pluginSets(in data: String, operations: Int, valueBytes: Int) async throws -> Latencies {
    var configuration = try EngineConfiguration.locate(dataDirectory: data)
    configuration.callTimeout = .seconds(300)
    let engine = Engine(configuration: configuration)
    let directory = try writeBenchPlugin(
        in: data, name: "bench-storage",
        manifest: """
            permission: {storage: 1GB}
            tools: [{provider: bench, items: [{name: fill, parameters: [{name: count, type: integer}, {name: size, type: integer}]}]}]
            """,
        code: """
            import time
            @plugin.tool('fill')
            def fill(params, context):
                value, samples = b'v' * params['size'], []
                for index in range(params['count']):
                    started = time.perf_counter_ns()
                    context.storage.set(f'key-{index}', value)
                    samples.append(time.perf_counter_ns() - started)
                samples.sort()
                return {'p50': samples[len(samples) // 2], 'p99': samples[len(samples) * 99 // 100], 'total': sum(samples)}
            """)
    let id = try await engine.load(directory: directory)
    try await engine.start(id)
    _ = try await engine.invokeTool(id, tool: "fill", arguments: ["count": 200, "size": .int(valueBytes)])  // warm-up
    let result = try JSONValue(parsing: try await engine.invokeTool(id, tool: "fill", arguments: ["count": .int(operations), "size": .int(valueBytes)]))
    await engine.shutdown()
    func nanoseconds(_ key: String) -> Double { if case .int(let value)? = result[key] { Double(value) } else { .nan } }
    return Latencies(p50: nanoseconds("p50") / 1000, p99: nanoseconds("p99") / 1000, perSecond: Double(operations) * 1e9 / nanoseconds("total"))
}
