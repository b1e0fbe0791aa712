import PaddockCore
import PaddockSupervisor
import Testing

/// The lifecycle machine driven by hand, with a manual clock: every
/// transition's actions, including the hostile cases (a plugin that ignores
/// `shutdown`, a kill that does not land, a stop while starting).
@Suite struct PluginLifecycleTests {
    typealias Machine = PluginLifecycle<ManualInstant>

    static let configuration = Machine.Configuration(
        startTimeout: .seconds(10), shutdownTimeout: .seconds(2), heartbeatInterval: .seconds(10), heartbeatTimeout: .seconds(5),
        killGrace: .seconds(1), restart: .init(initialBackoff: .milliseconds(100)))
    static let death = PaddockError(.pluginCrashed, "the plugin crashed")

    /// A machine brought to `running` (generation 1) at time 0; the start waiter was 1.
    static func running() -> Machine {
        var machine = Machine(configuration: configuration)
        #expect(machine.handle(.start(waiter: 1, at: .seconds(0))) == [.spawn(generation: 1), .schedule(.seconds(10))])
        #expect(machine.handle(.spawned(generation: 1)) == [])
        #expect(machine.handle(.connected(generation: 1)) == [.initialize(generation: 1)])
        #expect(machine.handle(.initialized(generation: 1, at: .seconds(0))) == [.resume([1]), .schedule(.seconds(10))])
        #expect(machine.state == .running(generation: 1))
        return machine
    }

    @Test func shutdownIgnoredIsKilledAtTheDeadlineAndTheStopEndsWithTheExit() {
        var machine = Self.running()
        #expect(machine.handle(.stop(waiter: 7, at: .seconds(1))) == [.shutdown(generation: 1), .schedule(.seconds(3))])
        #expect(machine.handle(.tick(at: .seconds(2))) == [.schedule(.seconds(3))], "nothing before the deadline")
        let actions = machine.handle(.tick(at: .seconds(3)))
        guard case .kill(1, let reason?) = actions.first else { Issue.record("\(actions)"); return }
        #expect(reason.code == .pluginUnavailable)
        #expect(actions.last == .schedule(.seconds(4)), "the kill has a second to land")
        #expect(machine.handle(.exited(generation: 1, death: reason, cleanly: false, retryable: true, at: .seconds(3.01))) == [.resume([7])])
        #expect(machine.state == .stopped)
    }

    @Test func aKillThatDoesNotLandStillEndsTheStopByTheGrace() {
        var machine = Self.running()
        _ = machine.handle(.stop(waiter: 7, at: .seconds(0)))
        _ = machine.handle(.tick(at: .seconds(2)))
        let actions = machine.handle(.tick(at: .seconds(3)))
        #expect(actions.contains(.resume([7])))
        #expect(machine.state == .stopped)
        #expect(machine.handle(.exited(generation: 1, death: Self.death, cleanly: false, retryable: true, at: .seconds(9))) == [], "a late exit changes nothing")
        #expect(machine.state == .stopped)
    }

    @Test func stopWhileConnectingKillsAtOnceAndNeverRuns() {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.handle(.start(waiter: 1, at: .seconds(0)))
        _ = machine.handle(.spawned(generation: 1))
        let actions = machine.handle(.stop(waiter: 2, at: .seconds(0.5)))
        #expect(actions.contains { if case .kill(1, _) = $0 { true } else { false } })
        #expect(actions.contains { if case .fail([1], _) = $0 { true } else { false } }, "the start learns it was stopped")
        // The connection and the answer to initialize arrive late: the process must still die.
        #expect(machine.handle(.connected(generation: 1)).allSatisfy { if case .kill(1, _) = $0 { true } else { false } })
        #expect(machine.handle(.initialized(generation: 1, at: .seconds(0.6))).allSatisfy { if case .kill(1, _) = $0 { true } else { false } })
        #expect(!machine.isRunning)
        #expect(machine.handle(.exited(generation: 1, death: Self.death, cleanly: false, retryable: true, at: .seconds(0.7))) == [.resume([2])])
        #expect(machine.state == .stopped)
    }

    @Test func stopWhileSpawningKillsTheProcessOnceItExists() {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.handle(.start(waiter: nil, at: .seconds(0)))
        #expect(machine.handle(.stop(waiter: 2, at: .seconds(0))) == [.schedule(.seconds(2))])
        #expect(machine.handle(.spawned(generation: 1)).allSatisfy { if case .kill(1, _) = $0 { true } else { false } })
        _ = machine.handle(.exited(generation: 1, death: Self.death, cleanly: false, retryable: true, at: .seconds(0.1)))
        #expect(machine.state == .stopped)
    }

    @Test func aCallsDeadlinePassesWhileThePluginIsInBackoff() {
        var machine = Machine(configuration: .init(restart: .init(initialBackoff: .seconds(30))))
        _ = machine.handle(.start(waiter: nil, at: .seconds(0)))
        _ = machine.handle(.spawned(generation: 1))
        _ = machine.handle(.connected(generation: 1))
        _ = machine.handle(.initialized(generation: 1, at: .seconds(0)))
        _ = machine.handle(.connectionClosed(generation: 1))
        #expect(machine.handle(.exited(generation: 1, death: Self.death, cleanly: false, retryable: true, at: .seconds(1))).last == .schedule(.seconds(31)))
        #expect(machine.state == .backoff(until: .seconds(31)))
        #expect(machine.handle(.waitUntilRunning(9, deadline: .seconds(6))) == [.schedule(.seconds(6))])
        let actions = machine.handle(.tick(at: .seconds(6)))
        guard case .fail([9], let error) = actions.first else { Issue.record("\(actions)"); return }
        #expect(error.code == .pluginUnavailable)
        #expect(actions.last == .schedule(.seconds(31)), "the restart is still due")
        #expect(machine.handle(.tick(at: .seconds(31))).first == .spawn(generation: 2))
    }

