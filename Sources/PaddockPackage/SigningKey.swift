public import Crypto
import Glibc
public import PaddockCore

/// Ed25519 keys for signing packages, stored as one line of base64 of the
/// raw 32-byte key (`signing.key` 0600, `signing.pub`). Reading is
/// forgiving: surrounding white space, a trailing newline or CRLF, and a
/// byte order mark are not errors.
public enum SigningKey {
    /// Writes a new key pair to `directory/signing.key` and `signing.pub`.
    /// - Returns: the public key, in base64.
    /// - Throws: 302 when a file cannot be written, 102 when a key is already there.
    @discardableResult
    public static func generate(in directory: String) throws(PaddockError) -> String {
        let key = Curve25519.Signing.PrivateKey()
        let publicKey = Base64.encode(Array(key.publicKey.rawRepresentation))
        try write(Base64.encode(Array(key.rawRepresentation)) + "\n", to: directory + "/signing.key", mode: 0o600)
        try write(publicKey + "\n", to: directory + "/signing.pub", mode: 0o644)
        return publicKey
    }

    /// The private key in the file at `path`.
    /// - Throws: 302 when it cannot be read, 102 when it is not a key.
    public static func privateKey(at path: String) throws(PaddockError) -> Curve25519.Signing.PrivateKey {
        let text = try read(path)
        guard let raw = Base64.decode(text), raw.count == 32, let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: raw) else {
            throw PaddockError(.wrongFormat, "\(path) is not a signing key (one line of base64, from `paddock keys gen-signing`)")
        }
        return key
    }

    /// A public key given inline (base64) or as the path of a `signing.pub`, as base64.
    /// - Throws: 102 naming the entry when it is neither.
    public static func publicKey(_ entry: String) throws(PaddockError) -> String {
        let text = entry.hasPrefix("/") || entry.hasPrefix(".") || entry.hasSuffix(".pub") ? try read(entry) : cleaned(entry)
        guard let raw = Base64.decode(text), raw.count == 32, let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw PaddockError(.wrongFormat, "'\(PackageProblem.shown(entry))' is not a public signing key (base64, or the path of a signing.pub)")
        }
        return Base64.encode(Array(key.rawRepresentation))
    }

    private static func read(_ path: String) throws(PaddockError) -> String {
        cleaned(String(decoding: try FileSystem.read(path, limit: 4096), as: UTF8.self))
    }

    /// Without a byte order mark and white space (CR and LF included) around.
    private static func cleaned(_ text: String) -> String {
        var scalars = Substring(text).unicodeScalars
        let blank: Set<Unicode.Scalar> = [" ", "\t", "\r", "\n", "\u{feff}"]
        while let first = scalars.first, blank.contains(first) { scalars = scalars.dropFirst() }
        while let last = scalars.last, blank.contains(last) { scalars = scalars.dropLast() }
        return String(scalars)
    }

    private static func write(_ text: String, to path: String, mode: mode_t) throws(PaddockError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else {
            let code: PaddockError.Code = errno == EEXIST ? .wrongFormat : .fileLimitExceeded
            throw PaddockError(code, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        let bytes = Array(text.utf8)
        guard Glibc.write(fd, bytes, bytes.count) == bytes.count else {
            throw PaddockError(.fileLimitExceeded, "cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
