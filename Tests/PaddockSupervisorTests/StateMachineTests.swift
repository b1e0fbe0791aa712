import PaddockSupervisor
import Testing

/// A hand-driven instant: tests move time explicitly.
struct ManualInstant: InstantProtocol {
    var offset: Duration

    static func seconds(_ value: Double) -> ManualInstant { ManualInstant(offset: .milliseconds(Int64(value * 1000))) }
    func advanced(by duration: Duration) -> ManualInstant { ManualInstant(offset: offset + duration) }
    func duration(to other: ManualInstant) -> Duration { other.offset - offset }
    static func < (lhs: ManualInstant, rhs: ManualInstant) -> Bool { lhs.offset < rhs.offset }
}

@Suite struct RestartStateMachineTests {
    typealias Machine = RestartStateMachine<ManualInstant>

    @Test func backoffDoublesUpToTheCap() {
        var machine = Machine(configuration: .init(initialBackoff: .milliseconds(100), maximumBackoff: .milliseconds(500), crashLoopLimit: 100))
        var delays: [Duration] = []
        for second in 0..<6 {
            machine.started(at: .seconds(Double(second)))
            if case .restart(let delay) = machine.exited(at: .seconds(Double(second) + 0.5), cleanly: false) { delays.append(delay) }
        }
        #expect(delays == [.milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(500), .milliseconds(500), .milliseconds(500)])
    }

    @Test func healthyPeriodResetsTheBackoff() {
        var machine = Machine(configuration: .init(healthyAfter: .seconds(30)))
        machine.started(at: .seconds(0))
        #expect(machine.exited(at: .seconds(1), cleanly: false) == .restart(after: .milliseconds(100)))
        machine.started(at: .seconds(2))
        #expect(machine.exited(at: .seconds(3), cleanly: false) == .restart(after: .milliseconds(200)))
        machine.started(at: .seconds(4))
        #expect(machine.exited(at: .seconds(40), cleanly: false) == .restart(after: .milliseconds(100)))
    }

    @Test func moreThanFiveRestartsInAMinuteGivesUp() {
        var machine = Machine()
        for second in 0..<5 {
            #expect(machine.exited(at: .seconds(Double(second)), cleanly: false) != .giveUp)
        }
        #expect(machine.exited(at: .seconds(5), cleanly: false) == .giveUp)
        machine.reset()
        #expect(machine.exited(at: .seconds(6), cleanly: false) == .restart(after: .milliseconds(100)))
    }

    @Test func restartsOutsideTheWindowDoNotCount() {
        var machine = Machine()
        for second in stride(from: 0.0, to: 200.0, by: 20.0) {
            #expect(machine.exited(at: .seconds(second), cleanly: false) != .giveUp)
        }
    }

    @Test func policiesDecideWhichExitsRestart() {
        var never = Machine(configuration: .init(policy: .never))
        #expect(never.exited(at: .seconds(0), cleanly: false) == .stop)
        var onFailure = Machine(configuration: .init(policy: .onFailure))
        #expect(onFailure.exited(at: .seconds(0), cleanly: true) == .stop)
        #expect(onFailure.exited(at: .seconds(1), cleanly: false) == .restart(after: .milliseconds(100)))
        var always = Machine(configuration: .init(policy: .always))
        #expect(always.exited(at: .seconds(0), cleanly: true) == .restart(after: .milliseconds(100)))
    }
}
