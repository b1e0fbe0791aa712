import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// Cancellation and backpressure from the HTTP client to the plugin, with a
/// plugin that speaks the protocol itself: a client that goes away cancels
/// the call in the plugin, and one that reads slowly slows the plugin down
/// instead of filling paddockd's or the gateway's memory.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct StreamFlowTests {
    /// A gateway with the hostile plugin active.
    static func gateway() throws -> RunningGateway {
        let gateway = try RunningGateway()
        try gateway.paddock("install", try HostilePlugin.write(name: "stubborn"))
        let activated = try gateway.paddock("activate", "stubborn")
        #expect(activated.status == 0, "\(activated.stderr)")
        return gateway
    }

    /// Waits until the plugin's log has a line containing `text`, at most `limit`; the log when it does not.
    static func logShows(_ gateway: RunningGateway, _ text: String, within limit: Duration) throws -> (Bool, String) {
        let deadline = ContinuousClock.now + limit
        var log = ""
        repeat {
            log = try gateway.paddock("logs", "stubborn", "--tail", "200").stdout
            if log.contains(text) { return (true, log) }
            usleep(20_000)
        } while ContinuousClock.now < deadline
        return (false, log)
    }

    static func post(_ gateway: RunningGateway, _ connection: HTTPConnection, tool: String, body: String, stream: Bool) throws {
        var headers = ["Authorization": "Bearer \(gateway.admin)"]
        if stream { headers["Accept"] = "text/event-stream" }
        try connection.send(HTTPConnection.encode("POST", "/v1/plugins/stubborn/tools/\(tool)", headers: headers, body: Array(body.utf8)))
    }

    @Test func anSSEClientThatGoesAwayCancelsTheCallInThePlugin() throws {
        let gateway = try Self.gateway()
        let connection = try HTTPConnection(port: gateway.port)
        try Self.post(gateway, connection, tool: "stream", body: #"{"chunk_bytes": 100}"#, stream: true)
        #expect(try connection.readHead().status == 200)
        var event: String?
        while event == nil, let line = try connection.readLine() {
            if line.hasPrefix("event: ") { event = line }
        }
        #expect(event == "event: chunk", "the stream is flowing")
        connection.close()
        let (cancelled, log) = try Self.logShows(gateway, "received $/cancel", within: .seconds(1))
        #expect(cancelled, "the plugin's log:\n\(log)")
    }

    /// `afterAnotherCall`: the gateway remembers the key and the plugin, and
    /// answers on the connection's event loop (``ToolCallFastPathTests``).
    @Test(arguments: [false, true])
    func aBlockingClientThatGoesAwayCancelsTheCallInThePlugin(afterAnotherCall: Bool) throws {
        let gateway = try Self.gateway()
        let connection = try HTTPConnection(port: gateway.port)
        if afterAnotherCall {
            try Self.post(gateway, connection, tool: "stream", body: #"{"chunk_bytes": 1, "count": 1}"#, stream: false)
            #expect(try connection.readResponse().json?["done"] == true)
        }
        try Self.post(gateway, connection, tool: "wait", body: "{}", stream: false)
        let (arrived, before) = try Self.logShows(gateway, "waits forever", within: .seconds(30))
        #expect(arrived, "the call reached the plugin:\n\(before)")
        connection.close()
        let (cancelled, log) = try Self.logShows(gateway, "received $/cancel", within: .seconds(1))
        #expect(cancelled, "the plugin's log:\n\(log)")
    }

    @Test func aPluginStreamingFasterThanTheClientReadsIsSlowedNotBuffered() throws {
        let gateway = try Self.gateway()
        let daemonBefore = try #require(Self.residentBytes(gateway.daemon.pid))
        let gatewayBefore = try #require(Self.residentBytes(gateway.gateway.pid))
        let connection = try HTTPConnection(port: gateway.port)
        connection.shrinkReceiveBuffer(to: 4096)
        // 1 GiB in 16 KiB chunks, read at 1 KiB/s.
        try Self.post(gateway, connection, tool: "stream", body: #"{"chunk_bytes": 16384, "count": 65536}"#, stream: true)
        #expect(try connection.readHead().status == 200)
        let status = try JSONValue(parsing: Array(try gateway.paddock("status", "stubborn", "--json").stdout.utf8))
        let pluginPID = status["pid"].flatMap { if case .int(let n) = $0 { n } else { nil } }
        var daemonPeak = daemonBefore
        var gatewayPeak = gatewayBefore
        for _ in 0..<16 {
            try connection.discard(upTo: 512)
            usleep(500_000)
            daemonPeak = max(daemonPeak, Self.residentBytes(gateway.daemon.pid) ?? 0)
            gatewayPeak = max(gatewayPeak, Self.residentBytes(gateway.gateway.pid) ?? 0)
        }
        // The plugin was held up, not drained into someone's memory.
        let written = Self.bytesWritten(try #require(pluginPID))
        #expect(written < 48 << 20, "the plugin wrote \(written >> 20) MiB in 8 s to a client that read 8 KiB")
        #expect(daemonPeak - daemonBefore < 64 << 20, "paddockd grew by \((daemonPeak - daemonBefore) >> 20) MiB")
        #expect(gatewayPeak - gatewayBefore < 64 << 20, "the gateway grew by \((gatewayPeak - gatewayBefore) >> 20) MiB")
        connection.close()
        let (cancelled, log) = try Self.logShows(gateway, "received $/cancel", within: .seconds(10))
        #expect(cancelled, "the plugin's log:\n\(log)")
    }

    /// What a process has written so far (`wchar`), in bytes.
    static func bytesWritten(_ pid: Int) -> Int {
        let io = (try? String(contentsOfFile: "/proc/\(pid)/io", encoding: .utf8)) ?? ""
        let line = io.split(separator: "\n").first { $0.hasPrefix("wchar:") }
        return line.flatMap { Int($0.split(separator: " ").last ?? "") } ?? 0
    }

    /// VmRSS of a process, in bytes.
    static func residentBytes(_ pid: Int32) -> Int? {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
            let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return kilobytes * 1024
    }
}