    @Test func aWaitingCallIsResumedWhenThePluginComesBack() {
        var machine = Self.running()
        _ = machine.handle(.connectionClosed(generation: 1))
        _ = machine.handle(.exited(generation: 1, death: Self.death, cleanly: false, retryable: true, at: .seconds(1)))
        _ = machine.handle(.waitUntilRunning(5, deadline: .seconds(30)))
        _ = machine.handle(.tick(at: .seconds(1.1)))
        _ = machine.handle(.spawned(generation: 2))
        _ = machine.handle(.connected(generation: 2))
        #expect(machine.handle(.initialized(generation: 2, at: .seconds(1.2))).first == .resume([5]))
        #expect(machine.restarts == 1)
    }

    @Test func anIdlePluginIsPingedAndKilledWhenItDoesNotAnswer() {
        var machine = Self.running()
        #expect(machine.handle(.tick(at: .seconds(10))) == [.ping(generation: 1), .schedule(.seconds(15))])
        #expect(machine.handle(.pingAnswered(generation: 1, at: .seconds(11))) == [.schedule(.seconds(21))])
        #expect(machine.handle(.tick(at: .seconds(21))) == [.ping(generation: 1), .schedule(.seconds(26))])
        let actions = machine.handle(.tick(at: .seconds(26)))
        guard case .kill(1, let reason?) = actions.first else { Issue.record("\(actions)"); return }
        #expect(reason.code == .timedOut)
        #expect(machine.state == .dying(generation: 1))
    }

    @Test func aBusyPluginIsNeverPinged() {
        var machine = Self.running()
        machine.callStarted()
        #expect(machine.handle(.tick(at: .seconds(60))) == [])
        #expect(machine.callFinished(at: .seconds(61)) == .seconds(71))
        #expect(machine.handle(.tick(at: .seconds(71))).first == .ping(generation: 1))
    }

    @Test func aStartThatTimesOutIsKilledAndItsWaiterGetsTheDeath() {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.handle(.start(waiter: 1, at: .seconds(0)))
        _ = machine.handle(.spawned(generation: 1))
        _ = machine.handle(.connected(generation: 1))
        let actions = machine.handle(.tick(at: .seconds(10)))
        guard case .kill(1, let reason?) = actions.first else { Issue.record("\(actions)"); return }
        #expect(reason.code == .timedOut)
        let after = machine.handle(.exited(generation: 1, death: reason, cleanly: false, retryable: true, at: .seconds(10.1)))
        #expect(after.first == .fail([1], reason))
        #expect(machine.state == .backoff(until: .seconds(10.2)), "restarts go on by the policy")
    }

    @Test func aCrashLoopFailsThePluginAndEveryWaiter() {
        var machine = Machine(configuration: .init(restart: .init(crashLoopLimit: 2)))
        _ = machine.handle(.start(waiter: nil, at: .seconds(0)))
        for generation in 1...3 {
            #expect(machine.liveGeneration == generation)
            _ = machine.handle(.exited(generation: generation, death: Self.death, cleanly: false, retryable: true, at: .seconds(Double(generation))))
            _ = machine.handle(.tick(at: .seconds(Double(generation) + 0.5)))
        }
        #expect(machine.state == .failed(Self.death))
        #expect(machine.handle(.waitUntilRunning(3, deadline: .seconds(60))).first.map { if case .fail([3], _) = $0 { true } else { false } } == true)
        #expect(machine.handle(.start(waiter: 4, at: .seconds(70))).first == .spawn(generation: 4), "an operator's start begins again")
    }

    @Test func aDeathThatNeverFixesItselfIsNotRetried() {
        var machine = Machine(configuration: Self.configuration)
        _ = machine.handle(.start(waiter: 1, at: .seconds(0)))
        let wrong = PaddockError(.permissionDenied, "the plugin announces tools the manifest does not declare: x")
        let actions = machine.handle(.exited(generation: 1, death: wrong, cleanly: false, retryable: false, at: .seconds(1)))
        #expect(actions.first == .fail([1], wrong))
        #expect(machine.state == .failed(wrong))
    }

    @Test func stopIsLegalInEveryState() {
        var idle = Machine(configuration: Self.configuration)
        #expect(idle.handle(.stop(waiter: 1, at: .seconds(0))) == [.resume([1])])
        #expect(idle.state == .stopped)
        var failed = Machine(configuration: Self.configuration)
        _ = failed.handle(.start(waiter: nil, at: .seconds(0)))
        _ = failed.handle(.spawnFailed(generation: 1, PaddockError(.dependencyUnavailable, "no launcher")))
        #expect(failed.handle(.stop(waiter: 2, at: .seconds(1))) == [.resume([2])])
        #expect(failed.state == .stopped)
        var backoff = Self.running()
        _ = backoff.handle(.exited(generation: 1, death: Self.death, cleanly: false, retryable: true, at: .seconds(1)))
        #expect(backoff.handle(.stop(waiter: 3, at: .seconds(1))) == [.resume([3])])
        #expect(backoff.handle(.tick(at: .seconds(5))) == [], "no restart after a stop")
    }
}
