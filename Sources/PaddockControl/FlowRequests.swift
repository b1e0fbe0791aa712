public import PaddockCore

/// The tenant of a flow request: required (flows are per tenant) and checked.
extension JSONValue {
    func flowTenant() throws(PaddockError) -> String {
        guard let tenant = try tenant() else {
            throw PaddockError(.configurationMissing, "flows belong to a tenant: name one", field: "tenant")
        }
        return tenant
    }
}

/// `flow.get`, `flow.delete`, `flow.runs {"tenant", "id"}` (and `flow.list {"tenant"}`, id empty).
public struct FlowRequest: ControlRequest {
    public var tenant: String
    public var id: String

    public init(tenant: String, id: String = "") {
        self.tenant = tenant
        self.id = id
    }

    public init(params: JSONValue) throws(PaddockError) {
        tenant = try params.flowTenant()
        id = params["id"]?.stringValue ?? ""
    }

    /// The request, when it names a flow.
    /// - Throws: 101 when it names none.
    public func named() throws(PaddockError) -> FlowRequest {
        guard !id.isEmpty else { throw PaddockError(.configurationMissing, "the parameter 'id' is missing", field: "id") }
        return self
    }

    public var params: JSONValue {
        id.isEmpty ? ["tenant": .string(tenant)] : ["tenant": .string(tenant), "id": .string(id)]
    }
}

/// `flow.put {"tenant", "id", "definition"}`: stores a flow once it is checked.
public struct FlowPutRequest: ControlRequest {
    public var tenant: String
    public var id: String
    public var definition: JSONValue

    public init(tenant: String, id: String, definition: JSONValue) {
        self.tenant = tenant
        self.id = id
        self.definition = definition
    }

    public init(params: JSONValue) throws(PaddockError) {
        tenant = try params.flowTenant()
        id = try params.required("id")
        guard let definition = params["definition"] else {
            throw PaddockError(.configurationMissing, "the parameter 'definition' is missing", field: "definition")
        }
        self.definition = definition
    }

    public var params: JSONValue { ["tenant": .string(tenant), "id": .string(id), "definition": definition] }
}

/// `flow.run {"tenant", "id", "input"?, "stream"?, "request_id"?}`: runs a flow;
/// with `stream`, each node's events arrive as chunks.
public struct FlowRunRequest: ControlRequest {
    public var tenant: String
    public var id: String
    public var input: JSONValue
    public var stream: Bool
    public var requestID: String?

    public init(tenant: String, id: String, input: JSONValue = [:], stream: Bool = false, requestID: String? = nil) {
        self.tenant = tenant
        self.id = id
        self.input = input
        self.stream = stream
        self.requestID = requestID
    }

    public init(params: JSONValue) throws(PaddockError) {
        tenant = try params.flowTenant()
        id = try params.required("id")
        input = params["input"] ?? [:]
        guard case .object = input else { throw PaddockError(.wrongFormat, "input is an object", field: "input") }
        stream = params["stream"] == true
        requestID = try params.requestID()
    }

    public var params: JSONValue {
        var object: [String: JSONValue] = ["tenant": .string(tenant), "id": .string(id), "input": input, "stream": .bool(stream)]
        if let requestID { object[RequestID.parameter] = .string(requestID) }
        return .object(object)
    }
}

/// `flow.show {"tenant", "run"}`: a run's record.
public struct FlowShowRequest: ControlRequest {
    public var tenant: String
    public var run: String

    public init(tenant: String, run: String) {
        self.tenant = tenant
        self.run = run
    }

    public init(params: JSONValue) throws(PaddockError) {
        tenant = try params.flowTenant()
        run = try params.required("run")
    }

    public var params: JSONValue { ["tenant": .string(tenant), "run": .string(run)] }
}
