import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import PaddockCore

/// Answers a request that is not valid HTTP/1.1 (a NUL in a header, a bad
/// chunk size, a header past the limits) with the gateway's coded error,
/// 400 with code 202 in the usual JSON body, and closes the connection:
/// a client learns what was wrong the same way as for any other refusal.
/// It sits right after the HTTP codec, so the error stops here.
final class MalformedRequestAnswer: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !answered else { return }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError else { return context.fireErrorCaught(error) }
        guard !answered else { return }
        answered = true
        let refusal = GatewayError(
            PaddockError(.unparsableData, "the request is not valid HTTP/1.1 (\(parserError))"), fromRequest: true)
        var headers = refusal.headers
        headers[.connection] = "close"
        headers[.contentLength] = String(refusal.body.count)
        headers[.server] = Gateway.serverName
        context.write(wrapOutboundOut(.head(HTTPResponse(status: refusal.status, headerFields: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(ByteBuffer(bytes: refusal.body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }
}
