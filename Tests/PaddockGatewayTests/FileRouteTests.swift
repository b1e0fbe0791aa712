import Foundation
import Glibc
import PaddockCore
import PaddockTestSupport
import Testing

/// Tenants' files through the gateway: a 200 MiB upload in 5 MiB chunks
/// survives a dropped connection and checks its MD5; a wrong MD5 and an
/// upload past the tenant's quota keep nothing; tools take files by id and
/// read them through the host; tools make files that clients download.
@Suite(.serialized, .timeLimit(.minutes(8)))
struct FileRouteTests {
    static let folder = RunningGateway.repository.appendingPathComponent("Tests/files").path

    private func stack(quota: String = "300MiB") throws -> (RunningGateway, key: String) {
        let stack = try RunningGateway(options: ["--files-quota", quota, "--call-timeout", "120"])
        let installed = try stack.paddock("install", Self.folder + "/file-tools")
        try #require(installed.status == 0, "\(installed.stderr)")
        try #require(try stack.paddock("activate", "file-tools").status == 0)
        return (stack, try stack.key("--tenant", "acme"))
    }

    private func upload(_ stack: RunningGateway, key: String, size: Int, chunk: Int, md5: String? = nil) throws -> JSONValue {
        let run = try ProcessRunner.run(
            URL(fileURLWithPath: "/usr/bin/python3"),
            [Self.folder + "/upload.py", String(stack.port), key, String(size), String(chunk)] + (md5.map { ["--md5", $0] } ?? []))
        try #require(run.status == 0, "\(run.stderr)")
        return try JSONValue(parsing: Array(run.stdout.utf8))
    }

