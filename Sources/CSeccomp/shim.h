#include <seccomp.h>

/// SCMP_ACT_ERRNO and SCMP_ACT_TRACE are function-like macros.
static inline uint32_t paddock_scmp_act_errno(uint16_t error) {
    return SCMP_ACT_ERRNO(error);
}

/// The action that kills the whole process (SIGSYS), not just the thread.
static inline uint32_t paddock_scmp_act_kill_process(void) {
    return SCMP_ACT_KILL_PROCESS;
}

static inline uint32_t paddock_scmp_act_allow(void) {
    return SCMP_ACT_ALLOW;
}
