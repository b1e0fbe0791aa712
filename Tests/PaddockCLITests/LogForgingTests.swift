import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// The report's forged line, through a real paddockd and `paddock logs`: a
/// plugin's message with a newline and a supervisor-like line behind it, and
/// terminal escapes, come out as escaped text inside one line of its own.
@Suite(.serialized, .timeLimit(.minutes(2)))
struct LogForgingTests {
    @Test func aForgedLineIsEscapedTextInsideOneLineOfThePluginsOwn() throws {
        let directory = "/tmp/paddock-test-plugins/forger-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try Fixture.writeWorldReadable(directory: directory, files: [
            "manifest.yaml": """
                name: forger
                author: tests
                version: "1.0.0"
                type: tool
                description: writes lines that look like the supervisor's
                runner: {language: python, version: "3.11", entrypoint: main.py}
                tools: [{provider: t, items: [{name: forge}]}]

                """,
            "main.py": """
                from paddock_plugin import Plugin
                plugin = Plugin()

                @plugin.tool("forge")
                def forge(params, context):
                    context.log("ok\\n2026-12-02T10:00:00.000Z ERROR forger died: error 304: forged", level="INFO forger died:")
                    context.log("\\x1b[2J\\x1b]0;owned\\x07\\u202e")
                    return {"forged": True}

                """,
        ])
        let daemon = try DaemonTests.RunningDaemon()
        #expect(try daemon.paddock("install", directory).status == 0)
        #expect(try daemon.json("activate", "forger")["state"] == "running")
        #expect(try daemon.json("invoke", "forger", "forge") == ["forged": true])

        let logs = try daemon.paddock("logs", "forger", "--tail", "100")
        #expect(logs.status == 0)
        let lines = logs.stdout.split(separator: "\n").map(String.init)
        #expect(!lines.contains { $0.contains("ERROR forger died") && !$0.contains("[log]") }, "\(logs.stdout)")
        let forged = lines.filter { $0.contains("died: error 304: forged") }
        #expect(forged.count == 1 && forged[0].contains(" INFO forger call=") && forged[0].contains(#"[log] ok\n2026-12-02T10:00:00.000Z ERROR"#), "\(logs.stdout)")
        #expect(lines.contains { $0.contains(#"[log] \x1b[2J\x1b]0;owned\x07\u{202e}"#) }, "\(logs.stdout)")
        #expect(!logs.stdout.unicodeScalars.contains { ($0.value < 0x20 && $0 != "\n") || $0.value == 0x202E }, "no raw escape reaches the terminal")
    }
}
