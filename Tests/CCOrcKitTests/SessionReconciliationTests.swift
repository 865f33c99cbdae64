import Foundation
import Testing

@testable import CCOrcKit

/// Registry rows, listed containers and tmux sessions reconciled into what `ccorc list` shows.
struct SessionReconciliationTests {
    private func condition(_ record: SessionRecord, _ containers: [ContainerSummary], tmux: Bool) -> SessionCondition {
        let tmuxSessions = tmux ? [Fixture.tmux(record.tmuxSession)] : []
        return SessionReconciliation.statuses([record], containers: containers, tmuxSessions: tmuxSessions)[0].condition
    }

    @Test func oneListFindsEveryContainerTheRecordsCanOwn() {
        let a = Fixture.record("a")
        let b = Fixture.record("b")
        let old = Fixture.record("old", legacy: true)
        let labelled = ["label": ["ccorc.session"]]
        #expect(SessionReconciliation.containerFilters(for: [a, b]) == labelled)
        #expect(SessionReconciliation.containerFilters(for: [a]) == labelled)
        #expect(SessionReconciliation.containerFilters(for: [a], narrowedToOne: true) == ["label": ["ccorc.session=a"]])
        #expect(SessionReconciliation.containerFilters(for: [a, b], narrowedToOne: true) == labelled)
        // A legacy session's containers carry no ccorc label: only an unfiltered list holds them.
        #expect(SessionReconciliation.containerFilters(for: [a, old]).isEmpty)
        #expect(SessionReconciliation.containerFilters(for: [old], narrowedToOne: true).isEmpty)
        #expect(SessionReconciliation.sessionLabelFilter == labelled)
    }

    @Test func everyContainerUpWithTmuxIsRunning() {
        let record = Fixture.record("s")
        let status = SessionReconciliation.statuses(
            [record], containers: Fixture.containers(of: record), tmuxSessions: [Fixture.tmux("s")])[0]
        #expect(status.condition == .running && status.condition.words == "running")
        #expect(status.agents.map(\.state) == ["running", "running"] && status.runningCount == 2)
        #expect(status.tmux?.name == "s")
    }

    @Test func everyContainerDownWithoutTmuxIsStopped() {
        let record = Fixture.record("s")
        #expect(condition(record, Fixture.containers(of: record, state: "exited"), tmux: false) == .stopped)
        // Created and dead count as stopped too.
        let mixed = [
            Fixture.container("s-lead", id: "id-s-lead", state: "created", session: "s"),
            Fixture.container("s-dev", id: "id-s-dev", state: "dead", session: "s"),
        ]
        #expect(condition(record, mixed, tmux: false) == .stopped)
    }

    @Test func disagreeingSidesArePartlyRunning() {
        let record = Fixture.record("s")
        let oneUp = [
            Fixture.container("s-lead", state: "running", session: "s"),
            Fixture.container("s-dev", state: "exited", session: "s"),
        ]
        #expect(condition(record, oneUp, tmux: true) == .partlyRunning)
        #expect(condition(record, Fixture.containers(of: record), tmux: false) == .partlyRunning)
        #expect(condition(record, Fixture.containers(of: record, state: "exited"), tmux: true) == .partlyRunning)
        #expect(
            condition(record, Fixture.containers(of: record, state: "paused"), tmux: true).words == "partly running")
    }

    @Test func aMissingContainerIsBroken() {
        let record = Fixture.record("s")
        let status = SessionReconciliation.statuses(
            [record], containers: [Fixture.container("s-lead", session: "s")], tmuxSessions: [Fixture.tmux("s")])[0]
        #expect(status.condition == .broken)
        #expect(
            status.missingAgents.map(\.record.containerName) == ["s-dev"]
                && status.agents.map(\.state) == ["running", "missing"])
    }

    @Test func aLaunchingRowIsLaunchingWhateverItHas() {
        let record = Fixture.record("s", status: .launching)
        #expect(condition(record, [], tmux: false) == .launching)
        #expect(condition(record, Fixture.containers(of: record), tmux: true) == .launching)
    }

    @Test func aContainerWithTheNameButAnotherOwnerIsNotTheSessions() {
        let record = Fixture.record("s")
        // Someone else's container that happens to be called s-dev: labelled for another session, or unlabelled with another ID.
        let others = [
            Fixture.container("s-lead", session: "s"), Fixture.container("s-dev", id: "foreign", session: "other"),
        ]
        #expect(condition(record, others, tmux: true) == .broken)
        let unlabelled = [
            Fixture.container("s-lead", session: "s"), Fixture.container("s-dev", id: "foreign", session: nil),
        ]
        #expect(condition(record, unlabelled, tmux: true) == .broken)
        // The very container the registry recorded is the session's even without the label.
        let recorded = [Fixture.container("s-lead", session: "s"), Fixture.container("s-dev", session: nil)]
        #expect(condition(record, recorded, tmux: true) == .running)
    }

    @Test func aLegacySessionOwnsUnlabelledContainersByName() {
        let record = Fixture.record("old", legacy: true)
        let containers = [
            Fixture.container("old-lead", id: "x1", session: nil), Fixture.container("old-dev", id: "x2", session: nil),
        ]
        #expect(condition(record, containers, tmux: true) == .running)
        // But not one that ccorc labelled for another session.
        #expect(
            condition(record, [containers[0], Fixture.container("old-dev", id: "x2", session: "new")], tmux: true)
                == .broken)
    }

    @Test func agentsComeInWindowOrder() {
        var record = Fixture.record("s", roles: ["a", "b", "c"])
        record.agents.reverse()
        let status = SessionReconciliation.statuses(
            [record], containers: Fixture.containers(of: record), tmuxSessions: [])[0]
        #expect(status.agents.map(\.record.role.rawValue) == ["a", "b", "c"])
    }

    @Test func orphansAreLabelledAndUnclaimed() {
        let records = [Fixture.record("s")]
        let containers =
            Fixture.containers(of: records[0]) + [
                Fixture.container("gone-lead", session: "gone"),  // its session is not registered
                Fixture.container("s-old", session: "s"),  // registered session: not an orphan
                Fixture.container("mine", session: nil),  // not ccorc's at all
            ]
        #expect(SessionReconciliation.orphanContainers(containers, records: records).map(\.name) == ["gone-lead"])
    }
}
