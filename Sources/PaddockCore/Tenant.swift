/// A tenant: the name that keeps one customer's settings, storage and keys
/// apart from another's.
public enum Tenant {
    /// Checks a tenant name: 1 to 64 of `[a-z0-9-]`.
    /// - Throws: ``PaddockError`` 102 (field `tenant`) for any other name.
    public static func check(_ tenant: String) throws(PaddockError) {
        guard (1...64).contains(tenant.utf8.count),
            tenant.utf8.allSatisfy({ (UInt8(ascii: "a")...UInt8(ascii: "z")).contains($0) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) || $0 == UInt8(ascii: "-") })
        else {
            // What was sent is shown only in part, and escaped: it may be anything a client typed.
            let shown = String(tenant.prefix(64)).escapingControlCharacters() + (tenant.count > 64 ? "…" : "")
            throw PaddockError(.wrongFormat, "a tenant is 1 to 64 of a-z, 0-9 and '-', not '\(shown)'", field: "tenant")
        }
    }
}
