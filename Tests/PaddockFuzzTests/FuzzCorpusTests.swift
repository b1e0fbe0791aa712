import Foundation
import PaddockFuzz
import Testing

/// The committed fuzz corpus (`Tests/fuzz/<target>/`: the seeds, and every
/// input that once crashed a target, named `crash-*`) runs through its
/// target on every test run: a crash fixed stays fixed.
@Suite struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("fuzz")

    @Test(arguments: FuzzTarget.allCases)
    func everyCorpusInputRunsThroughItsTarget(target: FuzzTarget) throws {
        let directory = Self.corpus.appendingPathComponent(target.rawValue)
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(!names.isEmpty, "a seed corpus for \(target.rawValue)")
        for name in names {
            target.run(Array(try Data(contentsOf: directory.appendingPathComponent(name))))
        }
    }
}
