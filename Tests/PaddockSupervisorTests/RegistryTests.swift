import Foundation
import PaddockCore
@testable import PaddockSupervisor
import PaddockTestSupport
import Testing

@Suite struct RegistryTests {
    private func registry() async throws -> (Registry, String) {
        let directory = NSTemporaryDirectory() + "paddock-registry-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        return (try await Registry(dataDirectory: directory, firstUID: 300_000), directory)
    }

    private let manifest = Fixture.load(Fixture.weather).manifest!

    @Test func installsRemembersAcrossReopeningAndUninstalls() async throws {
        let directory: String
        do {
            let (registry, created) = try await registry()
            directory = created
            let record = try await registry.install(manifest, directory: "/plugins/weather")
            #expect(record == Registry.Record(id: "weather-forecast", version: "1.0.0", directory: "/plugins/weather", state: .installed, uid: 300_000))
            try await registry.setState("weather-forecast", .active)
        }
        // A registry of its own, so another owner and connection: what it sees is on disk.
        let reopened = try await Registry(dataDirectory: directory, firstUID: 300_000)
        #expect(try await reopened.all().map(\.state) == [.active])
        let duplicate = await #expect(throws: PaddockError.self) { try await reopened.install(manifest, directory: "/elsewhere") }
        #expect(duplicate?.code == .wrongFormat)
        try await reopened.uninstall("weather-forecast")
        #expect(try await reopened.all().isEmpty)
        await #expect(throws: PaddockError.self) { try await reopened.uninstall("weather-forecast") }
    }

    @Test func everyPluginGetsAUidOfItsOwn() async throws {
        let (registry, _) = try await registry()
        var second = manifest
        second.name = "second"
        let a = try await registry.install(manifest, directory: "/a")
        let b = try await registry.install(second, directory: "/b")
        #expect(a.uid != b.uid)
        try await registry.uninstall(a.id)
        var third = manifest
        third.name = "third"
        #expect(try await registry.install(third, directory: "/c").uid == a.uid, "a freed uid is reused")
    }

    @Test func secretsAreSealedAtRestAndNeverShownBack() async throws {
        let (registry, _) = try await registry()
        try await registry.install(manifest, directory: "/a")
        try await registry.setSettings(manifest.name, ["api_key": .string("hunter2"), "api_base": .string("http://x")], manifest: manifest)
        #expect(try await registry.settings(manifest.name) == .object(["api_key": .string("hunter2"), "api_base": .string("http://x")]))
        #expect(try await registry.publicSettings(manifest.name)["api_key"] == .string(Registry.mask))
        let stored = try #require(try await registry.storedValue(manifest.name, "api_key"))
        #expect(!stored.contains("hunter2"))
        let unknown = await #expect(throws: PaddockError.self) {
            try await registry.setSettings(manifest.name, ["nope": .int(1)], manifest: manifest)
        }
        #expect(unknown?.field == "settings.nope")
    }
}
