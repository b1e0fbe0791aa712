import Foundation
import Glibc
import PaddockCore
@testable import PaddockSandbox
import Testing

/// The compiled-filter cache trusts only root's files with the exact policy text.
@Suite(.enabled(if: Sandbox.isRoot, "the seccomp cache is used only by root"))
struct SeccompCacheTests {
    let policy = SeccompPolicy(defaultAction: .errno(EPERM), allow: ["read", "write", "exit_group"], actions: ["ptrace": .kill])

    @Test func storedProgramIsFoundForTheSamePolicyOnly() throws {
        let directory = try Sandbox.scratch("cache")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try #require(SeccompCache(directory: directory.path + "/seccomp"))
        let compiled = try SeccompFilter(policy, cache: cache).program
        #expect(compiled.count % 8 == 0 && compiled.count > 0)
        #expect(cache.program(for: SeccompCache.key(for: policy)) == compiled)

        var other = policy
        other.allow.append("getpid")
        #expect(cache.program(for: SeccompCache.key(for: other)) == nil)
        #expect(try SeccompFilter(other, cache: cache).program != compiled)
    }

    @Test func fileOthersCanWriteIsIgnored() throws {
        let directory = try Sandbox.scratch("cache")
        defer { try? FileManager.default.removeItem(at: directory) }
        let cache = try #require(SeccompCache(directory: directory.path + "/seccomp"))
        let key = SeccompCache.key(for: policy)
        cache.store([UInt8](repeating: 0, count: 64), for: key)
        #expect(cache.program(for: key) != nil)
        let files = try FileManager.default.contentsOfDirectory(atPath: cache.directory)
        for file in files { chmod(cache.directory + "/" + file, 0o666) }
        #expect(cache.program(for: key) == nil)
    }

    @Test func directoryOthersCanWriteIsNotACache() throws {
        let directory = try Sandbox.scratch("cache")
        defer { try? FileManager.default.removeItem(at: directory) }
        chmod(directory.path, 0o777)
        #expect(SeccompCache(directory: directory.path) == nil)
    }
}
