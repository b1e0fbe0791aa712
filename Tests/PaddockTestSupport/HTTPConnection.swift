import Foundation
import Glibc
public import PaddockCore

/// A plain HTTP/1.1 client over a blocking TCP socket, for tests that need
/// the wire itself: keep-alive connections held open, bytes sent one at a
/// time, server-sent events read as they arrive. Every read gives up after
/// `timeout` seconds.
public final class HTTPConnection {
    public struct Response: Sendable {
        public var status: Int
        /// Header names in lower case.
        public var headers: [String: String]
        public var body: [UInt8]

        public var json: JSONValue? { try? JSONValue(parsing: body) }
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    private var fd: Int32
    private var buffer: [UInt8] = []

    public init(port: Int, host: String = "127.0.0.1", timeout: Double = 10) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        inet_pton(AF_INET, host, &address.sin_addr)
        var limit = timeval(tv_sec: Int(timeout), tv_usec: Int((timeout - timeout.rounded(.down)) * 1e6))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            Glibc.close(fd)
            throw PaddockError(.pluginUnavailable, "cannot connect to \(host):\(port): errno \(errno)")
        }
    }

    deinit {
        close()
    }

    /// Closes the connection now, as a client that goes away does.
    public func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    /// Reads and drops at most `count` bytes (what was buffered first): a slow reader.
    /// - Returns: how many bytes were dropped; 0 at the end of the stream.
    @discardableResult
    public func discard(upTo count: Int) throws -> Int {
        if !buffer.isEmpty {
            let taken = min(count, buffer.count)
            buffer.removeFirst(taken)
            return taken
        }
        var chunk = [UInt8](repeating: 0, count: count)
        let received = recv(fd, &chunk, count, 0)
        if received < 0 { throw PaddockError(.timedOut, "no data in time (errno \(errno))") }
        return received
    }

    /// Asks the kernel for a small receive buffer, so that a slow reader is felt upstream at once.
    public func shrinkReceiveBuffer(to bytes: Int32) {
        var size = bytes
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw PaddockError(.pluginUnavailable, "send failed: errno \(errno)") }
            sent += written
        }
    }

    /// Sends one request and reads its whole response.
    public func request(
        _ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []
    ) throws -> Response {
        try send(Self.encode(method, path, headers: headers, body: body))
        return try readResponse()
    }

    /// Reads a response: its head, then a body by Content-Length or chunks.
    public func readResponse() throws -> Response {
        let head = try readHead()
        var body: [UInt8] = []
        if head.headers["transfer-encoding"]?.lowercased() == "chunked" {
            while true {
                guard let sizeLine = try readLine(), let size = Int(sizeLine.split(separator: ";")[0], radix: 16) else { break }
                if size == 0 {
                    _ = try readLine()
                    break
                }
                body += try read(count: size)
                _ = try readLine()
            }
        } else if let length = head.headers["content-length"].flatMap({ Int($0) }) {
            body = try read(count: length)
        }
        return Response(status: head.status, headers: head.headers, body: body)
    }

    /// Reads a response's status line and headers only (for streams).
    public func readHead() throws -> (status: Int, headers: [String: String]) {
        guard let statusLine = try readLine() else { throw PaddockError(.pluginUnavailable, "the connection closed") }
        let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        while let line = try readLine(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    /// The next line without its CRLF, or nil at the end of the stream.
    public func readLine() throws -> String? {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                var line = Array(buffer[..<newline])
                buffer.removeFirst(newline + 1)
                if line.last == 0x0D { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard try fill() else { return nil }
        }
    }

    /// True once the server has closed the connection (reads end), false if
    /// it is still open after `timeout` seconds of waiting.
    public func isClosed(within timeout: Double) -> Bool {
        var descriptor = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, Int32(timeout * 1000)) > 0 else { return false }
        var byte: UInt8 = 0
        return recv(fd, &byte, 1, Int32(MSG_PEEK)) <= 0
    }

    private func read(count: Int) throws -> [UInt8] {
        while buffer.count < count {
            guard try fill() else { throw PaddockError(.pluginUnavailable, "the connection closed in a body") }
        }
        defer { buffer.removeFirst(count) }
        return Array(buffer[..<count])
    }

    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let received = recv(fd, &chunk, chunk.count, 0)
        if received < 0 { throw PaddockError(.timedOut, "no answer in time (errno \(errno))") }
        buffer += chunk[..<received]
        return received > 0
    }

    public static func encode(_ method: String, _ path: String, headers: [String: String] = [:], body: [UInt8] = []) -> [UInt8] {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        for (name, value) in headers.sorted(by: { $0.key < $1.key }) { head += "\(name): \(value)\r\n" }
        if !body.isEmpty || ["POST", "PUT", "PATCH"].contains(method) { head += "Content-Length: \(body.count)\r\n" }
        return Array((head + "\r\n").utf8) + body
    }

    /// One request on a fresh connection.
    public static func request(
        port: Int, _ method: String, _ path: String, headers: [String: String] = [:], body: String = "", timeout: Double = 10
    ) throws -> Response {
        try HTTPConnection(port: port, timeout: timeout).request(method, path, headers: headers, body: Array(body.utf8))
    }
}
