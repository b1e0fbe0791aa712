import Glibc
import PaddockCore

/// What a flow's run did, for inspection: its input, variables, every
/// node's input, output, timing and error, and the run's output or error.
/// Times are milliseconds since the Unix epoch (with microseconds).
struct FlowRecord: Sendable {
    enum Status: String, Sendable {
        case running, succeeded, failed
        /// Running when paddockd stopped.
        case interrupted
    }

    struct Node: Sendable {
        enum Status: String, Sendable {
            case running, succeeded, failed, skipped
            /// Failed, and its fallback stood in for its output.
            case fallback
            /// Stopped because the flow failed or passed its deadline.
            case cancelled
        }

        var kind: String
        var status: Status
        var startedMs: Double
        var endedMs: Double?
        var input: JSONValue?
        var output: JSONValue?
        var error: PaddockError?

        /// Done: its dependents may start (or be skipped).
        var isDone: Bool { status != .running }
    }

    var run: String
    var tenant: String
    var flow: String
    var status: Status = .running
    var startedMs: Double
    var endedMs: Double?
    var input: JSONValue
    var variables: [String: JSONValue] = [:]
    var nodes: [String: Node] = [:]
    var output: JSONValue?
    var error: PaddockError?

    /// A value larger than this (as JSON) is kept in the record as its size only.
    static let largestKeptValue = 64 << 10
    /// A record larger than this keeps only values of up to ``smallestKeptValue``.
    static let largestRecord = 256 << 10
    static let smallestKeptValue = 1 << 10

    /// The record as JSON, at most about ``largestRecord`` bytes: a tenant's
    /// runs cannot fill the disk with what their nodes said.
    var json: JSONValue {
        let full = json(keeping: Self.largestKeptValue)
        return full.jsonBytes.count <= Self.largestRecord ? full : json(keeping: Self.smallestKeptValue)
    }

    private func json(keeping limit: Int) -> JSONValue {
        let kept = { (value: JSONValue) in Self.kept(value, limit) }
        var object: [String: JSONValue] = [
            "run": .string(run), "flow": .string(flow), "tenant": .string(tenant), "status": .string(status.rawValue),
            "started_ms": .double(startedMs), "input": kept(input), "variables": .object(variables.mapValues(kept)),
            "nodes": .object(nodes.mapValues { Self.json($0, kept) }),
        ]
        if let endedMs {
            object["ended_ms"] = .double(endedMs)
            object["duration_ms"] = .double(Self.rounded(endedMs - startedMs))
        }
        if let output { object["output"] = kept(output) }
        if let error { object["error"] = Self.json(error) }
        return .object(object)
    }

    private static func json(_ node: Node, _ kept: (JSONValue) -> JSONValue) -> JSONValue {
        var object: [String: JSONValue] = ["kind": .string(node.kind), "status": .string(node.status.rawValue), "started_ms": .double(node.startedMs)]
        if let endedMs = node.endedMs {
            object["ended_ms"] = .double(endedMs)
            object["duration_ms"] = .double(rounded(endedMs - node.startedMs))
        }
        if let input = node.input { object["input"] = kept(input) }
        if let output = node.output { object["output"] = kept(output) }
        if let error = node.error { object["error"] = json(error) }
        return .object(object)
    }

    static func json(_ error: PaddockError) -> JSONValue {
        var object: [String: JSONValue] = [
            "code": .int(error.code.rawValue), "message": .string(error.message), "details": .object(error.details.mapValues(JSONValue.string)),
        ]
        if let field = error.field { object["field"] = .string(field) }
        return .object(object)
    }

    private static func kept(_ value: JSONValue, _ limit: Int) -> JSONValue {
        let size = value.jsonBytes.count
        return size > limit ? ["not_kept": "larger than the record keeps", "bytes": .int(size)] : value
    }

    static func rounded(_ milliseconds: Double) -> Double {
        (milliseconds * 1000).rounded() / 1000
    }

    /// Now, in milliseconds since the Unix epoch, to the microsecond.
    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return rounded(Double(time.tv_sec) * 1000 + Double(time.tv_nsec) / 1_000_000)
    }
}
