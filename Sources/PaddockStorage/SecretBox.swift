import Crypto
import Foundation
import Glibc
public import PaddockCore

/// Encrypts settings of type `secret` at rest: AES-GCM with a 256-bit key
/// kept in `<data>/secret.key` (mode 0600, created on first use).
public struct SecretBox: Sendable {
    private static let prefix = "aesgcm:v1:"
    /// The raw key; a `SymmetricKey` is made per use (it is not Sendable).
    private let keyBytes: [UInt8]
    private var key: SymmetricKey { SymmetricKey(data: keyBytes) }

    /// The box whose key is in `keyPath`; a missing key file is created.
    /// - Throws: ``PaddockError`` 307 when the key cannot be read or written,
    ///   or when the file is readable by others than its owner: the key is
    ///   the supervisor's own, so none of this is a plugin's file limit (302).
    public init(keyPath: String) throws(PaddockError) {
        if access(keyPath, F_OK) != 0 {
            let fresh = SymmetricKey(size: .bits256)
            let fd = Glibc.open(keyPath, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw PaddockError(.internalError, "cannot create \(keyPath): \(String(cString: strerror(errno)))") }
            let written = fresh.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
            fsync(fd)
            close(fd)
            guard written == 32 else { throw PaddockError(.internalError, "cannot write \(keyPath)") }
        }
        var info = stat()
        guard stat(keyPath, &info) == 0, info.st_mode & 0o077 == 0 else {
            throw PaddockError(.internalError, "\(keyPath) must be readable by its owner only (mode 0600)")
        }
        let bytes: [UInt8]
        do throws(PaddockError) {
            bytes = try FileSystem.read(keyPath, limit: 64)
        } catch {
            throw PaddockError(.internalError, error.message, underlying: error)
        }
        guard bytes.count == 32 else { throw PaddockError(.internalError, "\(keyPath) does not hold a 256-bit key") }
        keyBytes = bytes
    }

    /// `aesgcm:v1:` + base64 of nonce, ciphertext and tag.
    public func seal(_ plaintext: String) throws(PaddockError) -> String {
        do {
            let box = try AES.GCM.seal(Data(plaintext.utf8), using: key)
            guard let combined = box.combined else { throw PaddockError(.internalError, "AES-GCM gave no output") }
            return Self.prefix + combined.base64EncodedString()
        } catch let error as PaddockError {
            throw error
        } catch {
            throw PaddockError(.internalError, "cannot encrypt a secret: \(error)")
        }
    }

    /// The plaintext of a sealed value.
    /// - Throws: ``PaddockError`` 202 when the value was not sealed with this key.
    public func open(_ sealed: String) throws(PaddockError) -> String {
        guard sealed.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(sealed.dropFirst(Self.prefix.count))),
            let box = try? AES.GCM.SealedBox(combined: data), let plaintext = try? AES.GCM.open(box, using: key)
        else { throw PaddockError(.unparsableData, "a stored secret cannot be decrypted with \(Self.prefix) and this key") }
        return String(decoding: plaintext, as: UTF8.self)
    }
}
