import Foundation
import PaddockTestSupport
import Testing

/// The Python SDK's own tests (`sdk/python/tests`), under every supported
/// interpreter found here: Debian's 3.11 and a 3.12.
@Suite struct PythonSDKTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static let python312: String? = {
        let candidates = ["/usr/bin/python3.12", "/usr/local/bin/python3.12"]
            + ((try? FileManager.default.contentsOfDirectory(atPath: "/root/.pyenv/versions")) ?? [])
                .filter { $0.hasPrefix("3.12") }.map { "/root/.pyenv/versions/\($0)/bin/python3" }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    private func runTests(with python: String) throws {
        let result = try ProcessRunner.run(
            URL(fileURLWithPath: python),
            ["-m", "unittest", "discover", "-s", Self.repository.appendingPathComponent("sdk/python/tests").path])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("\nOK"), "\(result.stderr)")
    }

    @Test func passesOnPython311() throws {
        try runTests(with: "/usr/bin/python3")
    }

    @Test(.enabled(if: python312 != nil, "no Python 3.12 on this machine (looked in /usr/bin, /usr/local/bin, ~root/.pyenv)"))
    func passesOnPython312() throws {
        try runTests(with: try #require(Self.python312))
    }
}
