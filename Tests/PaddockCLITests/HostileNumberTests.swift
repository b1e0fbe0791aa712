import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// The report's one-call crash: `storage.blob.begin` with a size of
/// `Int.max` (and its neighbours) used to trap paddockd on overflow. Through
/// `paddock run` and through a real paddockd it is a coded error, and the
/// daemon and its other plugins go on serving.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct HostileNumberTests {
    static func bomber() throws -> String {
        let directory = "/tmp/paddock-test-plugins/bomber-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let manifest = """
            name: bomber
            author: tests
            version: "1.0.0"
            type: tool
            description: sends the sizes that overflow
            runner: {language: python, version: "3.11", entrypoint: main.py}
            permission: {storage: 4KB}
            tools: [{provider: t, items: [{name: attack}]}]

            """
        let code = """
            from paddock_plugin import Plugin, PluginError
            plugin = Plugin()

            @plugin.tool("attack")
            def attack(params, context):
                codes = []
                for size in [2**63 - 1, -2**63, 2**63 - 40, 2**53 + 1, 2**64, -1]:
                    for method, arguments in [
                        ("storage.blob.begin", {"name": "big", "size": size, "md5": "0" * 32}),
                        ("storage.blob.append", {"upload": 1, "offset": size, "data": "AA=="}),
                        ("storage.blob.get", {"name": "big", "offset": size, "length": size}),
                        ("storage.list", {"limit": size}),
                    ]:
                        try:
                            context._connection.call(method, arguments)
                            codes.append(0)
                        except PluginError as error:
                            codes.append(error.code)
                return {"codes": codes}

            """
        try Fixture.writeWorldReadable(directory: directory, files: ["manifest.yaml": manifest, "main.py": code])
        return directory
    }

    @Test func throughPaddockRunEveryHostileSizeIsA102() throws {
        let data = "/tmp/paddock-run-data-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        mkdir(data, 0o700)
        let result = try PaddockCLI.run("run", try Self.bomber(), "--data", data, "--tool", "attack")
        #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
        let codes = try JSONValue(parsing: Array(result.stdout.utf8))["codes"]?.arrayValue
        #expect(codes?.count == 24 && codes?.allSatisfy { $0 == 102 } == true, "\(result.stdout)")
    }

    @Test func throughPaddockdTheAttackIsACodedErrorAndTheDaemonKeepsServing() throws {
        let daemon = try DaemonTests.RunningDaemon()
        #expect(try daemon.paddock("install", try Self.bomber()).status == 0)
        #expect(try daemon.paddock("install", StorageDaemonTests.notes).status == 0)
        #expect(try daemon.json("activate", "bomber")["state"] == "running")
        #expect(try daemon.json("activate", "notes")["state"] == "running")
        for _ in 0..<3 {
            let codes = try daemon.json("invoke", "bomber", "attack")["codes"]?.arrayValue
            #expect(codes?.count == 24 && codes?.allSatisfy { $0 == 102 } == true, "\(String(describing: codes))")
        }
        let saved = try daemon.json("invoke", "notes", "save_note", "--params", #"{"title": "after", "text": "the attack"}"#)
        #expect(saved["id"] != nil, "\(saved)")
        #expect(try daemon.json("status", "bomber", "--json")["state"] == "running")
    }
}
