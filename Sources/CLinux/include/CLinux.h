// What Swift cannot call directly on Linux: variadic calls, raw syscalls
// without glibc wrappers, and Landlock's structs and constants (Debian's
// kernel headers predate the Landlock ABI versions Paddock uses).
// Static inline wrappers only, prefixed paddock_; no logic.
#ifndef PADDOCK_CLINUX_H
#define PADDOCK_CLINUX_H

// No _GNU_SOURCE: it would change glibc's struct definitions from the ones
// Swift's Glibc module sees. Calls glibc hides without it go through syscall(2);
// the launcher is single-threaded, so per-thread credentials are per-process.
#include <errno.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#ifndef __NR_close_range
#define __NR_close_range 436
#endif
#ifndef __NR_landlock_create_ruleset
#define __NR_landlock_create_ruleset 444
#define __NR_landlock_add_rule 445
#define __NR_landlock_restrict_self 446
#endif

/// struct ucred (SO_PEERCRED), which glibc shows only with _GNU_SOURCE.
struct paddock_ucred {
    int32_t pid;
    uint32_t uid;
    uint32_t gid;
};

static inline int paddock_so_peercred(void) { return 17; }

static inline int paddock_set_no_new_privs(void) {
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
}

static inline int paddock_get_no_new_privs(void) {
    return prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);
}

static inline int paddock_set_parent_death_signal(int signal) {
    return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
}

static inline int paddock_set_dumpable(int dumpable) {
    return prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
}

/// Installs a compiled seccomp BPF program (`count` instructions of 8
/// bytes); needs no_new_privs or CAP_SYS_ADMIN.
static inline int paddock_seccomp_set_filter(const void *instructions, unsigned short count) {
    struct sock_fprog program = { .len = count, .filter = (struct sock_filter *)instructions };
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program, 0, 0);
}

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec from the start.
static inline int paddock_pipe_cloexec(int fds[2]) {
    return (int)syscall(SYS_pipe2, fds, 02000000);
}

static inline int paddock_close_range(unsigned int first, unsigned int last) {
    return (int)syscall(__NR_close_range, first, last, 0);
}

static inline int paddock_unshare(int flags) {
    return (int)syscall(SYS_unshare, flags);
}

static inline int paddock_clear_groups(void) {
    return (int)syscall(SYS_setgroups, 0, NULL);
}

static inline int paddock_setresuid(uid_t uid) {
    return (int)syscall(SYS_setresuid, uid, uid, uid);
}

static inline int paddock_setresgid(gid_t gid) {
    return (int)syscall(SYS_setresgid, gid, gid, gid);
}

static inline const int paddock_clone_newnet(void) { return CLONE_NEWNET; }
static inline const int paddock_clone_newuser(void) { return CLONE_NEWUSER; }
static inline const int paddock_clone_newpid(void) { return CLONE_NEWPID; }
/// The namespaces of a plugin's view besides pid and network: mounts, IPC,
/// host name and cgroup paths.
static inline const int paddock_clone_view(void) { return CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP; }

static inline int paddock_setns(int fd, int type) {
    return (int)syscall(SYS_setns, fd, type);
}

/// fork(2); the launcher is single-threaded, so the child may go on freely.
static inline pid_t paddock_fork(void) { return fork(); }

static inline int paddock_mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data) {
    return mount(source, target, type, flags, data);
}

static inline int paddock_umount_detach(const char *target) { return umount2(target, MNT_DETACH); }

static inline int paddock_pivot_root(const char *new_root, const char *put_old) {
    return (int)syscall(SYS_pivot_root, new_root, put_old);
}

static inline const unsigned long paddock_ms_bind(void) { return MS_BIND; }
static inline const unsigned long paddock_ms_rec(void) { return MS_REC; }
static inline const unsigned long paddock_ms_private(void) { return MS_PRIVATE; }
static inline const unsigned long paddock_ms_remount(void) { return MS_REMOUNT; }
static inline const unsigned long paddock_ms_rdonly(void) { return MS_RDONLY; }
static inline const unsigned long paddock_ms_nosuid(void) { return MS_NOSUID; }
static inline const unsigned long paddock_ms_nodev(void) { return MS_NODEV; }
static inline const unsigned long paddock_ms_noexec(void) { return MS_NOEXEC; }

/// Sets IFF_UP on the interface `name` through an AF_INET datagram socket.
static inline int paddock_interface_up(int socket_fd, const char *name) {
    struct ifreq request = {0};
    for (int i = 0; name[i] && i < IFNAMSIZ - 1; i++) request.ifr_name[i] = name[i];
    if (ioctl(socket_fd, SIOCGIFFLAGS, &request) != 0) return -1;
    request.ifr_flags |= IFF_UP;
    return ioctl(socket_fd, SIOCSIFFLAGS, &request);
}

// Landlock (linux/landlock.h), up to ABI 7.
struct paddock_landlock_ruleset_attr {
    uint64_t handled_access_fs;
    uint64_t handled_access_net;
    uint64_t scoped;
};

struct paddock_landlock_path_beneath_attr {
    uint64_t allowed_access;
    int32_t parent_fd;
} __attribute__((packed));

#define PADDOCK_LANDLOCK_CREATE_RULESET_VERSION (1U << 0)
#define PADDOCK_LANDLOCK_RULE_PATH_BENEATH 1

static inline int paddock_landlock_abi_version(void) {
    return (int)syscall(__NR_landlock_create_ruleset, NULL, 0, PADDOCK_LANDLOCK_CREATE_RULESET_VERSION);
}

/// `size` selects how much of the attribute the kernel reads: 8 bytes
/// before ABI 4, 16 before ABI 6, 24 from ABI 6 on.
static inline int paddock_landlock_create_ruleset(const struct paddock_landlock_ruleset_attr *attr, size_t size) {
    return (int)syscall(__NR_landlock_create_ruleset, attr, size, 0);
}

static inline int paddock_landlock_add_path_rule(int ruleset, uint64_t access, int parent_fd) {
    struct paddock_landlock_path_beneath_attr attr = { .allowed_access = access, .parent_fd = parent_fd };
    return (int)syscall(__NR_landlock_add_rule, ruleset, PADDOCK_LANDLOCK_RULE_PATH_BENEATH, &attr, 0);
}

static inline int paddock_landlock_restrict_self(int ruleset) {
    return (int)syscall(__NR_landlock_restrict_self, ruleset, 0);
}

#endif
