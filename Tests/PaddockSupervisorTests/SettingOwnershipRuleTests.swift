import Foundation
import PaddockCore
@testable import PaddockSupervisor
import Testing

/// ``SettingOwnership`` on the shipped weather plugin's manifest.
@Suite struct SettingOwnershipRuleTests {
    static let manifest = Result { try ManifestLoader().manifest(in: URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("examples/weather-forecast").path) }
    static let operatorValues: [String: JSONValue] = ["api_base": "https://op", "api_key": "op-key"]

    @Test func theOperatorsSecretGoesOnlyWhereTheOperatorsStringsPoint() throws {
        let manifest = try Self.manifest.get()
        let effective = { (tenant: [String: JSONValue]) in SettingOwnership.effective(operator: Self.operatorValues, tenant: tenant, manifest: manifest) }
        #expect(effective([:]) == Self.operatorValues)
        #expect(effective(["units": "imperial"]) == ["api_base": "https://op", "api_key": "op-key", "units": "imperial"], "a bounded choice is not a destination")
        #expect(effective(["api_base": "https://evil"]) == ["api_base": "https://evil"], "the operator's key is withheld")
        #expect(effective(["api_key": "mine"]) == ["api_base": "https://op", "api_key": "mine"])
        #expect(effective(["api_base": "https://mine", "api_key": "mine"]) == ["api_base": "https://mine", "api_key": "mine"])
        #expect(effective(["undeclared": "x"]) == Self.operatorValues, "a value for no setting the tenant may set is ignored")
    }

    @Test func onlyTenantScopedSettingsMayBeSetByATenant() throws {
        var manifest = try Self.manifest.get()
        manifest.settings[0].scope = .operator
        #expect(throws: PaddockError.self) { try SettingOwnership.checkTenantMaySet(["api_base"], manifest: manifest) }
        try SettingOwnership.checkTenantMaySet(["api_key", "units"], manifest: manifest)
        #expect(SettingOwnership.effective(operator: Self.operatorValues, tenant: ["api_base": "https://evil"], manifest: manifest) == Self.operatorValues)
    }
}
