import Synchronization

/// Rate limits: a token bucket per name (an API key, a plugin), refilled at
/// `rate` tokens a second up to `burst`.
final class TokenBuckets: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: ContinuousClock.Instant
    }

    let rate: Double
    let burst: Double
    private let buckets = Mutex<[String: Bucket]>([:])

    init(rate: Double, burst: Double) {
        self.rate = max(rate, 0.001)
        self.burst = max(1, burst)
    }

    /// Takes a token for `name`.
    /// - Returns: nil when granted, else the seconds until a token is there.
    func take(_ name: String, now: ContinuousClock.Instant = .now) -> Double? {
        buckets.withLock { buckets in
            var bucket = buckets[name] ?? Bucket(tokens: burst, updated: now)
            let (seconds, attoseconds) = bucket.updated.duration(to: now).components
            bucket.tokens = min(burst, bucket.tokens + (Double(seconds) + Double(attoseconds) / 1e18) * rate)
            bucket.updated = now
            defer {
                buckets[name] = bucket
                if buckets.count > 100_000 { buckets = buckets.filter { $0.value.tokens < burst } }
            }
            guard bucket.tokens >= 1 else { return min((1 - bucket.tokens) / rate, 3600) }
            bucket.tokens -= 1
            return nil
        }
    }
}
