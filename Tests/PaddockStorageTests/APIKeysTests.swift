import Foundation
import PaddockCore
import PaddockStorage
import Testing

@Suite struct APIKeysTests {
    private func keys() -> APIKeys {
        APIKeys(owner: DatabaseOwner(path: NSTemporaryDirectory() + "paddock-keys-\(UUID().uuidString).db"))
    }

    @Test func aKeyVerifiesUntilRevokedAndIsNeverStored() async throws {
        let keys = keys()
        let (record, key) = try await keys.create(kind: .tenant, tenant: "acme")
        #expect(key.hasPrefix("pdk_\(record.id)_"))
        #expect(record.tenant == "acme" && !record.revoked && record.lastUsedAt == nil)
        let verified = try #require(try await keys.verify(key))
        #expect(verified.id == record.id)
        #expect(try await keys.all().first?.lastUsedAt != nil, "a verified key is marked used")
        #expect(try await keys.verify(key + "0") == nil)
        #expect(try await keys.verify("pdk_\(record.id)") == nil)
        try await keys.revoke(record.id)
        #expect(try await keys.verify(key) == nil)
        #expect(try await keys.all().map(\.revoked) == [true])
        let unknown = await #expect(throws: PaddockError.self) { try await keys.revoke("nope") }
        #expect(unknown?.code == .configurationMissing)
    }

    @Test func aTenantKeyNeedsAWellFormedTenant() async throws {
        let keys = keys()
        let missing = await #expect(throws: PaddockError.self) { try await keys.create(kind: .tenant, tenant: nil) }
        #expect(missing?.code == .configurationMissing)
        let malformed = await #expect(throws: PaddockError.self) { try await keys.create(kind: .tenant, tenant: "Not OK") }
        #expect(malformed?.code == .wrongFormat)
        #expect(try await keys.create(kind: .admin, tenant: "ignored").record.tenant == nil)
    }
}
