public import PaddockCore

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
        tenant = try params.requiredTenant()
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
        tenant = try params.requiredTenant()
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
        tenant = try params.requiredTenant()
        run = try params.required("run")
    }

    public var params: JSONValue { ["tenant": .string(tenant), "run": .string(run)] }
}
