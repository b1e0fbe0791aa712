import Foundation
import Glibc

/// The Dify plugins of `Tests/dify-plugins` (written with Dify's official
/// SDK) and what the tests that run them share.
public enum DifyPlugins {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A plugin's folder: `dify_messages`, `dify_storage`, `dify_caller` or `dify_endpoint`.
    public static func folder(_ name: String) -> String { repository.appendingPathComponent("Tests/dify-plugins/\(name)").path }

    /// `Tests/bench/dify_driver.py`: runs a Dify plugin as Dify's daemon does, with no sandbox.
    public static var driver: String { repository.appendingPathComponent("Tests/bench/dify_driver.py").path }

    /// `Tests/dify-plugins/make_difypkg.py`: zips a plugin folder as `dify plugin package` does.
    public static var packer: String { repository.appendingPathComponent("Tests/dify-plugins/make_difypkg.py").path }

    /// Whether this host has the Python the SDK needs (3.12 or newer, a version manager's: Debian 12 has 3.11).
    public static let hasPython = ((try? FileManager.default.contentsOfDirectory(atPath: "/root/.pyenv/versions")) ?? [])
        .contains { $0.hasPrefix("3.12") || $0.hasPrefix("3.13") }

    /// Makes `<data>/envs` a link to one folder shared by every test daemon,
    /// so that the SDK's environment (the same requirements in every test
    /// plugin) is installed from PyPI once per machine, not once per test.
    /// Call it before the daemon's first install.
    public static func shareEnvironments(_ data: String) throws {
        let shared = "/tmp/paddock-test-dify-envs"
        mkdir(shared, 0o700)
        guard symlink(shared, data + "/envs") == 0 || errno == EEXIST else { throw POSIXError(.EIO) }
    }

    /// The installed environment that holds the SDK (its `bin/python`), under `data`.
    public static func environment(_ data: String) -> String? {
        let root = data + "/envs"
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.map { root + "/" + $0 }.first { folder in
            let lib = folder + "/lib"
            let versions = (try? FileManager.default.contentsOfDirectory(atPath: lib)) ?? []
            return versions.contains { FileManager.default.fileExists(atPath: "\(lib)/\($0)/site-packages/dify_plugin") }
        }
    }
}
