public import NIOCore
import PaddockCore

/// Splits a byte stream into newline-delimited frames of at most
/// `maximumFrameSize` bytes. A longer frame is error 202 (the connection
/// is closed by the peer handler), found without buffering it whole.
public struct LineFrameDecoder: ByteToMessageDecoder {
    public typealias InboundOut = ByteBuffer

    public let maximumFrameSize: Int
    /// How far the current frame has been searched for a newline already.
    private var scanned = 0

    public init(maximumFrameSize: Int) {
        self.maximumFrameSize = maximumFrameSize
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        let view = buffer.readableBytesView
        guard let newline = view[(view.startIndex + scanned)...].firstIndex(of: UInt8(ascii: "\n")) else {
            scanned = view.count
            if view.count > maximumFrameSize { throw Self.oversized(view.count, maximumFrameSize) }
            return .needMoreData
        }
        let length = newline - view.startIndex
        guard length <= maximumFrameSize else { throw Self.oversized(length, maximumFrameSize) }
        let frame = buffer.readSlice(length: length)!
        buffer.moveReaderIndex(forwardBy: 1)
        scanned = 0
        context.fireChannelRead(wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        // A final frame without its newline is dropped with the connection.
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }

    static func oversized(_ size: Int, _ limit: Int) -> PaddockError {
        PaddockError(.unparsableData, "frame of more than \(size) bytes exceeds the limit of \(limit) bytes")
    }
}
