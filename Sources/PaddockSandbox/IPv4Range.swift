public import PaddockCore

/// An IPv4 prefix in CIDR notation (`10.0.0.0/8`; an address alone is a /32).
public struct IPv4Range: Sendable, Equatable, CustomStringConvertible {
    /// The network address, host bits cleared, as a number (`10.0.0.0` is 0x0A000000).
    public var address: UInt32
    public var prefixLength: Int

    public init(address: UInt32, prefixLength: Int) {
        self.prefixLength = prefixLength
        self.address = prefixLength == 0 ? 0 : address & (UInt32.max << (32 - prefixLength))
    }

    /// - Throws: ``PaddockError`` 102 when `text` is not `A.B.C.D` or `A.B.C.D/N`.
    public init(parsing text: String) throws(PaddockError) {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        let octets = parts[0].split(separator: ".", omittingEmptySubsequences: false).compactMap { UInt8($0) }
        let length = parts.count == 2 ? Int(parts[1]) : 32
        guard octets.count == 4, let length, (0...32).contains(length) else {
            throw PaddockError(.wrongFormat, "'\(text)' is not an IPv4 range such as 10.1.0.0/16")
        }
        self.init(address: octets.reduce(0) { $0 << 8 | UInt32($1) }, prefixLength: length)
    }

    /// The address's four bytes in network order.
    public var bytes: [UInt8] { [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: address >> $0) } }

    public var description: String { bytes.map(String.init).joined(separator: ".") + "/\(prefixLength)" }

    /// Whether `other` lies wholly inside this range.
    public func contains(_ other: IPv4Range) -> Bool {
        other.prefixLength >= prefixLength && IPv4Range(address: other.address, prefixLength: prefixLength) == self
    }

    /// What a plugin with network permission never reaches unless an
    /// operator allows it: "this" network, private ranges (RFC 1918), shared
    /// address space (carrier NAT), loopback, link-local (cloud metadata at
    /// 169.254.169.254), multicast and reserved addresses.
    public static let unreachable: [IPv4Range] = [
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4",
    ].map { try! IPv4Range(parsing: $0) }
}
