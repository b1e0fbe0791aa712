import Foundation
import Glibc
import NIOCore
import NIOPosix
import PaddockCore
import PaddockPluginKit
import PaddockRPC
import Synchronization
import Testing

/// The Swift SDK against a host peer over a real socketpair.
@Suite(.timeLimit(.minutes(1)))
struct PluginKitTests {
    static func plugin() -> Plugin {
        let plugin = Plugin()
        plugin.tool("echo") { params, context in
            context.log("echoing")
            return params
        }
        plugin.tool("count", stream: { params, _ in
            AsyncThrowingStream { continuation in
                let n = params["n"].flatMap { if case .int(let v) = $0 { v } else { nil } } ?? 0
                for i in 0..<n { continuation.yield(.int(i)) }
                continuation.finish()
            }
        })
        plugin.tool("upstream") { _, _ in throw PaddockError(.upstreamFailed, "the API said 503", details: ["status": "503"]) }
        plugin.tool("nap") { _, context in
            while !context.isCancelled { try await Task.sleep(for: .milliseconds(10)) }
            try context.checkCancellation()
            return [:]
        }
        plugin.tool("storage") { _, context in try await context.host("storage.get", ["key": "k"]) }
        plugin.tool("typed-storage") { _, context in
            let stored = try await context.storage.set("k", Array("new".utf8), expected: Array("old".utf8))
            let value = try await context.storage.get("k")
            return ["stored": .bool(stored), "value": value.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .null]
        }
        plugin.endpoint(.GET, "/hello") { request, _ in
            EndpointResponse(status: 201, json: ["hi": request.params["name"] ?? .null])
        }
        plugin.credentials { credentials, _ in
            guard credentials["key"] == "ok" else { throw PaddockError(.upstreamFailed, "the key was refused") }
            return true
        }
        return plugin
    }

    /// The host's end; the plugin serves the other end.
    private func connect(_ plugin: Plugin, host service: RPCService = .none) async throws -> RPCPeer {
        var fds: [Int32] = [0, 0]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { throw PaddockError(.pluginUnavailable, "socketpair") }
        let pluginEnd = fds[1]
        Task { try await plugin.serve(socket: pluginEnd) }
        let host = try await RPCPeer.connect(socket: fds[0], service: service, group: MultiThreadedEventLoopGroup.singleton)
        _ = try await host.call("initialize", params: (["settings": [:], "workers": 4] as JSONValue).jsonBytes).get()
        return host
    }

    private func call(_ host: RPCPeer, _ method: String, _ params: JSONValue, timeout: TimeAmount? = nil, onChunk: (@Sendable ([UInt8]) -> Void)? = nil) async throws -> JSONValue {
        try JSONValue(parsing: try await host.call(method, params: params.jsonBytes, timeout: timeout, onChunk: onChunk).get())
    }

