import Foundation
import Glibc
import PaddockCore
@testable import PaddockSandbox
import Testing

/// The decoded-profile cache gives back exactly what parsing gives, and
/// only while every file the profile was read from is unchanged.
@Suite(.enabled(if: Sandbox.isRoot, "the profile cache is used only by root"))
struct ProfileCacheTests {
    @Test(arguments: ["default", "network", "strict"])
    func theFlatFormIsTheProfile(name: String) throws {
        var sources: [String] = []
        let profile = try SandboxProfile.load(path: Sandbox.profile(name), sources: &sources)
        #expect(sources.count == (name == "default" ? 1 : 2))
        let text = try #require(ProfileCache.encode(profile, sources: sources))
        #expect(ProfileCache.decode(Array(text.utf8)) == profile)
    }

    @Test func anEditedParentIsReadAgain() throws {
        let directory = try Sandbox.scratch("profile-cache")
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["default", "network"] {
            try FileManager.default.copyItem(atPath: Sandbox.profile(name), toPath: directory.path + "/\(name).yaml")
        }
        let cache = try #require(ProfileCache(directory: directory.path + "/cache"))
        let child = directory.path + "/network.yaml"
        let first = try cache.load(path: child)
        #expect(try cache.load(path: child) == first)
        let parent = directory.path + "/default.yaml"
        let edited = try String(contentsOfFile: parent, encoding: .utf8).replacingOccurrences(of: "processes: 64", with: "processes: 7")
        try edited.write(toFile: parent, atomically: false, encoding: .utf8)
        #expect(try cache.load(path: child).limits.processes == 7)
    }

    @Test func aProfileWithATabOrNewlineInAValueIsNotCached() throws {
        var profile = try SandboxProfile.load(path: Sandbox.profile("default"))
        profile.environment["ODD"] = "a\tb"
        #expect(ProfileCache.encode(profile, sources: []) == nil)
    }
}
