public import Crypto
import PaddockCore

/// A package's signature: `ed25519 <public key> <signature>` (base64), over
/// the text `paddock-package-digest <digest>`. Stored as `.paddock-package/signature`.
public struct PackageSignature: Sendable, Equatable {
    /// The signer's public key, base64.
    public var signer: String
    var signature: [UInt8]

    /// Signs `digest` (a ``PackageListing/digest``).
    public init(digest: String, key: Curve25519.Signing.PrivateKey) throws {
        signer = Base64.encode(Array(key.publicKey.rawRepresentation))
        signature = Array(try key.signature(for: Array(Self.message(digest).utf8)))
    }

    /// Reads the stored form.
    /// - Throws: 104 (bad signature) when it is not one.
    init(text: String) throws(PaddockError) {
        let fields = text.split(whereSeparator: { $0 == " " || $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
        guard fields.count == 3, fields[0] == "ed25519", Base64.decode(String(fields[1]))?.count == 32,
            let signature = Base64.decode(String(fields[2])), signature.count == 64
        else { throw PackageProblem.badSignature.error("its signature file is not an Ed25519 signature") }
        signer = String(fields[1])
        self.signature = signature
    }

    /// The stored form.
    var text: String { "ed25519 \(signer) \(Base64.encode(signature))\n" }

    /// Checks that it signs `digest` with the key it names (whether that
    /// key is trusted is the policy's question).
    /// - Throws: 104 when it does not verify.
    func verify(digest: String) throws(PaddockError) {
        guard let raw = Base64.decode(signer), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw),
            key.isValidSignature(signature, for: Array(Self.message(digest).utf8))
        else {
            throw PackageProblem.badSignature.error("its signature does not match its contents: the package changed after it was signed")
        }
    }

    private static func message(_ digest: String) -> String { "paddock-package-digest \(digest)" }
}
