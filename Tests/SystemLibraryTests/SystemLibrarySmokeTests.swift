import CSQLite
import CSeccomp
import CYAML
import Glibc
import Testing

/// One smoke test per system library, so that a broken install of
/// libseccomp-dev, libyaml-dev or libsqlite3-dev shows up at once.
@Suite struct SystemLibrarySmokeTests {
    @Test func libseccompBuildsAndExportsAFilter() throws {
        let version = try #require(seccomp_version())
        #expect(version.pointee.major == 2)
        #expect(version.pointee.minor >= 5)
        let ptrace = seccomp_syscall_resolve_name("ptrace")
        let kexec = seccomp_syscall_resolve_name("kexec_load")
        #expect(ptrace >= 0 && kexec >= 0)
        let name = try #require(seccomp_syscall_resolve_num_arch(seccomp_arch_native(), ptrace))
        defer { free(name) }
        #expect(String(cString: name) == "ptrace")

        let filter = try #require(seccomp_init(paddock_scmp_act_allow()))
        defer { seccomp_release(filter) }
        #expect(seccomp_rule_add_array(filter, paddock_scmp_act_errno(UInt16(EPERM)), ptrace, 0, nil) == 0)
        #expect(seccomp_rule_add_array(filter, paddock_scmp_act_kill_process(), kexec, 0, nil) == 0)

        // Export the compiled BPF program through a pipe and check its shape.
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        #expect(seccomp_export_bpf(filter, fds[1]) == 0)
        close(fds[1])
        var program: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while case let count = read(fds[0], &buffer, buffer.count), count > 0 {
            program += buffer[..<count]
        }
        // A BPF instruction is 8 bytes; a filter with two rules has several.
        #expect(program.count >= 8 * 4)
        #expect(program.count % 8 == 0)
    }

    @Test func libyamlParsesADocument() throws {
        #expect(String(cString: yaml_get_version_string()).hasPrefix("0."))
        var parser = yaml_parser_t()
        #expect(yaml_parser_initialize(&parser) == 1)
        defer { yaml_parser_delete(&parser) }
        let text = Array("name: paddock\nsizes: [1, 2]\n".utf8)
        var document = yaml_document_t()
        let loaded = text.withUnsafeBufferPointer { buffer in
            yaml_parser_set_input_string(&parser, buffer.baseAddress, buffer.count)
            return yaml_parser_load(&parser, &document)
        }
        #expect(loaded == 1)
        defer { yaml_document_delete(&document) }
        let root = try #require(yaml_document_get_root_node(&document))
        #expect(root.pointee.type == YAML_MAPPING_NODE)
        let pairs = root.pointee.data.mapping.pairs
        #expect(pairs.top - pairs.start == 2)
    }

    @Test func sqliteStoresAndReadsBack() throws {
        var database: OpaquePointer?
        #expect(sqlite3_open(":memory:", &database) == SQLITE_OK)
        defer { sqlite3_close(database) }
        #expect(sqlite3_exec(database, "CREATE TABLE kv (key TEXT PRIMARY KEY, value BLOB)", nil, nil, nil) == SQLITE_OK)

        var insert: OpaquePointer?
        #expect(sqlite3_prepare_v2(database, "INSERT INTO kv VALUES (?, ?)", -1, &insert, nil) == SQLITE_OK)
        sqlite3_bind_text(insert, 1, "greeting", -1, paddock_sqlite_transient())
        let value: [UInt8] = Array("hello".utf8)
        sqlite3_bind_blob(insert, 2, value, Int32(value.count), paddock_sqlite_transient())
        #expect(sqlite3_step(insert) == SQLITE_DONE)
        sqlite3_finalize(insert)

        var select: OpaquePointer?
        #expect(sqlite3_prepare_v2(database, "SELECT value FROM kv WHERE key = 'greeting'", -1, &select, nil) == SQLITE_OK)
        defer { sqlite3_finalize(select) }
        #expect(sqlite3_step(select) == SQLITE_ROW)
        let bytes = UnsafeRawBufferPointer(start: sqlite3_column_blob(select, 0), count: Int(sqlite3_column_bytes(select, 0)))
        #expect(Array(bytes) == value)
        #expect(sqlite3_libversion_number() >= 3_031_000)
    }
}
