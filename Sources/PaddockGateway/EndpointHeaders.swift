import HTTPTypes

/// The response headers a plugin's endpoint may set. The endpoint answers
/// on the gateway's own origin, so cookies, CORS, framing and caching of
/// credentials are the gateway's alone: a plugin may describe its content
/// (type, language, disposition, encoding, caching, validators), add its own
/// `X-` headers, and set the headers its status calls for: `Location` (a
/// same-origin path, for 201 and 3xx), `WWW-Authenticate` (401) and
/// `Retry-After` (429, 503). Every other header is dropped.
enum EndpointHeaders {
    static let content: Set<HTTPField.Name> = [
        .contentType, .contentLanguage, .contentDisposition, .contentEncoding, .cacheControl, .eTag, .lastModified, .expires,
        .vary,
    ]

    /// `X-` headers that are the gateway's, or that weaken the browser's protections.
    static let reservedPrefixes = ["x-request-id", "x-paddock-", "x-forwarded-", "x-real-ip", "x-frame-options", "x-content-type-options", "x-xss-protection"]

    /// Whether a plugin's endpoint answering `status` may set `name: value`.
    static func allows(_ name: HTTPField.Name, value: String, status: Int) -> Bool {
        if content.contains(name) { return true }
        let lowercased = name.canonicalName
        if lowercased.hasPrefix("x-") { return !reservedPrefixes.contains { lowercased.hasPrefix($0) } }
        switch name {
        case .location:
            // A path of this origin: not `//host` or `/\host`, which browsers take for another origin.
            return (status == 201 || (300...399).contains(status)) && value.hasPrefix("/") && !value.hasPrefix("//")
                && !value.contains("\\") && !value.utf8.contains { $0 < 0x20 || $0 == 0x7F }
        case .wwwAuthenticate: return status == 401
        case .retryAfter: return status == 429 || status == 503
        default: return false
        }
    }
}
