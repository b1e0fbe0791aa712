import PaddockControl
import PaddockCore
import Testing

/// The control protocol's types: what a client sends is what the daemon
/// reads, and what the daemon refuses, it refuses with the catalog code.
@Suite struct ControlRequestTests {
    @Test func everyMethodHasItsWireName() {
        #expect(Set(ControlMethod.allCases.map(\.rawValue)) == [
            "install", "activate", "deactivate", "uninstall", "settings", "list", "status", "logs", "storage.usage",
            "storage.check", "storage.quota", "audit", "plugin", "metrics", "endpoint", "credentials.test", "keys.create", "keys.list",
            "keys.revoke", "keys.verify", "invoke", "model", "rollback", "versions", "flow.put", "flow.get", "flow.list", "flow.delete",
            "flow.run", "flow.runs", "flow.show", "file.upload.start", "file.upload.chunk", "file.upload.status", "file.upload.abort",
            "file.info", "file.read", "file.list", "file.delete",
        ])
    }

    @Test func requestsReadBackFromTheirParams() throws {
        try roundTrip(InstallRequest("/plugins/notes"))
        try roundTrip(InstallRequest(.package([0x50, 0x4b, 3, 4]), yes: true, force: false, stream: true))
        try roundTrip(ModelRequest(id: "mini-llm", model: "echo", messages: [["role": "user", "content": "hi"]], parameters: ["temperature": 0.5]))
        try roundTrip(PluginRequest("notes"))
        try roundTrip(UninstallRequest(id: "notes", force: true))
        try roundTrip(SettingsRequest(id: "notes", tenant: "acme", set: ["units": "metric"], publicEndpoints: false))
        try roundTrip(SettingsRequest(id: "notes"))
        try roundTrip(SettingsRequest(id: "notes", tenants: ["acme", "globex"]))
        try roundTrip(TenantRequest(tenant: "acme", id: "reply"))
        try roundTrip(TenantRequest(tenant: "acme"))
        try roundTrip(FlowPutRequest(tenant: "acme", id: "reply", definition: ["nodes": []]))
        try roundTrip(FlowRunRequest(tenant: "acme", id: "reply", input: ["title": "x"], stream: true, requestID: "r-1"))
        try roundTrip(FlowShowRequest(tenant: "acme", run: "0123"))
        try roundTrip(FileUploadRequest(tenant: "acme", name: "a.bin", size: 10, chunkSize: 65536, contentType: "text/plain", md5: "00", sha256: nil))
        try roundTrip(FileChunkRequest(tenant: "acme", upload: "upload-1", index: 2, data: [1, 2, 3], offset: 131072, total: 200000))
        try roundTrip(FileReadRequest(tenant: "acme", id: "file-1", offset: 5, length: 7))
        try roundTrip(StatusRequest(id: "notes"))
        try roundTrip(StatusRequest())
        try roundTrip(LogsRequest(id: "notes", tail: 7))
        try roundTrip(AuditRequest(id: "notes", limit: 3))
        try roundTrip(AuditRequest())
        try roundTrip(InvokeRequest(id: "text-tools", tool: "word_count", arguments: ["text": "a b"], tenant: "acme", stream: true))
        try roundTrip(InvokeRequest(id: "text-tools", tool: "word_count", requestID: "4f9c-req.1:2_3"))
        try roundTrip(EndpointRequest(
            id: "weather-forecast", method: .POST, path: "/weather", query: ["city": "Paris"], headers: ["X-Trace": "1"],
            body: Array("{\"city\":\"Paris\"}".utf8), tenant: "acme", requestID: "4f9c"))
        try roundTrip(CredentialsTestRequest(id: "weather-forecast", tenant: "acme", credentials: ["api_key": "k"]))
        try roundTrip(KeysCreateRequest(kind: .tenant, tenant: "acme"))
        try roundTrip(KeysCreateRequest(kind: .admin))
        try roundTrip(KeysRevokeRequest("0123456789ab"))
        try roundTrip(KeysVerifyRequest("pdk_0123456789ab_secret"))
    }

    private func roundTrip<Request: ControlRequest>(_ request: Request) throws {
        #expect(try Request(params: request.params) == request, "\(request.params.jsonText)")
    }

    static let required: [(any ControlRequest.Type, String)] = [
        (InstallRequest.self, "directory"), (PluginRequest.self, "id"), (UninstallRequest.self, "id"),
        (SettingsRequest.self, "id"), (LogsRequest.self, "id"), (InvokeRequest.self, "id"), (EndpointRequest.self, "id"),
        (CredentialsTestRequest.self, "id"), (KeysCreateRequest.self, "kind"), (KeysRevokeRequest.self, "id"),
        (KeysVerifyRequest.self, "key"), (ModelRequest.self, "id"),
    ]

    @Test(arguments: required)
    func aMissingParameterIs101NamingIt(type: any ControlRequest.Type, field: String) {
        for params: JSONValue in [[:], [field: ""], [field: 5]] {
            let error = #expect(throws: PaddockError.self) { try type.init(params: params) }
            #expect(error?.code == .configurationMissing)
            #expect(error?.field == field)
            #expect(error?.message == "the parameter '\(field)' is missing")
        }
    }

    @Test func flowsAndFilesNeedATenant() {
        let types: [any ControlRequest.Type] = [
            TenantRequest.self, FlowPutRequest.self, FlowRunRequest.self, FlowShowRequest.self, FileUploadRequest.self, FileChunkRequest.self,
            FileReadRequest.self,
        ]
        for type in types {
            let missing = #expect(throws: PaddockError.self) { try type.init(params: ["id": "x"]) }
            #expect(missing?.code == .configurationMissing && missing?.field == "tenant", "\(type)")
            let hostile = #expect(throws: PaddockError.self) { try type.init(params: ["id": "x", "tenant": "../other"]) }
            #expect(hostile?.code == .wrongFormat && hostile?.field == "tenant", "\(type)")
        }
        #expect(throws: PaddockError.self) { try FileChunkRequest(params: ["tenant": "acme", "upload": "u", "index": 0, "data": "not base64!"]) }
        #expect(throws: PaddockError.self) { try FlowRunRequest(params: ["tenant": "acme", "id": "f", "input": [1]]) }
        #expect(throws: PaddockError.self) { try SettingsRequest(params: ["id": "notes", "tenants": ["*", "acme"]]) }
    }

    @Test func theOtherRequiredParametersAre101InTheirTurn() {
        let tool = #expect(throws: PaddockError.self) { try InvokeRequest(params: ["id": "text-tools"]) }
        #expect(tool?.field == "tool")
        let method = #expect(throws: PaddockError.self) { try EndpointRequest(params: ["id": "weather-forecast"]) }
        #expect(method?.field == "method")
        let path = #expect(throws: PaddockError.self) { try EndpointRequest(params: ["id": "weather-forecast", "method": "GET"]) }
        #expect(path?.code == .configurationMissing)
        #expect(path?.field == "path")
    }

    @Test(arguments: [
        (["id": "w", "method": "FETCH", "path": "/"], PaddockError.Code.wrongFormat, "method"),
        (["id": "w", "method": "GET", "path": "/", "body": "not base64!"], .unparsableData, "body"),
        (["id": "w", "method": "GET", "path": "/", "tenant": "Acme Inc"], .wrongFormat, "tenant"),
    ] as [(JSONValue, PaddockError.Code, String)])
    func aWrongEndpointParameterIsRefused(params: JSONValue, code: PaddockError.Code, field: String) {
        let error = #expect(throws: PaddockError.self) { try EndpointRequest(params: params) }
        #expect(error?.code == code)
        #expect(error?.field == field)
    }

    @Test func anEndpointMethodMayBeInAnyCase() throws {
        #expect(try EndpointRequest(params: ["id": "w", "method": "get", "path": "/"]).method == .GET)
    }

    @Test func aTenantIsCheckedWhereACallIsMadeForOne() {
        let bad: JSONValue = ["id": "notes", "tool": "t", "tenant": "../other"]
        for read in [{ _ = try SettingsRequest(params: bad) }, { _ = try InvokeRequest(params: bad) }, { _ = try CredentialsTestRequest(params: bad) }] {
            let error = #expect(throws: PaddockError.self) { try read() }
            #expect(error?.code == .wrongFormat)
            #expect(error?.field == "tenant")
        }
    }

    @Test(arguments: ["", "two words", "a/b", "naïve", String(repeating: "x", count: 129)])
    func aRequestIDThatIsNotOneIs102(id: String) {
        let invoke: JSONValue = ["id": "notes", "tool": "t", "request_id": .string(id)]
        let endpoint: JSONValue = ["id": "w", "method": "GET", "path": "/", "request_id": .string(id)]
        for read in [{ _ = try InvokeRequest(params: invoke) }, { _ = try EndpointRequest(params: endpoint) }] {
            let error = #expect(throws: PaddockError.self) { try read() }
            #expect(error?.code == .wrongFormat)
            #expect(error?.field == "request_id")
        }
        #expect(RequestID.isValid(String(repeating: "x", count: 128)) && RequestID.isValid("A-z_0.9:"))
    }

    @Test func anUnknownKeyKindIs102() {
        let error = #expect(throws: PaddockError.self) { try KeysCreateRequest(params: ["kind": "root"]) }
        #expect(error?.code == .wrongFormat)
        #expect(error?.message == "a key is 'admin' or 'tenant', not 'root'")
    }

    @Test(arguments: [["tail": "9"], ["tail": -1], ["tail": .int(.max)], ["tail": 1.5], ["limit": 0], ["limit": .int(.min)]] as [JSONValue])
    func numbersOfTheWrongTypeOrOutOfRangeAre102NamingTheField(params: JSONValue) {
        let error = #expect(throws: PaddockError.self) {
            if params["tail"] != nil {
                _ = try LogsRequest(params: ["id": "notes", "tail": params["tail"]!])
            } else {
                _ = try AuditRequest(params: ["limit": params["limit"]!])
            }
        }
        #expect(error?.code == .wrongFormat && (error?.field == "tail" || error?.field == "limit"), "\(String(describing: error))")
    }

    @Test func optionalParametersTakeTheirDefaults() throws {
        #expect(try LogsRequest(params: ["id": "notes"]).tail == 50)
        #expect(try AuditRequest(params: [:]) == AuditRequest(id: nil, limit: 100))
        let invoke = try InvokeRequest(params: ["id": "notes", "tool": "t"])
        #expect(invoke.arguments == [:] && !invoke.stream && invoke.tenant == nil && invoke.requestID == nil)
        #expect(invoke.params["request_id"] == nil)
        let settings = try SettingsRequest(params: ["id": "notes", "set": "nope", "public_endpoints": "yes"])
        #expect(settings.set == nil && settings.publicEndpoints == nil)
        #expect(try CredentialsTestRequest(params: ["id": "notes", "credentials": [1]]).credentials == nil)
    }
}

