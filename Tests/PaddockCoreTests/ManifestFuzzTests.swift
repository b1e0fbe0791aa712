import Foundation
import PaddockCore
import PaddockTestSupport
import Testing

/// Thousands of random and mutated manifests through the loader: every one
/// ends in a valid manifest or in coded errors, never in a crash.
@Suite struct ManifestFuzzTests {
    @Test func mutatedManifestsEndInAValidManifestOrCodedErrors() throws {
        let seed = UInt64(ProcessInfo.processInfo.environment["PADDOCK_FUZZ_SEED"] ?? "") ?? 20_261_125
        var mutator = ManifestMutator(seed: seed, seeds: Fixture.fuzzSeeds)
        let loader = ManifestLoader()
        let encoder = JSONEncoder()
        var valid = 0
        var codes: Set<Int> = []
        for iteration in 0..<4000 {
            let bytes = mutator.next()
            let report = loader.load(yaml: bytes)
            if report.isValid {
                valid += 1
                #expect(report.errors.isEmpty)
            } else {
                #expect(!report.errors.isEmpty, "seed \(seed) case \(iteration): invalid without an error")
                #expect(report.manifest == nil)
            }
            for error in report.errors {
                codes.insert(error.code.rawValue)
                #expect(!error.message.isEmpty, "seed \(seed) case \(iteration): empty message")
            }
            _ = try encoder.encode(report)
        }
        // The mutations reach both outcomes and several rules, or they test little.
        #expect(valid > 50)
        #expect(codes.isSuperset(of: [101, 102, 103]))
    }
}
