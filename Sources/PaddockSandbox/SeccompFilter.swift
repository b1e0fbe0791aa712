import CLinux
import CSeccomp
import Glibc
import PaddockCore

/// A seccomp filter compiled to BPF with libseccomp. Compiled while the
/// launcher is still privileged (so the compiled-filter cache can be read)
/// and installed just before exec.
struct SeccompFilter {
    /// The BPF program: 8-byte `sock_filter` instructions.
    let program: [UInt8]

    /// Compiles `policy`, or takes it from `cache` when an identical policy
    /// was compiled before: libseccomp needs ~0.4 ms for the default profile.
    /// - Throws: ``PaddockError`` 102 for an unknown system call or a rule
    ///   libseccomp refuses.
    init(_ policy: SeccompPolicy, cache: SeccompCache?) throws(PaddockError) {
        let key = SeccompCache.key(for: policy)
        if let cached = cache?.program(for: key) {
            program = cached
            return
        }
        program = try Self.compile(policy)
        cache?.store(program, for: key)
    }

    /// Installs the filter: from now on every system call of this process
    /// and its children is checked.
    /// - Throws: ``PaddockError`` 105 when the kernel refuses it.
    func install() throws(PaddockError) {
        let result = program.withUnsafeBytes { bytes in
            paddock_seccomp_set_filter(bytes.baseAddress, UInt16(bytes.count / 8))
        }
        guard result == 0 else {
            throw PaddockError(.dependencyUnavailable, "the kernel refused the seccomp filter: \(String(cString: strerror(errno)))")
        }
    }

    private static func compile(_ policy: SeccompPolicy) throws(PaddockError) -> [UInt8] {
        guard let filter = seccomp_init(action(policy.defaultAction)) else {
            throw PaddockError(.dependencyUnavailable, "libseccomp could not create a filter")
        }
        defer { seccomp_release(filter) }
        for name in policy.allow {
            try add(filter, .allow, name, conditions: [])
        }
        for condition in policy.conditional {
            for value in condition.values {
                try add(filter, .allow, condition.syscall, conditions: [comparison(condition, value)])
            }
        }
        for (name, chosen) in policy.actions.sorted(by: { $0.key < $1.key }) {
            try add(filter, chosen, name, conditions: [])
        }
        return try export(filter)
    }

    /// The BPF of a libseccomp filter, through a pipe (libseccomp 2.5 exports to descriptors only).
    private static func export(_ filter: scmp_filter_ctx) throws(PaddockError) -> [UInt8] {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { throw PaddockError(.dependencyUnavailable, "no pipe for the seccomp filter") }
        defer { close(fds[0]) }
        // A filter is a few KiB; the pipe holds 64 KiB, so the export cannot block.
        let exported = seccomp_export_bpf(filter, fds[1])
        close(fds[1])
        guard exported == 0 else {
            throw PaddockError(.dependencyUnavailable, "libseccomp could not compile the filter (errno \(-exported))")
        }
        var program: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 4096)
        while case let count = read(fds[0], &buffer, buffer.count), count > 0 {
            program += buffer[..<count]
        }
        return program
    }

    private static func add(
        _ filter: scmp_filter_ctx,
        _ chosen: SeccompAction,
        _ name: String,
        conditions: [scmp_arg_cmp]
    ) throws(PaddockError) {
        let number = seccomp_syscall_resolve_name(name)
        guard number != __NR_SCMP_ERROR else {
            throw PaddockError(.wrongFormat, "unknown system call '\(name)' in the sandbox profile")
        }
        // Negative numbers are calls this architecture does not have.
        guard number >= 0 else { return }
        let result = conditions.withUnsafeBufferPointer { buffer in
            seccomp_rule_add_array(filter, action(chosen), number, UInt32(buffer.count), buffer.baseAddress)
        }
        guard result == 0 else {
            throw PaddockError(
                .wrongFormat,
                "libseccomp refused the rule '\(chosen)' for '\(name)' (errno \(-result)); is it listed twice?"
            )
        }
    }

    private static func comparison(_ condition: SyscallCondition, _ value: UInt64) -> scmp_arg_cmp {
        let op: scmp_compare =
            switch condition.op {
            case .eq: SCMP_CMP_EQ
            case .ne: SCMP_CMP_NE
            case .lt: SCMP_CMP_LT
            case .le: SCMP_CMP_LE
            case .gt: SCMP_CMP_GT
            case .ge: SCMP_CMP_GE
            case .maskedEq: SCMP_CMP_MASKED_EQ
            }
        let first = condition.op == .maskedEq ? condition.mask : value
        return scmp_arg_cmp(arg: UInt32(condition.argument), op: op, datum_a: first, datum_b: value)
    }

    private static func action(_ action: SeccompAction) -> UInt32 {
        switch action {
        case .allow: paddock_scmp_act_allow()
        case .errno(let number): paddock_scmp_act_errno(UInt16(number))
        case .kill: paddock_scmp_act_kill_process()
        }
    }
}
