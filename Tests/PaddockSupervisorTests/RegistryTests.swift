import Foundation
import PaddockCore
@testable import PaddockSupervisor
import PaddockTestSupport
import Testing

@Suite struct RegistryTests {
    private func registry() throws -> (Registry, String) {
        let directory = NSTemporaryDirectory() + "paddock-registry-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (try Registry(dataDirectory: directory, firstUID: 300_000), directory)
    }

    private let manifest = Fixture.load(Fixture.weather).manifest!

    @Test func installsRemembersAcrossReopeningAndUninstalls() throws {
        let (registry, directory) = try registry()
        let record = try registry.install(manifest, directory: "/plugins/weather")
        #expect(record == Registry.Record(id: "weather-forecast", version: "1.0.0", directory: "/plugins/weather", state: .installed, uid: 300_000))
        try registry.setState("weather-forecast", .active)
        let reopened = try Registry(dataDirectory: directory, firstUID: 300_000)
        #expect(try reopened.all().map(\.state) == [.active])
        let duplicate = #expect(throws: PaddockError.self) { try reopened.install(manifest, directory: "/elsewhere") }
        #expect(duplicate?.code == .wrongFormat)
        try reopened.uninstall("weather-forecast")
        #expect(try reopened.all().isEmpty)
        #expect(throws: PaddockError.self) { try reopened.uninstall("weather-forecast") }
    }

    @Test func everyPluginGetsAUidOfItsOwn() throws {
        let (registry, _) = try registry()
        var second = manifest
        second.name = "second"
        let a = try registry.install(manifest, directory: "/a")
        let b = try registry.install(second, directory: "/b")
        #expect(a.uid != b.uid)
        try registry.uninstall(a.id)
        var third = manifest
        third.name = "third"
        #expect(try registry.install(third, directory: "/c").uid == a.uid, "a freed uid is reused")
    }

    @Test func secretsAreSealedAtRestAndNeverShownBack() throws {
        let (registry, _) = try registry()
        try registry.install(manifest, directory: "/a")
        try registry.setSettings(manifest.name, ["api_key": .string("hunter2"), "api_base": .string("http://x")], manifest: manifest)
        #expect(try registry.settings(manifest.name) == .object(["api_key": .string("hunter2"), "api_base": .string("http://x")]))
        #expect(try registry.publicSettings(manifest.name)["api_key"] == .string(Registry.mask))
        let stored = try #require(try registry.storedValue(manifest.name, "api_key"))
        #expect(!stored.contains("hunter2"))
        let unknown = #expect(throws: PaddockError.self) { try registry.setSettings(manifest.name, ["nope": .int(1)], manifest: manifest) }
        #expect(unknown?.field == "settings.nope")
    }
}
