import PaddockCore
import Synchronization

/// Tool results by (tenant, plugin, tool, parameters), each for its tool's
/// `cache_ttl`; least recently used entries go first once the cached bytes
/// pass the bound.
final class ResultCache: Sendable {
    private struct Entry {
        var value: [UInt8]
        var expires: ContinuousClock.Instant
        var used: UInt64
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var bytes = 0
        var clock: UInt64 = 0
    }

    let maximumBytes: Int
    private let state = Mutex(State())

    init(maximumBytes: Int) {
        self.maximumBytes = maximumBytes
    }

    func get(_ key: String, now: ContinuousClock.Instant = .now) -> [UInt8]? {
        state.withLock { state in
            guard var entry = state.entries[key] else { return nil }
            guard entry.expires > now else {
                state.entries[key] = nil
                state.bytes -= key.utf8.count + entry.value.count
                return nil
            }
            state.clock += 1
            entry.used = state.clock
            state.entries[key] = entry
            return entry.value
        }
    }

    /// The key of a call's result: (tenant, plugin, tool, parameters).
    static func key(tenant: String?, plugin: String, tool: String, arguments: JSONValue) -> String {
        "\(tenant ?? "")\u{0}\(plugin)\u{0}\(tool)\u{0}\(arguments.jsonText)"
    }

    /// Drops the plugin's results, for one tenant or (nil) for all: its
    /// settings changed, so a result may no longer be what a call would give.
    func forget(plugin: String, tenant: String? = nil) {
        let prefix = tenant.map { "\($0)\u{0}\(plugin)\u{0}" }
        let infix = "\u{0}\(plugin)\u{0}"
        state.withLock { state in
            for (key, entry) in state.entries {
                let matches = if let prefix { key.hasPrefix(prefix) } else { key.drop { $0 != "\u{0}" }.hasPrefix(infix) }
                guard matches else { continue }
                state.entries[key] = nil
                state.bytes -= key.utf8.count + entry.value.count
            }
        }
    }

    func put(_ key: String, _ value: [UInt8], ttl: Duration, now: ContinuousClock.Instant = .now) {
        let size = key.utf8.count + value.count
        guard size <= maximumBytes / 4 else { return }
        state.withLock { state in
            if let old = state.entries[key] { state.bytes -= key.utf8.count + old.value.count }
            state.clock += 1
            state.entries[key] = Entry(value: value, expires: now + ttl, used: state.clock)
            state.bytes += size
            guard state.bytes > maximumBytes else { return }
            // Evict by age of last use until under the bound.
            for (oldKey, entry) in state.entries.sorted(by: { $0.value.used < $1.value.used }) {
                guard state.bytes > maximumBytes else { break }
                state.entries[oldKey] = nil
                state.bytes -= oldKey.utf8.count + entry.value.count
            }
        }
    }
}
