import Foundation
import Glibc
import PaddockCore
import PaddockSupervisor

/// `paddock-bench supervisor [--plugins N]`: the supervisor's memory with N
/// idle Python plugins (its RSS growth divided by N), next to its RSS with none.
func supervisorBench(_ arguments: ArraySlice<String>) async {
    let count = integerOption("--plugins", in: arguments, default: 100)
    do {
        let data = scratchDirectory("supervisor")
        defer { try? FileManager.default.removeItem(atPath: data) }
        var configuration = try EngineConfiguration.locate(dataDirectory: data)
        configuration.startTimeout = .seconds(120)
        let engine = Engine(configuration: configuration)
        let before = residentBytes()
        var ids: [String] = []
        for index in 0..<count {
            let directory = try writeBenchPlugin(
                in: data, name: "idle-\(index)", manifest: "tools: [{provider: b, items: [{name: echo}]}]",
                code: "@plugin.tool('echo')\ndef echo(p, c):\n    return p\n")
            ids.append(try await engine.load(directory: directory))
        }
        let started = DispatchTime.now().uptimeNanoseconds
        try await withThrowingTaskGroup(of: Void.self) { group in
            for id in ids { group.addTask { try await engine.start(id) } }
            try await group.waitForAll()
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        try await Task.sleep(for: .seconds(1))
        let after = residentBytes()
        print("== supervisor: \(count) idle Python plugins in one engine")
        print("started all in \(String(format: "%.2f", seconds)) s")
        print("supervisor RSS \(before / 1024) KiB before, \(after / 1024) KiB after: \((after - before) / count / 1024) KiB per idle plugin")
        await engine.shutdown()
    } catch {
        print("paddock-bench supervisor: \(error)")
        exit(1)
    }
}

private func residentBytes() -> Int {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return (Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0) * 1024
}
