import PaddockControl
import PaddockCore
import Synchronization

/// Checks API keys with the supervisor (which keeps them hashed) and
/// remembers each answer for two seconds, so a busy client costs one check
/// per two seconds and a revoked key stops working within two seconds.
final class Authenticator: Sendable {
    static let memory: Duration = .seconds(2)

    private let supervisor: SupervisorClient
    private let answers = Mutex<[String: (caller: Caller?, until: ContinuousClock.Instant)]>([:])

    init(supervisor: SupervisorClient) {
        self.supervisor = supervisor
    }

    /// The key in `Authorization: Bearer KEY` or `X-Api-Key: KEY`.
    static func key(authorization: String?, apiKey: String?) -> String? {
        if let apiKey, !apiKey.isEmpty { return apiKey }
        guard let authorization, authorization.lowercased().hasPrefix("bearer ") else { return nil }
        let key = authorization.dropFirst("bearer ".count).trimmingPrefix(" ")
        return key.isEmpty ? nil : String(key)
    }

    /// The remembered answer for a key, while it is fresh: `.some(nil)` for
    /// a key known to be invalid, nil when the supervisor must be asked.
    func remembered(_ key: String, now: ContinuousClock.Instant = .now) -> Caller?? {
        guard let known = answers.withLock({ $0[key] }), known.until > now else { return nil }
        return .some(known.caller)
    }

    /// The caller a key belongs to, or nil for an unknown or revoked key.
    /// - Throws: 306 when the supervisor cannot be asked.
    func caller(for key: String) async throws -> Caller? {
        let now = ContinuousClock.now
        if let known = remembered(key, now: now) { return known }
        let answer = try await supervisor.json(.keysVerify, KeysVerifyRequest(key).params)
        let caller = KeyVerification(result: answer).map { Caller(keyID: $0.id, kind: $0.kind, tenant: $0.tenant) }
        answers.withLock { answers in
            if answers.count > 10_000 { answers = answers.filter { $0.value.until > now } }
            answers[key] = (caller, now + Self.memory)
        }
        return caller
    }
}
