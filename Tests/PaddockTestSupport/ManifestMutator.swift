/// A reproducible random number generator (SplitMix64) for fuzzing.
public struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Produces random and mutated manifests: byte noise, flipped bytes, cut and
/// repeated ranges, YAML tokens in odd places, shuffled and truncated lines.
public struct ManifestMutator {
    var generator: SeededGenerator
    let seeds: [[UInt8]]

    static let tokens = [
        "&a ", "*a", "[", "]", "{", "}", ": ", "- ", "\n", "  ", "!!binary ", "'", "\"", "|\n", "> ", "? ",
        "%YAML 1.1\n", "---\n", "...\n", "\t", "\0", "\u{FEFF}", "99999999999999999999999", "1.5e400", "~",
        "null", "true", "é天", "\\x", "-1", "10XB", "1.0", "<<: *a\n", "&b [*b]", "#", ",",
    ].map { Array($0.utf8) }

    public init(seed: UInt64, seeds: [String]) {
        generator = SeededGenerator(seed: seed)
        self.seeds = seeds.map { Array($0.utf8) }
    }

    public mutating func next() -> [UInt8] {
        var bytes = seeds.randomElement(using: &generator)!
        switch Int.random(in: 0..<8, using: &generator) {
        case 0:
            return (0..<Int.random(in: 0...2000, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        case 1:
            for _ in 0..<Int.random(in: 1...20, using: &generator) where !bytes.isEmpty {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
        case 2:
            let range = randomRange(in: bytes)
            bytes.removeSubrange(range)
        case 3:
            let range = randomRange(in: bytes)
            let slice = Array(bytes[range])
            bytes.insert(contentsOf: slice, at: Int.random(in: 0...bytes.count, using: &generator))
        case 4, 5:
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                let token = Self.tokens.randomElement(using: &generator)!
                bytes.insert(contentsOf: token, at: Int.random(in: 0...bytes.count, using: &generator))
            }
        case 6:
            var lines = bytes.split(separator: 0x0a, omittingEmptySubsequences: false)
            lines.shuffle(using: &generator)
            bytes = Array(lines.joined(separator: [0x0a]))
        default:
            bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator)))
        }
        return bytes
    }

    private mutating func randomRange(in bytes: [UInt8]) -> Range<Int> {
        let start = Int.random(in: 0...bytes.count, using: &generator)
        let end = Int.random(in: start...min(bytes.count, start + 200), using: &generator)
        return start..<end
    }
}
