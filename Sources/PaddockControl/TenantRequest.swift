public import PaddockCore

/// The tenant of a flow or file request: required (flows and files are a tenant's) and checked.
extension JSONValue {
    func requiredTenant() throws(PaddockError) -> String {
        guard let tenant = try tenant() else {
            throw PaddockError(.configurationMissing, "flows and files belong to a tenant: name one", field: "tenant")
        }
        return tenant
    }
}

/// A request for something of a tenant's by id: `flow.get`, `flow.delete`,
/// `flow.runs`, `file.info`, `file.delete`, `file.upload.status`,
/// `file.upload.abort {"tenant", "id"}`; `flow.list` and `file.list {"tenant"}` (id empty).
public struct TenantRequest: ControlRequest {
    public var tenant: String
    public var id: String

    public init(tenant: String, id: String = "") {
        self.tenant = tenant
        self.id = id
    }

    public init(params: JSONValue) throws(PaddockError) {
        tenant = try params.requiredTenant()
        id = params["id"]?.stringValue ?? ""
    }

    /// The request, when it names a flow.
    /// - Throws: 101 when it names none.
    public func named() throws(PaddockError) -> TenantRequest {
        guard !id.isEmpty else { throw PaddockError(.configurationMissing, "the parameter 'id' is missing", field: "id") }
        return self
    }

    public var params: JSONValue {
        id.isEmpty ? ["tenant": .string(tenant)] : ["tenant": .string(tenant), "id": .string(id)]
    }
}
