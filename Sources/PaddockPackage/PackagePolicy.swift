public import PaddockCore

/// What paddockd accepts as a package, from the `packages:` section of its
/// configuration (`<data>/paddockd.yaml`, or `paddockd --config FILE`):
///
/// ```yaml
/// packages:
///   signature: required          # required | optional (default) | off
///   trusted_keys: [/etc/paddock/release.pub, "r4nd0mBase64PublicKey="]
///   max_entries: 10000
///   max_unpacked_size: 512MiB
///   max_compression_ratio: 100   # per entry above 1 MiB unpacked
/// ```
public struct PackagePolicy: Sendable {
    public enum SignatureRule: String, Sendable, CaseIterable {
        /// Only packages signed by a trusted key.
        case required
        /// Unsigned packages too; a signature present must verify.
        case optional
        /// Signatures are not looked at (the digest still is).
        case off
    }

    public var signature = SignatureRule.optional
    /// The public keys (base64 of the raw 32 bytes) whose signatures are trusted.
    public var trustedKeys: [String] = []
    public var maximumEntries = 10_000
    public var maximumUnpackedBytes = 512 << 20
    public var maximumCompressionRatio = 100
    /// Entries up to this size unpacked are not held to the ratio.
    public var ratioFloorBytes = 1 << 20

    public init() {}

    /// The `packages` section of the YAML in `path`; the defaults when the file does not exist.
    /// - Throws: 102 naming the first problem.
    public static func load(path: String) throws(PaddockError) -> PackagePolicy {
        guard FileSystem.kind(of: path) != nil else { return PackagePolicy() }
        guard let node = try YAMLParser().parse(contentsOf: path) else { return PackagePolicy() }
        let diagnostics = YAMLDiagnostics()
        let yaml = YAMLDecoder(node: node, diagnostics: diagnostics)
        var policy = PackagePolicy()
        if yaml.expectMapping(known: ["packages"]), let packages = yaml.optional("packages"),
            packages.expectMapping(known: ["signature", "trusted_keys", "max_entries", "max_unpacked_size", "max_compression_ratio"])
        {
            if let rule = packages.optional("signature")?.oneOf(SignatureRule.self) { policy.signature = rule }
            for entry in packages.optional("trusted_keys")?.items ?? [] {
                guard let text = entry.string else { continue }
                do {
                    policy.trustedKeys.append(try SigningKey.publicKey(text))
                } catch {
                    entry.problem(error.code, error.message)
                }
            }
            func positive(_ key: String) -> Int? {
                guard let field = packages.optional(key) else { return nil }
                let value = key == "max_unpacked_size" ? field.decode(ByteSize.self)?.bytes : field.int
                guard let value, value > 0 else {
                    field.problem(.wrongFormat, "must be a number above 0")
                    return nil
                }
                return value
            }
            policy.maximumEntries = positive("max_entries") ?? policy.maximumEntries
            policy.maximumUnpackedBytes = positive("max_unpacked_size") ?? policy.maximumUnpackedBytes
            policy.maximumCompressionRatio = positive("max_compression_ratio") ?? policy.maximumCompressionRatio
            if policy.signature == .required, policy.trustedKeys.isEmpty {
                packages.problem(.configurationMissing, "signature: required needs at least one key in trusted_keys")
            }
        }
        if let first = diagnostics.errors.first {
            throw PaddockError(first.code, "\(path): \(first.field ?? "document"): \(first.message)", field: first.field)
        }
        return policy
    }
}