    /// What is left of uploads and files on paddockd's disk.
    private func leftovers(_ stack: RunningGateway) -> (uploads: [String], files: [String]) {
        let uploads = (try? FileManager.default.contentsOfDirectory(atPath: stack.data + "/files/.uploads")) ?? []
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: stack.data + "/files")) ?? []).filter { $0.hasPrefix("file-") }
        return (uploads, files)
    }

    @Test func a200MiBUploadInChunksSurvivesADroppedConnectionAndIsReadByATool() throws {
        let (stack, key) = try stack()
        let result = try upload(stack, key: key, size: 200 << 20, chunk: 5 << 20)
        #expect(result["status"] == 200, "\(result)")
        let file = try #require(result["answer"]?["file"], "\(result)")
        #expect(file["md5"] == result["md5"] && file["size"] == .int(200 << 20))
        #expect(result["received_after_drop"]?.arrayValue?.contains(result["dropped"] ?? .null) == false, "a cut chunk counts for nothing")
        let id = try #require(file["id"]?.stringValue)

        // The tool gets the file's description (never a path) and reads it through the host.
        let digest = try stack.request("POST", "/v1/plugins/file-tools/tools/digest", key: key, body: #"{"file": "\#(id)"}"#, timeout: 120)
        #expect(digest.status == 200, "\(digest.text)")
        #expect(digest.json?["md5"] == result["md5"] && digest.json?["size"] == .int(200 << 20) && digest.json?["name"] == "big.bin", "\(digest.text)")

        // Another tenant has no such file: not to a tool, not to download, not to a plugin serving it.
        let other = try stack.key("--tenant", "other")
        #expect(try stack.request("POST", "/v1/plugins/file-tools/tools/digest", key: other, body: #"{"file": "\#(id)"}"#).json?["code"] == .int(102))
        #expect(try stack.request("GET", "/v1/files/\(id)", key: other).status == 404)
        #expect(try stack.request("POST", "/v1/plugins/file-tools/tools/peek", key: other, body: #"{"id": "\#(id)"}"#).status != 200)
        #expect(try stack.request("POST", "/v1/plugins/file-tools/tools/digest", key: key, body: #"{"file": "/etc/passwd"}"#).status == 400)

        // Past the tenant's quota (300 MiB, 200 taken): refused, nothing reserved.
        let over = try stack.request(
            "POST", "/v1/files/uploads", key: key, body: #"{"name": "more.bin", "size": \#(150 << 20), "md5": "\#(String(repeating: "0", count: 32))"}"#)
        #expect(over.status == 507 && over.json?["code"] == .int(205), "\(over.text)")
        let listed = try stack.request("GET", "/v1/files", key: key).json
        #expect(listed?["bytes"] == .int(200 << 20) && listed?["files"]?.arrayValue?.count == 1, "\(String(describing: listed))")
        #expect(leftovers(stack).uploads.isEmpty)
    }

    @Test func aWrongMD5KeepsNothingAndWholeUploadsRoundTrip() throws {
        let (stack, key) = try stack()
        let wrong = try upload(stack, key: key, size: 300 << 10, chunk: 128 << 10, md5: String(repeating: "a", count: 32))
        #expect(wrong["status"] == 400 && wrong["answer"]?["code"] == .int(102) && wrong["answer"]?["details"]?["field"] == "md5", "\(wrong)")
        #expect(try stack.request("GET", "/v1/files/uploads/\(wrong["upload"]?.stringValue ?? "")", key: key).status == 404)
        #expect(try stack.request("GET", "/v1/files", key: key).json?["files"] == [])
        #expect(leftovers(stack).uploads.isEmpty && leftovers(stack).files.isEmpty)

        // A whole file in one request, checked against its MD5, and downloaded again.
        let text = "one two three\n"
        let md5 = "c6b1f4a5a9a0a4bd1ccac8deb8c9fa57"
        let bad = try stack.request("POST", "/v1/files?name=words.txt&md5=\(md5)", key: key, headers: ["Content-Type": "text/plain"], body: text)
        #expect(bad.status == 400 && bad.json?["details"]?["field"] == "md5", "\(bad.text)")
        let actual = bad.json?["details"]?["actual"]?.stringValue ?? ""
        let good = try stack.request("POST", "/v1/files?name=words.txt&md5=\(actual)", key: key, headers: ["Content-Type": "text/plain"], body: text)
        #expect(good.status == 201 && good.json?["size"] == .int(text.utf8.count), "\(good.text)")
        let id = good.json?["id"]?.stringValue ?? ""
        let download = try stack.request("GET", "/v1/files/\(id)", key: key)
        #expect(download.status == 200 && download.text == text && download.headers["content-type"] == "text/plain", "\(download.headers)")
        #expect(download.headers["content-disposition"]?.contains("words.txt") == true)

        // Chunks to POST /v1/files with Content-Range, as the seed's uploader sends them: the first starts the upload.
        let parts = [String(repeating: "a", count: 65536), String(repeating: "b", count: 65536), String(repeating: "c", count: 100)]
        let total = 65536 * 2 + 100
        let first = try stack.request(
            "POST", "/v1/files?name=abc.txt", key: key, headers: ["Content-Range": "bytes 0-65535/\(total)", "X-Chunk-Index": "0"], body: parts[0])
        let uploadID = try #require(first.json?["upload"]?.stringValue, "\(first.text)")
        for (index, start) in [(2, 131072), (2, 131072), (1, 65536)] {
            let part = parts[index]
            let sent = try stack.request(
                "POST", "/v1/files", key: key,
                headers: ["Content-Range": "bytes \(start)-\(start + part.utf8.count - 1)/\(total)", "X-Upload-Id": uploadID], body: part)
            #expect(sent.status == 200, "\(sent.text)")
            if index == 1 {
                let expected = try ProcessRunner.run(
                    URL(fileURLWithPath: "/usr/bin/python3"),
                    ["-c", "import hashlib; print(hashlib.md5(b'a' * 65536 + b'b' * 65536 + b'c' * 100).hexdigest())"]).stdout
                #expect(sent.json?["file"]?["md5"]?.stringValue == expected.trimmingCharacters(in: .whitespacesAndNewlines), "\(sent.text)")
            }
        }

        // A tool makes a file for its result; the client downloads it.
        let made = try stack.request("POST", "/v1/plugins/file-tools/tools/make", key: key, body: #"{"text": "made by a plugin"}"#)
        let madeID = try #require(made.json?["file"]?["id"]?.stringValue, "\(made.text)")
        #expect(try stack.request("GET", "/v1/files/\(madeID)", key: key).text == "made by a plugin")
        // Outside a tenant's call a plugin has no files to make.
        #expect(try stack.request("POST", "/v1/plugins/file-tools/tools/make", key: stack.admin, body: #"{"text": "x"}"#).status != 200)

        // Hostile uploads: chunks of the wrong size or place, unknown uploads, no length.
        let start = try stack.request("POST", "/v1/files/uploads", key: key, body: #"{"name": "x.bin", "size": 200000, "chunk_size": 65536}"#)
        let upload = try #require(start.json?["upload"]?.stringValue, "\(start.text)")
        let chunk = String(repeating: "x", count: 65536)
        for (path, headers, body, status) in [
            ("/v1/files/uploads/\(upload)/chunks/0", [:], "short", 400),
            ("/v1/files/uploads/\(upload)/chunks/9", [:], chunk, 400),
            ("/v1/files/uploads/\(upload)/chunks/-1", [:], chunk, 400),
            ("/v1/files/uploads/\(upload)/chunks/1", ["Content-Range": "bytes 0-65535/200000"], chunk, 400),
            ("/v1/files/uploads/\(upload)/chunks/0", ["Content-Range": "bytes 0-65535/999999"], chunk, 400),
            ("/v1/files/uploads/upload-00000000000000000000000000000000/chunks/0", [:], chunk, 404),
            ("/v1/files/uploads/../../etc/chunks/0", [:], chunk, 404),
        ] {
            let refused = try stack.request("PUT", path, key: key, headers: headers, body: body)
            #expect(refused.status == status, "\(path) \(headers): \(refused.text)")
        }
        for body in [#"{"name": "x", "size": 9223372036854775807}"#, #"{"name": "a/b", "size": 10}"#, #"{"name": "x", "size": 10, "chunk_size": 1}"#,
                     #"{"name": "x", "size": 10, "md5": "zz"}"#, #"{"size": 10}"#, #"{"name": "x", "size": 10, "tenant": "other"}"#] {
            #expect(try stack.request("POST", "/v1/files/uploads", key: key, body: body).status == 400, "\(body)")
        }
        #expect(try stack.request("DELETE", "/v1/files/uploads/\(upload)", key: key).status == 200)
        #expect(leftovers(stack).uploads.isEmpty)
        #expect(try stack.request("DELETE", "/v1/files/\(id)", key: key).status == 200)
        #expect(try stack.request("GET", "/v1/files/\(id)", key: key).status == 404)
    }
}
