import PaddockControl
import PaddockCore
import Prometheus
import Synchronization

/// The gateway's Prometheus metrics: requests by route, method and status,
/// latency histograms by route, calls by plugin; and, at each scrape, the
/// supervisor's per-plugin figures (restarts, deaths by code, memory,
/// storage, calls served, state).
final class GatewayMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    /// The per-plugin gauges exported at the last scrape, to drop those of
    /// plugins that are gone.
    private let exported = Mutex<[String: [Gauge]]>([:])
    private static let buckets: [Duration] = [
        .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
        .seconds(5), .seconds(10), .seconds(30),
    ]

    private static func name(_ subsystem: String, _ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "paddock", subsystem: subsystem, metricName: metric, unitName: unit, helpText: help)
    }

    /// The counters and histograms of each label set seen, so that a request
    /// costs a dictionary look-up, not a registry one.
    private let requestSeries = Mutex<[String: (count: Counter, duration: DurationHistogram)]>([:])
    private let callSeries = Mutex<[String: Counter]>([:])

    /// Counts one answered request and its latency.
    func request(route: String, method: String, status: Int, duration: Duration) {
        let key = route + " " + method + " " + String(status)
        let series = requestSeries.withLock { known in
            if let series = known[key] { return series }
            let series = (
                count: registry.makeCounter(
                    descriptor: Self.name("gateway", "requests", "total", "HTTP requests answered, by route, method and status"),
                    labels: [("route", route), ("method", method), ("status", String(status))]),
                duration: registry.makeDurationHistogram(
                    descriptor: Self.name("gateway", "request_duration", "seconds", "Time to answer a request, by route"),
                    labels: [("route", route)], buckets: Self.buckets))
            if known.count >= 10_000 { known.removeAll() }
            known[key] = series
            return series
        }
        series.count.increment()
        series.duration.record(duration)
    }

    /// Counts a call to a plugin (tool or endpoint) and its outcome code (0: success).
    /// The `plugin` label of calls to a plugin that is not installed.
    static let unknownPlugin = "-"

    func pluginCall(_ plugin: String, kind: String, code: Int) {
        let key = plugin + " " + kind + " " + String(code)
        let counter = callSeries.withLock { known in
            if let counter = known[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.name("gateway", "plugin_calls", "total", "Calls through the gateway, by plugin, kind and outcome code"),
                labels: [("plugin", plugin), ("kind", kind), ("code", String(code))])
            if known.count >= 10_000 { known.removeAll() }
            known[key] = counter
            return counter
        }
        counter.increment()
    }

    /// The text exposition, with the supervisor's figures (`metrics` control
    /// method) refreshed first when it answers.
    func exposition(supervisor: SupervisorClient) async -> [UInt8] {
        let up = registry.makeGauge(descriptor: Self.name("gateway", "supervisor", "up", "1 when paddockd answers"))
        if let plugins = try? await supervisor.json(.metrics).arrayValue {
            up.set(to: 1.0)
            var current: [String: [Gauge]] = [:]
            for plugin in plugins {
                guard let id = plugin["id"]?.stringValue else { continue }
                func gauge(_ metric: String, _ unit: String, _ help: String, _ key: String) {
                    guard let value = plugin[key]?.numberValue else { return }
                    let gauge = registry.makeGauge(descriptor: Self.name("plugin", metric, unit, help), labels: [("plugin", id)])
                    gauge.set(to: value)
                    current[id, default: []].append(gauge)
                }
                gauge("restarts", "total", "Restarts since the supervisor started", "restarts")
                gauge("calls_served", "total", "Calls the plugin answered", "calls_served")
                gauge("memory", "bytes", "Memory charged to the plugin's cgroup", "memory_bytes")
                gauge("storage", "bytes", "Bytes the plugin stores", "storage_bytes")
                gauge("storage_quota", "bytes", "The plugin's storage quota", "storage_quota")
                gauge("running", "state", "1 while the plugin runs", "running")
                gauge("dropped_log_lines", "total", "Output lines dropped because the plugin wrote faster than its log is written", "dropped_log_lines")
                if case .object(let deaths)? = plugin["deaths"] {
                    for (code, count) in deaths {
                        let gauge = registry.makeGauge(
                            descriptor: Self.name("plugin", "deaths", "total", "Plugin deaths by catalog code"),
                            labels: [("plugin", id), ("code", code)])
                        gauge.set(to: count.numberValue ?? 0)
                        current[id, default: []].append(gauge)
                    }
                }
            }
            let gone = exported.withLock { exported in
                defer { exported = current }
                return exported.filter { current[$0.key] == nil }.values.flatMap { $0 }
            }
            for gauge in gone { registry.unregisterGauge(gauge) }
        } else {
            up.set(to: 0.0)
        }
        return registry.emitToBuffer()
    }
}
