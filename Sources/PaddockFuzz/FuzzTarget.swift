public import NIOCore
import NIOEmbedded
public import PaddockCore
import PaddockRPC
import PaddockSandbox

/// What `make fuzz` feeds bytes to: the parsers and decoders that read what
/// plugins, tenants and packages send. Each either accepts the input or
/// refuses it with a coded error; anything else (a trap, an overflow, a
/// memory error under the address sanitizer, an answer that does not
/// survive a round trip) is a crash for libFuzzer to keep.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// `JSONValue(parsing:)`: what parses is written back and parses to the same value.
    case json
    /// The RPC stream: `LineFrameDecoder` on a channel, then `RPCCodec.decode` on each frame.
    case frame
    /// `manifest.yaml`: the YAML parser, the decoder and every validation rule.
    case manifest
    /// A sandbox profile.
    case profile
    /// Tool parameters: a YAML parameter list, a NUL byte, then JSON arguments to validate.
    case parameters

    public func run(_ bytes: [UInt8]) {
        switch self {
        case .json: Self.json(bytes)
        case .frame: Self.frame(bytes)
        case .manifest: _ = ManifestLoader().load(yaml: bytes)
        case .profile:
            guard let node = try? YAMLParser().parse(bytes) else { return }
            _ = try? SandboxProfile.decode(node)
        case .parameters: Self.parameters(bytes)
        }
    }

    static func json(_ bytes: [UInt8]) {
        guard let value = try? JSONValue(parsing: bytes) else { return }
        let written = value.jsonBytes
        guard let again = try? JSONValue(parsing: written) else { fatalError("wrote JSON it cannot read: \(value)") }
        // A number may come back as another representation of itself; the text is stable after one trip.
        guard again.jsonBytes == written else { fatalError("JSON changed on a second trip: \(value)") }
    }

    static func frame(_ bytes: [UInt8]) {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(LineFrameDecoder(maximumFrameSize: 4096)))
        // Fed in two pieces, split where the first byte says: a frame may arrive in parts.
        let cut = bytes.isEmpty ? 0 : Int(bytes[0]) % (bytes.count + 1)
        for piece in [bytes[..<cut], bytes[cut...]] {
            guard (try? channel.writeInbound(ByteBuffer(bytes: piece))) != nil else { break }
            while let frame = try? channel.readInbound(as: ByteBuffer.self) {
                frame.withUnsafeReadableBytes { _ = try? RPCCodec.decode($0) }
            }
        }
        _ = try? channel.finish()
    }

    static func parameters(_ bytes: [UInt8]) {
        let split = bytes.firstIndex(of: 0) ?? bytes.endIndex
        let diagnostics = YAMLDiagnostics()
        guard let node = try? YAMLParser().parse(Array(bytes[..<split])),
            let items = YAMLDecoder(node: node, diagnostics: diagnostics).items
        else { return }
        let schemas = items.compactMap(ParameterSchema.init(from:))
        let arguments = split < bytes.endIndex ? (try? JSONValue(parsing: Array(bytes[(split + 1)...]))) ?? [:] : [:]
        _ = ParameterValidator(parameters: schemas).validate(arguments)
    }
}
