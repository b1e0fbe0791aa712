import Foundation
import PaddockTestSupport
import Testing

/// Arbitrary bytes as manifest.yaml never crash the CLI: each run exits 0
/// or 1 with one JSON report whose errors carry catalog codes.
@Suite struct ValidateFuzzTests {
    static let catalog: Set<Int> = [101, 102, 103, 104, 105, 201, 202, 203, 204, 205, 206, 301, 302, 303, 304, 305, 306, 307]

    @Test(.timeLimit(.minutes(5)))
    func randomAndMutatedManifestsGetACodedAnswer() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["PADDOCK_FUZZ_SEED"] ?? "") ?? 7_919
        var mutator = ManifestMutator(seed: seed, seeds: Fixture.fuzzSeeds)
        var outcomes: [Int32: Int] = [:]
        try Fixture.withPlugin(manifest: "") { directory in
            let manifest = directory.appendingPathComponent("manifest.yaml")
            for iteration in 0..<2000 {
                let bytes = mutator.next()
                try Data(bytes).write(to: manifest)
                let result = try ProcessRunner.run(PaddockCLI.binary, ["validate", directory.path, "--json"])
                let context = "seed \(seed) case \(iteration): \(bytes.prefix(200).map { String(format: "%02x", $0) }.joined())"
                #expect(result.signal == nil, "crashed: \(context)")
                #expect(result.status == 0 || result.status == 1, "exit \(String(describing: result.status)): \(context)")
                let object = try? JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
                let report = try #require(object, "no JSON report: \(context)")
                let codes = PaddockCLI.codes(report)
                #expect((report["ok"] as? Bool) == (result.status == 0), "\(context)")
                #expect(result.status == 0 ? codes.isEmpty : !codes.isEmpty, "\(context)")
                #expect(codes.allSatisfy(Self.catalog.contains), "\(context)")
                outcomes[result.status ?? -1, default: 0] += 1
            }
        }
        #expect((outcomes[0] ?? 0) > 20, "too few mutations stayed valid: \(outcomes)")
        #expect((outcomes[1] ?? 0) > 1000, "too few mutations were invalid: \(outcomes)")
    }
}
