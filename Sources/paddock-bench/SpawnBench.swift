import Glibc
import PaddockCore

/// Nanoseconds from posix_spawn to the end of waitpid, or nil when the program failed.
func spawnToExit(_ argv: [String]) -> UInt64? {
    var start = timespec()
    var end = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    guard let pid = try? Spawn.start(argv[0], arguments: Array(argv.dropFirst()), actions: [.nullOutput(1), .nullOutput(2)]) else {
        return nil
    }
    let status = Spawn.wait(pid).status
    clock_gettime(CLOCK_MONOTONIC, &end)
    guard status == 0 else { return nil }
    return UInt64(end.tv_sec - start.tv_sec) * 1_000_000_000 + UInt64(end.tv_nsec) - UInt64(start.tv_nsec)
}

func median(_ values: [UInt64]) -> Double {
    median(values.map { Double($0) })
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

func format(_ value: Double, width: Int) -> String {
    let text = value.isNaN ? "failed" : String(Double(Int(value * 100)) / 100)
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

/// `paddock-bench spawn [--rounds N] LABEL=COMMAND...`: spawn-to-exit times,
/// interleaved; the first row is the baseline.
func spawnBench(_ arguments: ArraySlice<String>) {
    var arguments = arguments
    var rounds = 200
    var rows: [(label: String, argv: [String])] = []
    while let argument = arguments.popFirst() {
        if argument == "--rounds", let next = arguments.popFirst(), let value = Int(next) {
            rounds = value
        } else if let equals = argument.firstIndex(of: "=") {
            rows.append((String(argument[..<equals]), argument[argument.index(after: equals)...].split(separator: " ").map(String.init)))
        }
    }
    guard !rows.isEmpty else {
        print("usage: paddock-bench spawn [--rounds N] LABEL=COMMAND...  (the first is the baseline)")
        exit(2)
    }

    var samples = Array(repeating: [UInt64](), count: rows.count)
    var failures = Array(repeating: 0, count: rows.count)
    for row in rows { _ = spawnToExit(row.argv) }  // warm caches
    for _ in 0..<rounds {
        for (index, row) in rows.enumerated() {
            if let time = spawnToExit(row.argv) { samples[index].append(time) } else { failures[index] += 1 }
        }
    }
    let baseline = median(samples[0])
    let labelWidth = max(10, rows.map(\.label.count).max() ?? 0)
    print("\(String(repeating: " ", count: labelWidth - 7))command   median ms   overhead ms   ratio   failed")
    for (index, row) in rows.enumerated() {
        let value = median(samples[index])
        let label = String(repeating: " ", count: labelWidth - row.label.count) + row.label
        print("\(label) \(format(value / 1e6, width: 11)) \(format((value - baseline) / 1e6, width: 13)) \(format(value / baseline, width: 7)) \(String(repeating: " ", count: 8 - String(failures[index]).count))\(failures[index])")
    }
    // Against the same run's bwrap row, when there is one: the comparison that matters.
    if let reference = rows.firstIndex(where: { $0.label.hasPrefix("bwrap") }) {
        for (index, row) in rows.enumerated() where index != 0 && index != reference {
            print("\(row.label) / \(rows[reference].label): \(format(median(samples[index]) / median(samples[reference]), width: 0))")
        }
    }

}