@Suite struct ControlResponseTests {
    @Test func aKeyVerificationReadsALiveKeyOnly() {
        let live: JSONValue = ["valid": true, "id": "abc", "kind": "tenant", "tenant": "acme", "revoked": false]
        #expect(KeyVerification(result: live) == KeyVerification(id: "abc", kind: .tenant, tenant: "acme"))
        #expect(KeyVerification(result: ["valid": true, "id": "abc", "kind": "admin", "tenant": nil])?.tenant == nil)
        #expect(KeyVerification(result: ["valid": false]) == nil)
        #expect(KeyVerification(result: ["valid": true, "id": "abc", "kind": "root"]) == nil)
    }

    @Test func aPluginDescriptionReadsWhatTheGatewayNeeds() {
        let manifest = Manifest(
            name: "weather-forecast", author: "Dify Team", version: SemanticVersion(1, 0, 0), type: .extension_,
            label: LocalizedText("Weather"), description: LocalizedText("Weather for a city"),
            runner: Runner(language: .python, entrypoint: "main.py"),
            permission: Permission(endpoints: [.GET, .POST]),
            settings: [Setting(name: "api_base"), Setting(name: "api_key", type: .secret)],
            tools: [Provider(provider: "weather", items: [ToolItem(name: "current", cacheTTL: 600), ToolItem(name: "raw")])])
        let description = PluginDescription(result: ["id": "weather-forecast", "public_endpoints": true, "manifest": manifest.jsonValue])
        #expect(description.publicEndpoints)
        #expect(description.endpointMethods == [.GET, .POST])
        #expect(description.cacheTTL(tool: "current") == 600)
        #expect(description.cacheTTL(tool: "raw") == nil)
        #expect(description.secretSettings == ["api_key"])
        #expect(!PluginDescription(result: ["id": "x"]).publicEndpoints)
    }
}