    @Test func announcesItsHandlers() async throws {
        var fds: [Int32] = [0, 0]
        socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds)
        let pluginEnd = fds[1]
        Task { try await Self.plugin().serve(socket: pluginEnd) }
        let host = try await RPCPeer.connect(socket: fds[0], service: .none, group: MultiThreadedEventLoopGroup.singleton)
        defer { host.close() }
        let answer = try JSONValue(parsing: try await host.call("initialize", params: Array("{}".utf8)).get())
        #expect(answer["tools"] == ["count", "echo", "nap", "storage", "typed-storage", "upstream"])
        #expect(answer["endpoints"] == [["method": "GET", "path": "/hello"]])
        #expect(answer["credentials"] == true)
        #expect(answer["sdk"]?.stringValue?.hasPrefix("paddock-swift/") == true)
    }

    @Test func toolsStreamingAndCodedErrors() async throws {
        let host = try await connect(Self.plugin())
        defer { host.close() }
        #expect(try await call(host, "tool.invoke", ["tool": "echo", "params": ["x": [1, "é"]]]) == ["x": [1, "é"]])
        let chunks = Mutex<[String]>([])
        let result = try await call(host, "tool.invoke", ["tool": "count", "params": ["n": 3]]) { chunk in
            chunks.withLock { $0.append(String(decoding: chunk, as: UTF8.self)) }
        }
        #expect(result == ["chunks": 3])
        #expect(chunks.withLock { $0 } == ["0", "1", "2"])
        let upstream = await #expect(throws: PaddockError.self) { try await call(host, "tool.invoke", ["tool": "upstream"]) }
        #expect(upstream?.code == .upstreamFailed)
        #expect(upstream?.details["status"] == "503")
    }

    @Test func logLinesCarryTheCallAndTheRequestItServes() async throws {
        let logged = Mutex<[JSONValue]>([])
        let service = RPCService(
            request: RPCService.none.request,
            notification: { method, params in
                guard method == "log", let line = try? JSONValue(parsing: params) else { return }
                logged.withLock { $0.append(line) }
            })
        let host = try await connect(Self.plugin(), host: service)
        defer { host.close() }
        _ = try await call(host, "tool.invoke", ["tool": "echo", "params": [:], "request_id": "4f9c-req.1"])
        _ = try await call(host, "tool.invoke", ["tool": "echo", "params": [:]])
        _ = try await call(host, "tool.invoke", ["tool": "echo", "params": [:], "request_id": "not one"])
        let lines = logged.withLock { $0 }
        #expect(lines.map { $0["message"] } == ["echoing", "echoing", "echoing"])
        #expect(lines.allSatisfy { $0["call"] != nil && $0["call"] != .null })
        #expect(lines.map { $0["request_id"] } == ["4f9c-req.1", nil, nil])
    }

    @Test func pingIsAnsweredWhileHandlersAreBusyAndCancellationIsHonoured() async throws {
        let host = try await connect(Self.plugin())
        defer { host.close() }
        async let napping: Void = { _ = try? await host.call("tool.invoke", params: (["tool": "nap"] as JSONValue).jsonBytes, timeout: .milliseconds(300)).get() }()
        let started = ContinuousClock.now
        #expect(try await host.call("ping").get() == Array("{}".utf8))
        #expect(started.duration(to: .now) < .milliseconds(200))
        await napping
        // After the cancellation the plugin still serves.
        #expect(try await call(host, "tool.invoke", ["tool": "echo", "params": ["a": 1]]) == ["a": 1])
    }

    @Test func endpointsCredentialsAndHostCalls() async throws {
        let refuse = RPCService { method, _, reply in
            reply.fail(RPCError(PaddockError(.permissionDenied, "\(method) needs permission.storage")))
        }
        let host = try await connect(Self.plugin(), host: refuse)
        defer { host.close() }
        let response = try await call(host, "endpoint.invoke", ["method": "GET", "path": "/hello", "body": "", "params": ["name": "Ada"]])
        #expect(response["status"] == 201)
        let body = Data(base64Encoded: response["body"]?.stringValue ?? "") ?? Data()
        #expect(try JSONValue(parsing: [UInt8](body)) == ["hi": "Ada"])
        #expect(try await call(host, "credentials.validate", ["credentials": ["key": "ok"]]) == ["valid": true])
        #expect(try await call(host, "credentials.validate", ["credentials": ["key": "no"]]) == ["valid": false, "message": "the key was refused"])
        let denied = await #expect(throws: PaddockError.self) { try await call(host, "tool.invoke", ["tool": "storage"]) }
        #expect(denied?.code == .permissionDenied)
    }

    @Test func typedStorageSpeaksBase64AndCompareAndSet() async throws {
        // A host holding one key, answering as paddockd does.
        let value = Mutex(Array("old".utf8))
        let store = RPCService { method, params, reply in
            let arguments = (try? JSONValue(parsing: params)) ?? [:]
            switch method {
            case "storage.set":
                let expected = arguments["expected"]?.stringValue.flatMap(Base64.decode)
                let stored = value.withLock { current in
                    guard expected == nil || expected == current else { return false }
                    current = arguments["value"]?.stringValue.flatMap(Base64.decode) ?? []
                    return true
                }
                reply.succeed((["stored": .bool(stored), "usage": 36] as JSONValue).jsonBytes)
            default:
                reply.succeed((["value": .string(Base64.encode(value.withLock { $0 }))] as JSONValue).jsonBytes)
            }
        }
        let host = try await connect(Self.plugin(), host: store)
        defer { host.close() }
        #expect(try await call(host, "tool.invoke", ["tool": "typed-storage"]) == ["stored": true, "value": "new"])
        #expect(try await call(host, "tool.invoke", ["tool": "typed-storage"]) == ["stored": false, "value": "new"])
    }
}
