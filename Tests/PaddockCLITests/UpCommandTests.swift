import Foundation
import Glibc
import PaddockTestSupport
import Testing

/// `paddock up` (what `make run` runs): it announces only plugins that run.
@Suite(.serialized, .timeLimit(.minutes(2)), .enabled(if: geteuid() == 0, "plugins run under uids of their own as root"))
struct UpCommandTests {
    @Test func allFiveExamplesRunAndAreAnnounced() throws {
        let data = "/tmp/paddock-up-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let up = try Background(PaddockCLI.binary, ["up", "--data", data, "--listen", "127.0.0.1:0"])
        defer { up.stop() }
        var lines: [String] = []
        for _ in 0..<60 {  // up to the banner (at the end of its output, nextLine is "")
            let line = up.nextLine()
            if line.hasPrefix("Paddock is up") { break }
            lines.append(line)
        }
        let running = lines.filter { $0.hasPrefix("running: ") }.map { String($0.dropFirst("running: ".count)) }
        #expect(running.sorted() == ["echo-swift", "mini-llm", "notes", "text-tools", "weather-forecast"], "\(lines)")
        #expect(up.nextLine().hasPrefix("Running 5 of 5 examples"))
        kill(up.pid, SIGINT)
        #expect(up.wait() == 0)
    }

    @Test func aSignalWhileStartingStopsWhatHasStarted() throws {
        let data = "/tmp/paddock-up-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let up = try Background(PaddockCLI.binary, ["up", "--data", data, "--listen", "127.0.0.1:0"])
        defer { up.stop() }
        // As soon as paddockd runs (the examples are still being installed), Ctrl-C.
        let deadline = ContinuousClock.now + .seconds(20)
        while HostProcesses.containing(data).isEmpty, ContinuousClock.now < deadline { usleep(5_000) }
        #expect(!HostProcesses.containing(data).isEmpty, "paddockd never started")
        kill(up.pid, SIGINT)
        #expect(up.wait() == 0)
        #expect(HostProcesses.containing(data).isEmpty, "paddockd outlived paddock up")
        #expect(HostProcesses.containing(data + "/paddockd.sock").isEmpty, "the gateway outlived paddock up")
    }

    @Test func whenNoExampleStartsItSaysWhyAndFails() throws {
        let data = "/tmp/paddock-up-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: data) }
        let result = try ProcessRunner.run(
            PaddockCLI.binary, ["up", "--data", data, "--listen", "127.0.0.1:0"], environment: ["PADDOCK_LAUNCHER": "/bin/false"])
        #expect(result.status == 1)
        #expect(!result.stdout.contains("Paddock is up"), "\(result.stdout)")
        #expect(result.stdout.contains("not running: text-tools: failed (last death: error 305"), "\(result.stdout)")
        #expect(result.stderr.contains("error 306: no example plugin started"), "\(result.stderr)")
    }
}
