import Foundation
import Glibc
import PaddockCore
import PaddockStorage
import Testing

@Suite struct SecretBoxTests {
    private func keyPath() -> String {
        NSTemporaryDirectory() + "paddock-key-\(UUID().uuidString)"
    }

    @Test func sealsAndOpensWithTheSameKeyFile() throws {
        let path = keyPath()
        let sealed = try SecretBox(keyPath: path).seal("hunter2")
        #expect(sealed.hasPrefix("aesgcm:v1:"))
        #expect(!sealed.contains("hunter2"))
        #expect(try SecretBox(keyPath: path).open(sealed) == "hunter2")
        var info = stat()
        stat(path, &info)
        #expect(info.st_mode & 0o777 == 0o600)
        // The same plaintext seals differently each time (a fresh nonce).
        #expect(try SecretBox(keyPath: path).seal("hunter2") != sealed)
    }

    @Test func anotherKeyOrATamperedValueDoesNotOpen() throws {
        let sealed = try SecretBox(keyPath: keyPath()).seal("hunter2")
        let other = #expect(throws: PaddockError.self) { try SecretBox(keyPath: keyPath()).open(sealed) }
        #expect(other?.code == .unparsableData)
        var tampered = Array(sealed)
        tampered[tampered.count - 3] = tampered[tampered.count - 3] == "A" ? "B" : "A"
        #expect(throws: PaddockError.self) { try SecretBox(keyPath: keyPath()).open(String(tampered)) }
    }

    @Test func keyFileReadableByOthersIsRefused() throws {
        let path = keyPath()
        _ = try SecretBox(keyPath: path)
        chmod(path, 0o644)
        let error = #expect(throws: PaddockError.self) { try SecretBox(keyPath: path) }
        #expect(error?.code == .internalError, "the key is the supervisor's own: 307, not a file limit (302)")
    }

    @Test func keyFileOfTheWrongSizeIs307() throws {
        let path = keyPath()
        FileManager.default.createFile(atPath: path, contents: Data(repeating: 7, count: 16), attributes: [.posixPermissions: 0o600])
        let error = #expect(throws: PaddockError.self) { try SecretBox(keyPath: path) }
        #expect(error?.code == .internalError)
    }
}
