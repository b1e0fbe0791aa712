// probe: a small native program the sandbox tests run under paddock-sandbox.
// Each subcommand tries one thing and prints what happened on stdout.
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

static int report(long result) {
    if (result < 0) {
        printf("%s\n", strerror(errno));
        return 1;
    }
    printf("ok\n");
    return 0;
}

static long named_syscall(const char *name) {
    static const struct { const char *name; long number; } calls[] = {
        {"ptrace", SYS_ptrace}, {"mount", SYS_mount}, {"reboot", SYS_reboot},
        {"kexec_load", SYS_kexec_load}, {"bpf", SYS_bpf}, {"unshare", SYS_unshare},
        {"keyctl", SYS_keyctl}, {"init_module", SYS_init_module},
        {"perf_event_open", SYS_perf_event_open},
    };
    for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
        if (strcmp(calls[i].name, name) == 0) {
            // Harmless arguments: zeros, and for unshare a flag that needs privileges.
            long first = strcmp(name, "unshare") == 0 ? 0x40000000 : 0;
            return syscall(calls[i].number, first, 0, 0, 0, 0, 0);
        }
    }
    fprintf(stderr, "unknown syscall %s\n", name);
    exit(2);
}

static int abstract_address(const char *name, struct sockaddr_un *address) {
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    strncpy(address->sun_path + 1, name, sizeof address->sun_path - 2);
    return (int)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(name));
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 2) return 2;
    const char *command = argv[1];
    if (strcmp(command, "alloc") == 0) {
        // Allocate and touch megabytes one at a time.
        long megabytes = atol(argv[2]);
        for (long i = 0; i < megabytes; i++) {
            char *block = malloc(1 << 20);
            if (block == NULL) {
                printf("allocated %ld MiB\n", i);
                fprintf(stderr, "malloc: %s\n", strerror(ENOMEM));
                return 1;
            }
            memset(block, 1, 1 << 20);
        }
        printf("allocated %ld MiB\n", megabytes);
        return 0;
    }
    if (strcmp(command, "write") == 0) {
        int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0) return report(-1);
        static char chunk[1 << 16];
        long total = atol(argv[3]) << 20;
        for (long written = 0; written < total; written += sizeof chunk) {
            if (write(fd, chunk, sizeof chunk) < 0) return report(-1);
        }
        return report(0);
    }
    if (strcmp(command, "touch") == 0) {
        int fd = open(argv[2], O_WRONLY | O_CREAT, 0600);
        return report(fd);
    }
    if (strcmp(command, "spin") == 0) {
        for (volatile unsigned long i = 0;; i++) {}
    }
    if (strcmp(command, "syscall") == 0) return report(named_syscall(argv[2]));
    if (strcmp(command, "socket") == 0) {
        int domain = strcmp(argv[2], "inet") == 0 ? AF_INET : strcmp(argv[2], "inet6") == 0 ? AF_INET6 : AF_UNIX;
        return report(socket(domain, SOCK_STREAM, 0));
    }
    if (strcmp(command, "fd") == 0) {
        printf("%s\n", fcntl(atoi(argv[2]), F_GETFD) < 0 ? "closed" : "open");
        return 0;
    }
    if (strcmp(command, "uid") == 0) {
        printf("%d %d %d\n", getuid(), geteuid(), getgid());
        return 0;
    }
    if (strcmp(command, "kill") == 0) return report(kill(atoi(argv[2]), 0));
    if (strcmp(command, "connect-abstract") == 0) {
        struct sockaddr_un address;
        socklen_t length = abstract_address(argv[2], &address);
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0) return report(-1);
        return report(connect(fd, (struct sockaddr *)&address, length));
    }
    if (strcmp(command, "sleep") == 0) {
        printf("%d\n", getpid());
        sleep(atoi(argv[2]));
        return 0;
    }
    if (strcmp(command, "forkbomb") == 0) {
        // Fork until refused (or a ceiling), then report the count; children wait.
        long ceiling = atol(argv[2]), forked = 0;
        for (; forked < ceiling; forked++) {
            pid_t child = fork();
            if (child < 0) break;
            // Children let go of stdout so that the test sees the parent finish.
            if (child == 0) { close(1); close(2); pause(); _exit(0); }
        }
        printf("forked %ld\n", forked);
        return 0;
    }
    fprintf(stderr, "unknown command %s\n", command);
    return 2;
}
