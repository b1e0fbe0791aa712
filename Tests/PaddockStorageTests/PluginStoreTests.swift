import Crypto
import Foundation
import PaddockCore
import PaddockStorage
import Testing

@Suite struct PluginStoreTests {
    let path = NSTemporaryDirectory() + "paddock-store-\(UUID().uuidString).db"
    let notes = PluginStore.Namespace(plugin: "notes")

    private func consistent(_ store: PluginStore, _ plugin: String) throws {
        for check in try store.check(plugin: plugin) {
            #expect(check.consistent, "\(check.namespace): recorded \(check.recorded), data \(check.computed)")
        }
    }

    @Test func storesUpToTheQuotaAndRefusesBeyondWithoutChangingAnything() throws {
        let store = try PluginStore(path: path)
        let quota = 1000
        // Each entry costs its key, its value and the fixed overhead.
        #expect(try store.set(notes, key: "a", value: Array(repeating: 1, count: 500), quota: quota))
        #expect(try store.usage(notes) == 1 + 500 + PluginStore.entryOverhead)
        let room = quota - (try store.usage(notes)) - 1 - PluginStore.entryOverhead
        #expect(try store.set(notes, key: "b", value: Array(repeating: 2, count: room), quota: quota))
        #expect(try store.usage(notes) == quota)

        let refused = #expect(throws: PaddockError.self) {
            try store.set(notes, key: "c", value: [3], quota: quota)
        }
        #expect(refused?.code == .storageQuotaExceeded)
        let growth = #expect(throws: PaddockError.self) {
            try store.set(notes, key: "a", value: Array(repeating: 9, count: 501), quota: quota)
        }
        #expect(growth?.code == .storageQuotaExceeded)
        #expect(try store.get(notes, key: "a") == Array(repeating: 1, count: 500))
        #expect(try store.get(notes, key: "c") == nil)
        #expect(try store.usage(notes) == quota)

        // Shrinking and deleting always work, and give the room back.
        #expect(try store.set(notes, key: "a", value: [1], quota: quota))
        #expect(try store.delete(notes, key: "b"))
        #expect(try store.usage(notes) == 1 + 1 + PluginStore.entryOverhead)
        try consistent(store, "notes")
    }

    @Test func conditionalWritesAndKeyRules() throws {
        let store = try PluginStore(path: path)
        #expect(try store.set(notes, key: "k", value: [1], quota: 1000, condition: .ifAbsent))
        #expect(try store.set(notes, key: "k", value: [2], quota: 1000, condition: .ifAbsent) == false)
        #expect(try store.set(notes, key: "k", value: [3], quota: 1000, condition: .matches([9])) == false)
        #expect(try store.set(notes, key: "k", value: [3], quota: 1000, condition: .matches([1])))
        #expect(try store.get(notes, key: "k") == [3])
        #expect(try store.delete(notes, key: "missing") == false)

        for bad in ["", String(repeating: "é", count: 513), "a\u{0}b"] {
            let error = #expect(throws: PaddockError.self) { try store.set(notes, key: bad, value: [], quota: 1000) }
            #expect(error?.code == .wrongFormat)
        }
        let longest = String(repeating: "k", count: PluginStore.maximumKeyBytes)
        #expect(try store.set(notes, key: longest, value: [], quota: 10_000))
        try consistent(store, "notes")
    }

    @Test func namespacesNeverSeeEachOther() throws {
        let store = try PluginStore(path: path)
        let other = PluginStore.Namespace(plugin: "other")
        let tenant = PluginStore.Namespace(plugin: "notes", tenant: "acme")
        try store.set(notes, key: "secret", value: [1], quota: 1000)
        try store.set(tenant, key: "secret", value: [2], quota: 1000)
        #expect(try store.get(other, key: "secret") == nil)
        #expect(try store.list(other).items.isEmpty)
        #expect(try store.delete(other, key: "secret") == false)
        #expect(try store.get(tenant, key: "secret") == [2])
        #expect(try store.get(notes, key: "secret") == [1])
        #expect(try store.usage(other) == 0)
        #expect(try store.check(plugin: "notes").map(\.namespace.tenant) == ["", "acme"])
    }

    @Test func listsByPrefixInPages() throws {
        let store = try PluginStore(path: path)
        for index in 0..<25 { try store.set(notes, key: String(format: "note/%02d", index), value: [UInt8(index)], quota: 100_000) }
        try store.set(notes, key: "notf", value: [], quota: 100_000)
        try store.set(notes, key: "nota", value: [], quota: 100_000)
        var keys: [String] = []
        var cursor: String?
        repeat {
            let page = try store.list(notes, prefix: "note/", after: cursor, limit: 10, withValues: true)
            #expect(page.items.count <= 10)
            keys += page.items.map(\.key)
            #expect(page.items.allSatisfy { $0.value == [UInt8($0.key.suffix(2))!] && $0.size == 1 })
            cursor = page.next
        } while cursor != nil
        #expect(keys == (0..<25).map { String(format: "note/%02d", $0) })
        #expect(try store.list(notes, prefix: "no", limit: 1000).items.count == 27)
        #expect(try store.list(notes, prefix: "note/2").items.map(\.key) == ["note/20", "note/21", "note/22", "note/23", "note/24"])
    }

    @Test func blobUploadResumesAndCommitsWithAVerifiedChecksum() throws {
        let data = (0..<5000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let md5 = Insecure.MD5.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let chunks = stride(from: 0, to: data.count, by: 1000).map { Array(data[$0..<min($0 + 1000, data.count)]) }
        do {
            let store = try PluginStore(path: path)
            let upload = try store.beginBlob(notes, name: "big.bin", size: data.count, algorithm: .md5, checksum: md5, quota: 10_000)
            for (index, chunk) in chunks.prefix(3).enumerated() {
                _ = try store.appendBlob(notes, upload: upload.id, offset: index * 1000, data: chunk)
            }
            // The declared size is reserved at once.
            #expect(try store.usage(notes) == PluginStore.entryOverhead + 7 + 5000)
        }
        // A new connection (a restarted plugin or daemon) resumes where the last acknowledged chunk ended.
        let store = try PluginStore(path: path)
        let resumed = try store.beginBlob(notes, name: "big.bin", size: data.count, algorithm: .md5, checksum: md5, quota: 10_000)
        #expect(resumed.received == 3000)
        let gap = #expect(throws: PaddockError.self) { try store.appendBlob(notes, upload: resumed.id, offset: 4000, data: chunks[4]) }
        #expect(gap?.details["expected_offset"] == "3000")
        _ = try store.appendBlob(notes, upload: resumed.id, offset: 2000, data: chunks[2])  // re-sent: acknowledged again
        for index in 3..<5 { _ = try store.appendBlob(notes, upload: resumed.id, offset: index * 1000, data: chunks[index]) }
        let blob = try store.commitBlob(notes, upload: resumed.id)
        #expect(blob.name == "big.bin" && blob.size == 5000 && blob.algorithm == .md5 && blob.checksum == md5)
        #expect(try store.readBlob(notes, name: "big.bin")?.data == data)
        #expect(try store.readBlob(notes, name: "big.bin", offset: 999, length: 1002)?.data == Array(data[999..<2001]))
        #expect(try store.readBlob(PluginStore.Namespace(plugin: "other"), name: "big.bin") == nil)
        #expect(try store.usage(notes) == PluginStore.entryOverhead + 7 + 5000)
        try consistent(store, "notes")
        #expect(try store.deleteBlob(notes, name: "big.bin"))
        #expect(try store.usage(notes) == 0)
    }

    @Test func aWrongChecksumKeepsNothingAndChargesNothing() throws {
        let store = try PluginStore(path: path)
        let wrong = String(repeating: "0", count: 64)
        let upload = try store.beginBlob(notes, name: "x", size: 3, algorithm: .sha256, checksum: wrong, quota: 1000)
        _ = try store.appendBlob(notes, upload: upload.id, offset: 0, data: [1, 2, 3])
        let mismatch = #expect(throws: PaddockError.self) { try store.commitBlob(notes, upload: upload.id) }
        #expect(mismatch?.code == .unparsableData)
        #expect(try store.usage(notes) == 0)
        #expect(try store.readBlob(notes, name: "x") == nil)
        let gone = #expect(throws: PaddockError.self) { try store.commitBlob(notes, upload: upload.id) }
        #expect(gone?.code == .wrongFormat)

        let tooBig = #expect(throws: PaddockError.self) {
            try store.beginBlob(notes, name: "y", size: 2000, algorithm: .sha256, checksum: wrong, quota: 1000)
        }
        #expect(tooBig?.code == .storageQuotaExceeded)
        try consistent(store, "notes")
    }

    @Test(arguments: [Int.max, Int.min, -1, PluginStore.maximumSize + 1])
    func sizesAndOffsetsOutOfRangeAre102NamingTheFieldAndChangeNothing(value: Int) throws {
        let store = try PluginStore(path: path)
        let md5 = String(repeating: "0", count: 32)
        let begin = #expect(throws: PaddockError.self) {
            try store.beginBlob(notes, name: "big", size: value, algorithm: .md5, checksum: md5, quota: .max)
        }
        #expect(begin?.code == .wrongFormat && begin?.field == "size", "\(String(describing: begin))")
        let upload = try store.beginBlob(notes, name: "small", size: 4, algorithm: .md5, checksum: md5, quota: .max)
        let append = #expect(throws: PaddockError.self) { try store.appendBlob(notes, upload: upload.id, offset: value, data: [1]) }
        #expect(append?.code == .wrongFormat && append?.field == "offset", "\(String(describing: append))")
        let read = #expect(throws: PaddockError.self) { try store.readBlob(notes, name: "small", offset: 0, length: value) }
        #expect(read?.code == .wrongFormat && read?.field == "length", "\(String(describing: read))")
        #expect(try store.usage(plugin: "notes") == "small".utf8.count + 4 + PluginStore.entryOverhead)
        try consistent(store, "notes")
    }

    @Test func theQuotaBoundsThePluginAcrossAllItsTenants() throws {
        let store = try PluginStore(path: path)
        for tenant in ["", "acme", "globex"] {
            #expect(try store.set(.init(plugin: "notes", tenant: tenant), key: "k", value: Array(repeating: 1, count: 300), quota: 1000))
        }
        let refused = #expect(throws: PaddockError.self) {
            try store.set(.init(plugin: "notes", tenant: "initech"), key: "k", value: Array(repeating: 1, count: 300), quota: 1000)
        }
        #expect(refused?.code == .storageQuotaExceeded)
        #expect(try store.usage(plugin: "notes") == 3 * (1 + 300 + PluginStore.entryOverhead))
        // Another plugin's usage is its own.
        #expect(try store.set(.init(plugin: "other"), key: "k", value: Array(repeating: 1, count: 900), quota: 1000))
    }

    @Test func anOperatorsTenantQuotaBoundsThatTenantWithinThePluginsQuota() throws {
        let store = try PluginStore(path: path)
        let acme = PluginStore.Namespace(plugin: "notes", tenant: "acme")
        try store.setTenantQuota(acme, bytes: 400)
        #expect(try store.tenantQuotas(plugin: "notes") == ["acme": 400])
        #expect(try store.set(acme, key: "a", value: Array(repeating: 1, count: 300), quota: 10_000))
        let refused = #expect(throws: PaddockError.self) { try store.set(acme, key: "b", value: Array(repeating: 1, count: 100), quota: 10_000) }
        #expect(refused?.code == .storageQuotaExceeded && refused?.field == "quota.tenant", "\(String(describing: refused))")
        // Other tenants have only the plugin's quota; removing acme's frees it.
        #expect(try store.set(.init(plugin: "notes", tenant: "globex"), key: "a", value: Array(repeating: 1, count: 900), quota: 10_000))
        try store.setTenantQuota(acme, bytes: nil)
        #expect(try store.set(acme, key: "b", value: Array(repeating: 1, count: 100), quota: 10_000))
        #expect(throws: PaddockError.self) { try store.setTenantQuota(acme, bytes: -1) }
        try consistent(store, "notes")
    }

    @Test func checkFindsUsageThatDoesNotMatchTheData() throws {
        let store = try PluginStore(path: path)
        try store.set(notes, key: "a", value: [1, 2, 3], quota: 1000)
        try Database(path: path).query("UPDATE storage_usage SET bytes = bytes + 5")
        let check = try #require(try store.check(plugin: "notes").first)
        #expect(check.recorded == check.computed + 5)
        #expect(!check.consistent)
        try store.removeAll(plugin: "notes")
        #expect(try store.check(plugin: "notes").isEmpty)
    }
}
