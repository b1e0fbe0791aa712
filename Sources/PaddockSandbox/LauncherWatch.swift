import Glibc
import PaddockCore

/// The launcher's part once the namespace's init runs: connects the
/// plugin's network when it has the permission, stops the whole plugin when
/// its processes together spend their CPU budget or the supervisor asks
/// (SIGTERM), and ends the way the plugin ended, so the supervisor waiting
/// for the launcher sees the plugin's own status (SIGXCPU when the budget
/// was spent, SIGKILL when it was stopped alive).
struct LauncherWatch {
    let initPID: pid_t
    let channel: InitChannel
    let policy: SandboxPolicy

    func run() -> Never {
        let stop = StopRequest.install()
        var pasta: pid_t?
        if policy.allowNetwork, channel.waitForNetworkRequest() {
            do {
                pasta = try OutboundNetwork.connect(namespaceOf: initPID, hostPorts: policy.allowedHostPorts)
                channel.grantNetwork()
            } catch {
                Launcher.warn(LaunchFailure(.namespace, error).line)
                stopInit()
                _exit(LaunchStep.namespace.exitStatus)
            }
        }
        let budget = CPUBudget(cgroups: policy.cgroups, seconds: policy.limits.cpuSeconds)
        var spent = false
        var stopped = false
        while true {
            var timeout: Int32 = -1
            if let budget {
                guard let next = budget.nextCheck() else {
                    spent = true
                    break
                }
                timeout = Int32(next / .milliseconds(1))
            }
            var fds = [
                Glibc.pollfd(fd: channel.statusReader, events: Int16(POLLIN), revents: 0),
                Glibc.pollfd(fd: stop ?? -1, events: Int16(POLLIN), revents: 0),
            ]
            guard poll(&fds, 2, timeout) > 0 else { continue }
            stopped = fds[0].revents == 0
            break
        }
        let initStatus = spent || stopped ? stopInit() : wait(for: initPID)
        let pluginStatus = ExitRelay.receive(from: channel.statusReader)
        if let pasta {
            kill(pasta, SIGKILL)
            _ = wait(for: pasta)
        }
        if spent {
            Launcher.warn("paddock-sandbox: the plugin's processes used their CPU budget of \(policy.limits.cpuSeconds) s together")
            ExitRelay.end(like: ExitRelay.killed(by: SIGXCPU))
        }
        ExitRelay.end(like: pluginStatus ?? initStatus)
    }

    /// Kills the init, and with it every process of the plugin.
    @discardableResult
    private func stopInit() -> Int32 {
        kill(initPID, SIGKILL)
        return wait(for: initPID)
    }

    private func wait(for pid: pid_t) -> Int32 {
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return status
    }
}
