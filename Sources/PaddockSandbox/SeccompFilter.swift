import CSeccomp
import PaddockCore

/// Builds a seccomp filter from a policy with libseccomp and loads it into
/// the calling process. Used by the launcher just before exec.
enum SeccompFilter {
    /// Loads the filter; from then on every system call of this process and
    /// its children is checked.
    /// - Throws: ``PaddockError`` 102 for an unknown system call or a rule
    ///   libseccomp refuses, 105 when the kernel refuses the filter.
    static func load(_ policy: SeccompPolicy) throws(PaddockError) {
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
        let result = seccomp_load(filter)
        guard result == 0 else {
            throw PaddockError(.dependencyUnavailable, "the kernel refused the seccomp filter (errno \(-result))")
        }
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
