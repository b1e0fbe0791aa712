/// Every method paddockd serves on its control socket; the raw value is the
/// method's name on the wire. A name not here is answered with JSON-RPC
/// -32601 (method not found).
public enum ControlMethod: String, CaseIterable, Sendable {
    /// ``InstallRequest``: installs (or upgrades to) a copy of a plugin, from a package or a folder.
    case install
    /// ``PluginRequest``: switches back to the copy installed before the current one.
    case rollback
    /// ``PluginRequest``: the installed copies of a plugin, the current one marked.
    case versions
    /// ``PluginRequest``: the activation checks, then running.
    case activate
    /// ``PluginRequest``.
    case deactivate
    /// ``UninstallRequest``.
    case uninstall
    /// ``SettingsRequest``: the plugin's or a tenant's settings, secrets masked.
    case settings
    /// No params: every installed plugin.
    case list
    /// ``StatusRequest``.
    case status
    /// ``LogsRequest``.
    case logs
    /// ``PluginRequest``: stored bytes per tenant against the quota.
    case storageUsage = "storage.usage"
    /// ``PluginRequest``: recorded usage against usage recomputed from the data.
    case storageCheck = "storage.check"
    /// ``StorageQuotaRequest``: an operator's quota for one tenant of a plugin.
    case storageQuota = "storage.quota"
    /// ``AuditRequest``: denied host calls.
    case audit
    /// ``PluginRequest``: the whole description (``PluginDescription``).
    case plugin
    /// No params: per-plugin figures for the gateway's metrics.
    case metrics
    /// ``EndpointRequest``: one call to a plugin's HTTP endpoint.
    case endpoint
    /// ``CredentialsTestRequest``: the seed's "test connection".
    case credentialsTest = "credentials.test"
    /// ``KeysCreateRequest``.
    case keysCreate = "keys.create"
    /// No params: every API key's record.
    case keysList = "keys.list"
    /// ``KeysRevokeRequest``.
    case keysRevoke = "keys.revoke"
    /// ``KeysVerifyRequest``: answered as ``KeyVerification``.
    case keysVerify = "keys.verify"
    /// ``InvokeRequest``: a tool call, streamed or not.
    case invoke
    /// ``ModelRequest``: a model call, streamed or not.
    case model
    /// ``FlowPutRequest``: checks and stores a tenant's flow.
    case flowPut = "flow.put"
    /// ``TenantRequest``: a stored flow's definition.
    case flowGet = "flow.get"
    /// ``TenantRequest`` (no id): the tenant's flows.
    case flowList = "flow.list"
    /// ``TenantRequest``.
    case flowDelete = "flow.delete"
    /// ``FlowRunRequest``: runs a flow; node events as chunks when streamed.
    case flowRun = "flow.run"
    /// ``TenantRequest``: the flow's recent runs, newest first.
    case flowRuns = "flow.runs"
    /// ``FlowShowRequest``: one run's record.
    case flowShow = "flow.show"
    /// ``FileUploadRequest``: starts an upload in chunks.
    case fileUploadStart = "file.upload.start"
    /// ``FileChunkRequest``: one chunk; the file once the last is in.
    case fileUploadChunk = "file.upload.chunk"
    /// ``TenantRequest`` (the upload's id): the chunks received.
    case fileUploadStatus = "file.upload.status"
    /// ``TenantRequest`` (the upload's id).
    case fileUploadAbort = "file.upload.abort"
    /// ``TenantRequest``: a file's description.
    case fileInfo = "file.info"
    /// ``FileReadRequest``: a piece of a file.
    case fileRead = "file.read"
    /// ``TenantRequest`` (no id): the tenant's files and usage.
    case fileList = "file.list"
    /// ``TenantRequest``.
    case fileDelete = "file.delete"
}
