import Glibc
import PaddockCore
import Testing

/// The control socket's JSON-RPC as a client that is not Paddock's sees it.
extension DaemonTests {
    @Test func anUnknownControlMethodIsMethodNotFoundAndTheConnectionStaysUsable() throws {
        let daemon = try RunningDaemon()
        let fd = try Self.connect(daemon.data + "/paddockd.sock")
        defer { close(fd) }
        let unknown = try Self.call(fd, #"{"jsonrpc":"2.0","id":1,"method":"no.such.method","params":{}}"#)
        #expect(unknown["id"] == .int(1))
        #expect(unknown["error"]?["code"] == .int(-32601), "\(unknown)")
        #expect(unknown["error"]?["data"] == nil, "a protocol error carries no catalog code")
        let missing = try Self.call(fd, #"{"jsonrpc":"2.0","id":2,"method":"activate","params":{}}"#)
        #expect(missing["error"]?["code"] == .int(-32000), "a known method's refusal is an application error")
        #expect(missing["error"]?["data"] == ["code": 101, "field": "id"])
        #expect(missing["error"]?["message"] == "the parameter 'id' is missing")
        let list = try Self.call(fd, #"{"jsonrpc":"2.0","id":3,"method":"list"}"#)
        #expect(list["result"] == [])
    }

    /// A blocking connection to a Unix socket; reads give up after 10 seconds.
    static func connect(_ path: String) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            for (index, byte) in path.utf8.enumerated() { buffer[index] = byte }
        }
        var limit = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw PaddockError(.pluginUnavailable, "cannot connect to \(path): errno \(errno)")
        }
        return fd
    }

    /// Sends one newline-framed message and reads the one line that answers it.
    static func call(_ fd: Int32, _ message: String) throws -> JSONValue {
        let bytes = Array((message + "\n").utf8)
        guard write(fd, bytes, bytes.count) == bytes.count else { throw PaddockError(.fileLimitExceeded, "short write") }
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while read(fd, &byte, 1) == 1, byte != UInt8(ascii: "\n") { line.append(byte) }
        return try JSONValue(parsing: line)
    }
}
