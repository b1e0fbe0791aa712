import PaddockCore
import PaddockTestSupport
import Testing

@Suite struct ByteSizeTests {
    @Test(arguments: [
        ("10MB", 10_000_000), ("512KiB", 524_288), ("1.5GB", 1_500_000_000), ("1024", 1024),
        ("0", 0), ("1KB", 1000), ("1kb", 1000), ("2 MiB", 2_097_152), ("1.5KiB", 1536),
        ("100B", 100), ("1GiB", 1_073_741_824), ("0.5MB", 500_000), ("3K", 3000), (".5KB", 500),
    ])
    func parses(text: String, bytes: Int) throws {
        #expect(try ByteSize(parsing: text).bytes == bytes)
    }

    @Test(arguments: ["10XB", "", "MB", "-1MB", "1.2.3MB", "ten", "1e3", "99999999999999999999", "9999999TiB", "."])
    func rejects(text: String) {
        #expect(throws: PaddockError.self) { try ByteSize(parsing: text) }
        let error = try? ByteSize(parsing: text)
        #expect(error == nil)
    }

    @Test func rejectionIsCode102() {
        do {
            _ = try ByteSize(parsing: "10XB")
            Issue.record("10XB parsed")
        } catch {
            #expect(error.code == .wrongFormat)
        }
    }

    @Test func describesItselfInTheLargestExactUnit() {
        #expect(ByteSize(bytes: 10_000_000).description == "10MB")
        #expect(ByteSize(bytes: 524_288).description == "512KiB")
        #expect(ByteSize(bytes: 7).description == "7 bytes")
    }
}

@Suite struct SemanticVersionTests {
    @Test(arguments: ["1.0.0", "0.1.0", "2.0.0-rc.1+build", "1.0.0-alpha", "1.0.0+20130313144700", "10.20.30-x.7.z.92"])
    func parsesAndPrintsBack(text: String) throws {
        #expect(try SemanticVersion(parsing: text).description == text)
    }

    @Test(arguments: ["1.0", "1", "1.0.0.0", "01.0.0", "1.0.0-01", "1.0.0-", "a.b.c", "1.0.0-rc..1", "", "1.0.0+a+b"])
    func rejects(text: String) {
        #expect(throws: PaddockError.self) { try SemanticVersion(parsing: text) }
    }

    @Test func ordersBySemverPrecedence() throws {
        let ordered = ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0", "2.0.0"]
        let versions = try ordered.map { try SemanticVersion(parsing: $0) }
        #expect(versions.sorted() == versions)
        #expect(try SemanticVersion(parsing: "1.0.0+a") == SemanticVersion(parsing: "1.0.0+a"))
    }
}

@Suite struct RuntimeVersionTests {
    @Test func minimumVersionIsSatisfiedByNewerOnly() throws {
        let minimum = try RuntimeVersion(parsing: "3.11")
        #expect(minimum.isSatisfied(by: RuntimeVersion([3, 11, 2])))
        #expect(minimum.isSatisfied(by: RuntimeVersion([3, 12])))
        #expect(minimum.isSatisfied(by: RuntimeVersion([4, 0])))
        #expect(!minimum.isSatisfied(by: RuntimeVersion([3, 10, 9])))
        #expect(!minimum.isSatisfied(by: RuntimeVersion([3])))
    }

    @Test(arguments: ["3.x", "", "3..1", "1.2.3.4", "v3"])
    func rejects(text: String) {
        #expect(throws: PaddockError.self) { try RuntimeVersion(parsing: text) }
    }
}

@Suite struct ErrorCatalogTests {
    @Test func everyCatalogCodeHasItsNumberAndMeaning() {
        let numbers = PaddockError.Code.allCases.map(\.rawValue)
        #expect(numbers == [101, 102, 103, 104, 105, 201, 202, 203, 204, 205, 206, 301, 302, 303, 304, 305, 306, 307])
        for code in PaddockError.Code.allCases {
            #expect(PaddockError.Code(rawValue: code.rawValue) == code)
            #expect(!code.meaning.isEmpty)
        }
        #expect(PaddockError.Code(rawValue: 107) == nil)
        #expect(PaddockError.Code.memoryLimitExceeded.rawValue == 301)
        #expect(PaddockError.Code.fileLimitExceeded.rawValue == 302)
        #expect(PaddockError.Code.internalError.rawValue == 307)
    }

    @Test func aReasonIsTypedAndKeptInDetails() {
        let error = PaddockError(.rateLimited, "a cycle", reason: .callCycle, details: ["plugin": "b", "reason": "overridden"])
        #expect(error.reason == .callCycle)
        #expect(error.details == ["plugin": "b", "reason": "call_cycle"])
        // An error decoded from the wire has only details: the reason is read from them.
        #expect(PaddockError(.pluginUnavailable, "gone", details: ["reason": "not_installed"]).reason == .notInstalled)
        // Free text (a system error's words) is no reason.
        #expect(PaddockError(.dependencyUnavailable, "x", details: ["reason": "No such file or directory"]).reason == nil)
        #expect(PaddockError(.timedOut, "x").reason == nil)
        for reason in PaddockError.Reason.allCases {
            #expect(PaddockError.Reason(rawValue: reason.rawValue) == reason)
        }
        #expect(Set(PaddockError.Reason.allCases.map(\.rawValue)) == ["not_installed", "call_cycle", "call_depth", "host_calls_in_flight", "in_use", "permissions_widened"])
    }

    @Test func describesCodeFieldAndMessage() {
        let error = PaddockError(.storageQuotaExceeded, "quota of 1KB exceeded", field: "permission.storage")
        #expect(error.description == "error 205: permission.storage: quota of 1KB exceeded")
    }
}

@Suite struct TenantNameTests {
    @Test(arguments: ["acme", "a-1", String(repeating: "z", count: 64)])
    func validNamesPass(name: String) throws {
        try Tenant.check(name)
    }

    @Test func aRefusedNameIsShownShortAndEscaped() {
        let hostile = "\u{1b}[2J" + String(repeating: "A", count: 100_000)
        let error = #expect(throws: PaddockError.self) { try Tenant.check(hostile) }
        #expect(error?.code == .wrongFormat && error?.field == "tenant")
        let message = error?.message ?? ""
        #expect(message.count < 200 && !message.unicodeScalars.contains("\u{1b}") && message.contains(#"\x1b[2J"#), "\(message)")
    }
}
