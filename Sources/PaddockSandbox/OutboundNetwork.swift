import CLinux
import Glibc
import PaddockCore

/// Outbound network for a plugin with `permission.network`: its own network
/// namespace, connected to the outside by `pasta` (Debian's passt), which
/// carries the namespace's traffic through ordinary sockets of the host.
/// pasta maps nothing to the host (no gateway mapping, no port forwarding
/// but the host ports an operator allows), so the host's loopback stays out of reach; routes inside the namespace
/// refuse private, link-local and loopback ranges and every address of the
/// host, except the ranges an operator allows. IPv4 only.
enum OutboundNetwork {
    /// The resolver in the plugin's `/etc/resolv.conf`: pasta forwards what
    /// is sent there to the host's own resolver.
    static let dnsAddress = "169.254.1.53"
    /// The interface pasta creates in the namespace.
    static let interface = "eth0"
    static let pasta = "/usr/bin/pasta"

    /// Starts pasta for the network namespace of `pid` (a process of the
    /// launcher's, in the host's namespaces) and waits until it has
    /// configured it. pasta is the launcher's child and dies with it.
    /// - Returns: pasta's pid.
    /// - Throws: ``PaddockError`` 105 when pasta is missing or fails.
    /// `hostPorts` are ports of the host's loopback the namespace reaches at
    /// its own 127.0.0.1 (an operator's exception; none by default).
    static func connect(namespaceOf pid: pid_t, hostPorts: [Int]) throws(PaddockError) -> pid_t {
        guard access(pasta, X_OK) == 0 else {
            throw PaddockError(.dependencyUnavailable, "network permission needs \(pasta) (Debian package passt), which is not installed")
        }
        let namespace = open("/proc/\(pid)/ns/net", O_RDONLY | O_CLOEXEC)
        guard namespace >= 0 else { throw failure("cannot open the plugin's network namespace") }
        defer { close(namespace) }
        var ready: [Int32] = [0, 0]
        guard paddock_pipe_cloexec(&ready) == 0 else { throw failure("pipe") }
        defer { close(ready[0]) }
        let arguments = [
            pasta, "--foreground", "--quiet", "--runas", "0", "--ipv4-only", "--config-net", "--netns", "/proc/self/fd/3",
            "--netns-only", "--no-netns-quit", "--ns-ifname", interface, "--no-map-gw", "--dns-forward", dnsAddress,
            "-t", "none", "-u", "none", "-T", hostPorts.isEmpty ? "none" : hostPorts.map(String.init).joined(separator: ","), "-U", "none", "--log-file", "/proc/self/fd/2", "--pid", "/proc/self/fd/4",
        ]
        let argv = arguments.map { strdup($0) } + [nil]
        let child = paddock_fork()
        if child == 0 {
            _ = paddock_set_parent_death_signal(SIGKILL)
            // Through descriptors above 4 first: either may already be 3 or 4 (and close-on-exec).
            let (namespaceCopy, readyCopy) = (fcntl(namespace, F_DUPFD, 10), fcntl(ready[1], F_DUPFD, 10))
            guard dup2(namespaceCopy, 3) == 3, dup2(readyCopy, 4) == 4 else { _exit(127) }
            var environment: [UnsafeMutablePointer<CChar>?] = [strdup("PATH=/usr/bin:/bin"), nil]
            execve(pasta, argv, &environment)
            _exit(127)
        }
        argv.forEach { free($0) }
        close(ready[1])
        guard child > 0 else { throw failure("cannot start pasta") }
        // pasta writes its pid once the namespace is configured; EOF means it failed.
        var byte: UInt8 = 0
        var pollfd = Glibc.pollfd(fd: ready[0], events: Int16(POLLIN), revents: 0)
        guard poll(&pollfd, 1, 10_000) == 1, read(ready[0], &byte, 1) == 1 else {
            kill(child, SIGKILL)
            var status: Int32 = 0
            waitpid(child, &status, 0)
            throw PaddockError(.dependencyUnavailable, "pasta could not connect the plugin's network namespace (see the lines above)")
        }
        return child
    }

    /// Inside the namespace, once pasta is up: refuses the unreachable
    /// ranges and the host's own addresses, except `allowed` and the resolver.
    static func restrict(hostAddresses: [IPv4Range], allowed: [IPv4Range]) throws(PaddockError) {
        var routes = try RouteTable()
        // A range allowed whole needs no refusal (one prefix cannot hold both
        // routes); the host's own addresses are refused even inside an allowed range.
        let refused = IPv4Range.unreachable.filter { range in !allowed.contains { $0.contains(range) } } + hostAddresses
        for range in refused { try routes.add(range, .prohibit) }
        let interface = if_nametoindex(Self.interface)
        guard interface != 0 else { throw failure("no interface \(Self.interface) in the plugin's network") }
        for range in allowed + [try! IPv4Range(parsing: dnsAddress)] where !hostAddresses.contains(range) {
            try routes.add(range, .onLink(interface: interface))
        }
    }

    /// The IPv4 addresses of the host's interfaces, each a /32.
    static func hostAddresses() -> [IPv4Range] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var ranges: [IPv4Range] = []
        var next = list
        while let entry = next {
            if let address = entry.pointee.ifa_addr, address.pointee.sa_family == UInt16(AF_INET) {
                let ipv4 = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
                ranges.append(IPv4Range(address: UInt32(bigEndian: ipv4), prefixLength: 32))
            }
            next = entry.pointee.ifa_next
        }
        return ranges
    }

    private static func failure(_ what: String) -> PaddockError {
        PaddockError(.dependencyUnavailable, "\(what): \(String(cString: strerror(errno)))")
    }
}
