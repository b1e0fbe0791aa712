public import PaddockCore

/// `gateway.yaml`: CORS, limits, rate limits and the result cache. Every
/// key is optional; the defaults allow no cross-origin request at all.
///
/// ```yaml
/// cors: {origins: ["https://app.example.com"], methods: [GET, POST], headers: [Authorization, Content-Type], max_age: 600}
/// limits: {body: 10MiB, package: 64MiB, header_timeout: 10, idle_timeout: 60, call_timeout: 60}
/// rate_limits: {per_key: {rate: 100, burst: 200}, per_plugin: {rate: 1000, burst: 2000}}
/// cache: {max_bytes: 64MiB}
/// metrics: {key: admin}   # or any, or none
/// ```
public struct GatewayConfiguration: Sendable {
    public struct CORS: Sendable {
        /// Origins allowed exactly (`*` allows any).
        public var origins: [String] = []
        public var methods: [String] = ["GET", "POST", "PUT", "DELETE"]
        public var headers: [String] = ["Authorization", "Content-Type", "X-Api-Key", "Accept", "Accept-Language", "X-Request-Id"]
        public var maxAge: Int = 600
    }

    /// A token bucket: `rate` requests a second, bursts of up to `burst`.
    public struct Rate: Sendable, Equatable {
        public var rate: Double
        public var burst: Double
    }

    public var cors = CORS()
    /// The largest request body; 413 beyond.
    public var maximumBodyBytes = 10 << 20
    /// The largest package `POST /v1/plugins` takes; 413 beyond.
    public var maximumPackageBytes = 64 << 20
    /// A request's head must arrive within this after the connection opens
    /// or its first byte arrives; slow clients are cut off.
    public var headerTimeout: Duration = .seconds(10)
    /// A keep-alive connection with no request for this long is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// How long a call may take end to end before the gateway answers 504.
    public var callTimeout: Duration = .seconds(60)
    public var perKey = Rate(rate: 200, burst: 400)
    public var perPlugin = Rate(rate: 2000, burst: 4000)
    /// The result cache's bound, in bytes of cached responses.
    public var cacheBytes = 64 << 20
    /// Who may read `/metrics`: plugin ids, memory and usage are the operator's.
    public var metricsAccess = MetricsAccess.admin

    /// `metrics: {key: admin | any | none}`.
    public enum MetricsAccess: String, Sendable {
        /// An admin key (the default).
        case admin
        /// Any valid key.
        case any
        /// No key: for a scraper on a network only the operator reaches.
        case none
    }

    public init() {}

    /// Reads `path`.
    /// - Throws: 101 when it is missing, 102 naming the first problem.
    public static func load(path: String) throws(PaddockError) -> GatewayConfiguration {
        guard let node = try YAMLParser().parse(contentsOf: path) else { return GatewayConfiguration() }
        let diagnostics = YAMLDiagnostics()
        let yaml = YAMLDecoder(node: node, diagnostics: diagnostics)
        var configuration = GatewayConfiguration()
        if yaml.expectMapping(known: ["cors", "limits", "rate_limits", "cache", "metrics"]) {
            if let metrics = yaml.optional("metrics"), metrics.expectMapping(known: ["key"]), let field = metrics.optional("key") {
                if let access = field.text.flatMap(MetricsAccess.init(rawValue:)) {
                    configuration.metricsAccess = access
                } else {
                    field.problem(.wrongFormat, "is admin, any or none")
                }
            }
            if let cors = yaml.optional("cors"), cors.expectMapping(known: ["origins", "methods", "headers", "max_age"]) {
                func strings(_ key: String) -> [String]? { cors.optional(key)?.items?.compactMap(\.string) }
                configuration.cors.origins = strings("origins") ?? []
                configuration.cors.methods = strings("methods")?.map { $0.uppercased() } ?? configuration.cors.methods
                configuration.cors.headers = strings("headers") ?? configuration.cors.headers
                configuration.cors.maxAge = cors.optional("max_age")?.int ?? configuration.cors.maxAge
            }
            if let limits = yaml.optional("limits"),
                limits.expectMapping(known: ["body", "package", "header_timeout", "idle_timeout", "call_timeout"])
            {
                if let body = limits.optional("body")?.decode(ByteSize.self) { configuration.maximumBodyBytes = body.bytes }
                if let package = limits.optional("package")?.decode(ByteSize.self) { configuration.maximumPackageBytes = package.bytes }
                func seconds(_ key: String) -> Duration? {
                    guard let field = limits.optional(key), let seconds = field.double else { return nil }
                    // Checked before it becomes a Duration: 1e300 seconds would trap.
                    guard seconds > 0, seconds <= 86_400 else {
                        field.problem(.wrongFormat, "must be more than 0 and at most 86400 seconds")
                        return nil
                    }
                    return .milliseconds(Int64(seconds * 1000))
                }
                configuration.headerTimeout = seconds("header_timeout") ?? configuration.headerTimeout
                configuration.idleTimeout = seconds("idle_timeout") ?? configuration.idleTimeout
                configuration.callTimeout = seconds("call_timeout") ?? configuration.callTimeout
            }
            if let rates = yaml.optional("rate_limits"), rates.expectMapping(known: ["per_key", "per_plugin"]) {
                func rate(_ key: String) -> Rate? {
                    guard let entry = rates.optional(key), entry.expectMapping(known: ["rate", "burst"]),
                        let rate = entry.required("rate")?.double
                    else { return nil }
                    return Rate(rate: rate, burst: entry.optional("burst")?.double ?? rate)
                }
                configuration.perKey = rate("per_key") ?? configuration.perKey
                configuration.perPlugin = rate("per_plugin") ?? configuration.perPlugin
            }
            if let cache = yaml.optional("cache"), cache.expectMapping(known: ["max_bytes"]),
                let bytes = cache.optional("max_bytes")?.decode(ByteSize.self)
            {
                configuration.cacheBytes = bytes.bytes
            }
        }
        let positive: [(String, Bool)] = [
            ("limits.body", configuration.maximumBodyBytes > 0), ("limits.package", configuration.maximumPackageBytes > 0),
            ("limits.header_timeout", configuration.headerTimeout > .zero),
            ("limits.idle_timeout", configuration.idleTimeout > .zero), ("limits.call_timeout", configuration.callTimeout > .zero),
            ("rate_limits.per_key", configuration.perKey.rate > 0 && configuration.perKey.burst >= 1),
            ("rate_limits.per_plugin", configuration.perPlugin.rate > 0 && configuration.perPlugin.burst >= 1),
        ]
        for (field, valid) in positive where !valid {
            diagnostics.record(PaddockError(.wrongFormat, "must be positive (a rate above 0, a burst of at least 1)", field: field))
        }
        if let first = (diagnostics.errors + diagnostics.warnings).first {
            throw PaddockError(first.code, "\(path): \(first.field ?? "document"): \(first.message)", field: first.field)
        }
        return configuration
    }
}
