import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import PaddockControl
import PaddockCore
import PaddockRPC

/// Answers the busiest route, `POST /v1/plugins/{id}/tools/{tool}`, on the
/// connection's own event loop: no Task, no router, no thread hop, through
/// a connection to paddockd served on the same loop. It takes the common
/// case only: the key and the plugin are remembered (checked with paddockd
/// within the last two seconds), the tool is not cached, the client wants
/// no event stream and sends no `Origin`, `Expect` or `Connection: close`.
/// Every other request passes on to the router unchanged, and answers keep
/// the order of the requests on a connection. The answer is the router's:
/// the same checks in the same order, headers, errors, metrics and log line.
///
/// It sits after Hummingbird's connection state handler (``Installer``), so
/// that idle timeouts and graceful shutdown count its requests.
final class ToolCallFastPath: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// The route as the router names it, for the metrics.
    static let route = "/v1/plugins/:id/tools/:tool"

    private struct Call {
        var head: HTTPRequest
        var plugin: String
        var tool: String
        var caller: Caller
        var client: ControlClient
        var requestID: String
        var started: ContinuousClock.Instant
        var body = ByteBuffer()
        var tooLarge = false
    }

    private enum State {
        case idle
        /// The request's body is arriving.
        case reading(Call)
        /// Waiting for paddockd; the id cancels the call.
        case calling(Call, RPCID?)
    }

    private let gateway: Gateway
    private var state = State.idle
    /// Requests passed on to the router whose answer has not ended.
    private var passedOn = 0
    /// Parts that arrived during a call (a pipelining client), in order;
    /// reading stops while there are any.
    private var held = CircularBuffer<HTTPRequestPart>()
    private var readPending = false

    init(gateway: Gateway) {
        self.gateway = gateway
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .calling = state {
            held.append(part)
        } else {
            handle(part, context)
        }
    }

    private func handle(_ part: HTTPRequestPart, _ context: ChannelHandlerContext) {
        switch (state, part) {
        case (.reading(var call), .body(let buffer)):
            if call.body.readableBytes + buffer.readableBytes > gateway.configuration.maximumBodyBytes {
                call.tooLarge = true
                call.body.clear()
            } else if !call.tooLarge {
                var buffer = buffer
                call.body.writeBuffer(&buffer)
            }
            state = .reading(call)
        case (.reading(let call), .end):
            start(call, context)
        case (.idle, .head(let head)):
            if passedOn == 0, let call = plan(head, context) {
                state = .reading(call)
            } else {
                passedOn += 1
                context.fireChannelRead(wrapInboundOut(part))
            }
        default:
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), passedOn > 0 { passedOn -= 1 }
        context.write(data, promise: promise)
    }

    func read(context: ChannelHandlerContext) {
        if held.isEmpty {
            context.read()
        } else {
            readPending = true
        }
    }

    // MARK: The client going away cancels the call (paddockd sends the plugin `$/cancel`)

    func channelInactive(context: ChannelHandlerContext) {
        cancelCall()
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let event = event as? ChannelEvent, event == .inputClosed { cancelCall() }
        context.fireUserInboundEventTriggered(event)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        cancelCall()
    }

    private func cancelCall() {
        if case .calling(let call, let id?) = state { call.client.cancel(id) }
    }

    // MARK: The call

    /// The call a request head asks for, when this path can answer it.
    private func plan(_ head: HTTPRequest, _ context: ChannelHandlerContext) -> Call? {
        let fields = head.headerFields
        guard head.method == .post, let target = head.path, fields[.origin] == nil, fields[.expect] == nil,
            fields[.connection]?.lowercased().contains("close") != true,
            fields[.accept]?.contains("text/event-stream") != true
        else { return nil }
        let path = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let parts = path.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0].isEmpty, parts[1] == "v1", parts[2] == "plugins", parts[4] == "tools",
            !parts[3].isEmpty, !parts[5].isEmpty, !path.contains("%")
        else { return nil }
        let plugin = String(parts[3])
        let tool = String(parts[5])
        guard let key = Authenticator.key(authorization: fields[.authorization], apiKey: fields[.apiKey]),
            case .some(.some(let caller)) = gateway.authenticator.remembered(key),
            let detail = gateway.catalog.remembered(plugin), detail.cacheTTL(tool: tool) == nil,
            let client = gateway.supervisor.connection(on: context.eventLoop)
        else { return nil }
        return Call(
            head: head, plugin: plugin, tool: tool, caller: caller, client: client,
            requestID: EdgeMiddleware.requestID(fields[.requestID]), started: .now)
    }

    /// Checks the request as the router would (the key's rate limit, the
    /// body, the plugin's rate limit), then calls paddockd.
    private func start(_ call: Call, _ context: ChannelHandlerContext) {
        let invoke: InvokeRequest
        do throws(GatewayError) {
            try KeyMiddleware.takeToken(gateway.keyLimits, call.caller)
            if call.tooLarge { throw EdgeMiddleware.bodyTooLarge(limit: gateway.configuration.maximumBodyBytes) }
            let arguments = try Gateway.jsonObject(Array(buffer: call.body))
            try gateway.limitPlugin(call.plugin)
            let tenant = call.caller.kind == .tenant ? call.caller.tenant : call.head.headerFields[.paddockTenant]
            invoke = InvokeRequest(id: call.plugin, tool: call.tool, arguments: arguments, tenant: tenant, requestID: call.requestID)
        } catch {
            return answer(call, error, context)
        }
        let promise = context.eventLoop.makePromise(of: [UInt8].self)
        let id = call.client.startCall(.invoke, params: invoke.params.jsonBytes, timeout: gateway.supervisor.timeout, promise: promise)
        state = .calling(call, id)
        promise.futureResult.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let bytes):
                self.gateway.metrics.pluginCall(call.plugin, kind: "tool", code: 0)
                self.answer(call, status: .ok, fields: [.contentType: "application/json"], body: bytes, code: nil, context)
            case .failure(let error):
                var coded = error as? PaddockError ?? PaddockError(.handlerFailed, "\(error)")
                if !call.client.isConnected { coded = SupervisorClient.wentAway(coded) }
                self.gateway.metrics.pluginCall(call.plugin, kind: "tool", code: coded.code.rawValue)
                self.answer(call, GatewayError(coded), context)
            }
        }
    }

    private func answer(_ call: Call, _ error: GatewayError, _ context: ChannelHandlerContext) {
        if error.error.code == .internalError {
            gateway.logger.error("request failed", metadata: ["request_id": .string(call.requestID), "error": .string("\(error.error)")])
        }
        answer(call, status: error.status, fields: error.headers, body: error.body, code: error.error.code.rawValue, context)
    }

    /// Writes the answer with the headers every answer has, records it, and
    /// goes on with requests that arrived meanwhile.
    private func answer(
        _ call: Call, status: HTTPResponse.Status, fields: HTTPFields, body: [UInt8], code: Int?, _ context: ChannelHandlerContext
    ) {
        var fields = fields
        fields[.contentLength] = String(body.count)
        fields[.requestID] = call.requestID
        fields[.date] = HTTPDate.now()
        fields[.server] = Gateway.serverName
        EdgeMiddleware.record(
            gateway.metrics, gateway.logger, route: Self.route, call.head.method, path: call.head.path ?? "",
            requestID: call.requestID, status: status.code, code: code, since: call.started, caller: call.caller,
            namedTenant: call.head.headerFields[.paddockTenant])
        state = .idle
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(bytes: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        while !held.isEmpty {
            if case .calling = state { break }
            handle(held.removeFirst(), context)
        }
        if held.isEmpty, readPending {
            readPending = false
            context.read()
        }
    }
}

extension ToolCallFastPath {
    /// Put among Hummingbird's additional channel handlers: at the first
    /// request part, when the pipeline is complete, it puts a
    /// ``ToolCallFastPath`` after the connection state handler and leaves.
    final class Installer: ChannelInboundHandler, RemovableChannelHandler, Sendable {
        typealias InboundIn = HTTPRequestPart

        private let gateway: Gateway

        init(gateway: Gateway) {
            self.gateway = gateway
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            let pipeline = context.pipeline.syncOperations
            if let state = try? pipeline.handler(type: HTTPConnectionStateHandler.self) {
                try? pipeline.addHandler(ToolCallFastPath(gateway: gateway), position: .after(state))
            }
            context.fireChannelRead(data)
            pipeline.removeHandler(context: context, promise: nil)
        }
    }
}
