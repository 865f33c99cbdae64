import Foundation
import Testing

@testable import CCOrcKit

/// The watch loop's decisions, input by input, on recorded events and made-up readings.
struct WatchStateMachineTests {
    private func machine() -> SessionWatcher.StateMachine {
        SessionWatcher.StateMachine(model: WatchModelTests.model(), filter: WatchFilter(), shellCommand: "ccdk")
    }

    private func types(_ outcome: SessionWatcher.StateMachine.Outcome) -> [String] {
        outcome.changes.map { $0.jsonValue(at: Fixture.now)["type"]?.string ?? "?" }
    }

    @Test func anEventOfTheCurrentConnectionChangesItsSessionAndAStaleOneNothing() throws {
        var machine = machine()
        let create = try WatchModelTests.event(WatchModelTests.recordedLines[0])
        var outcome = machine.handle(.engineEvent(create, generation: 0), rows: nil, tmuxConnected: true)
        #expect(types(outcome) == ["session-changed"] && outcome.actions.isEmpty)
        #expect(machine.current["rec"]?.status.agents[0].state == "stopped")
        let start = try WatchModelTests.event(WatchModelTests.recordedLines[1])
        outcome = machine.handle(.engineEvent(start, generation: 7), rows: nil, tmuxConnected: true)
        #expect(outcome.changes.isEmpty && machine.current["rec"]?.status.agents[0].state == "stopped")
    }

    @Test func aLostConnectionListsAgainAndTheListIsAResyncThenItsChanges() throws {
        var machine = machine()
        var outcome = machine.handle(
            .engineLost(reason: "connection reset", generation: 0), rows: nil, tmuxConnected: true)
        #expect(outcome.actions == [.relist(reason: "connection reset", generation: 1)] && outcome.changes.isEmpty)
        // The old connection's last events and its end count for nothing now.
        let start = try WatchModelTests.event(WatchModelTests.recordedLines[1])
        #expect(machine.handle(.engineEvent(start, generation: 0), rows: nil, tmuxConnected: true).changes.isEmpty)
        #expect(
            machine.handle(.engineLost(reason: "again", generation: 0), rows: nil, tmuxConnected: true).actions.isEmpty)
        let listed = Fixture.container("rec-lead", id: "ba53", state: "running", session: "rec")
        let lists = SessionWatcher.EngineLists(containers: [listed], volumes: ["rec-lead-state"], since: 42)
        // A list for an older connection is not the one asked for.
        #expect(machine.handle(.engineListed(lists, generation: 0), rows: nil, tmuxConnected: true).actions.isEmpty)
        outcome = machine.handle(.engineListed(lists, generation: 1), rows: nil, tmuxConnected: true)
        #expect(outcome.actions == [.follow(since: 42, generation: 1)])
        #expect(types(outcome) == ["resync", "session-changed"])
        #expect(outcome.changes.first?.jsonValue(at: Fixture.now)["reason"]?.string == "connection reset")
        #expect(machine.current["rec"]?.status.agents[0].state == "running")
    }

    @Test func rowsFromAnotherProcessAddAndRemoveSessions() {
        var machine = machine()
        let other = Fixture.record("other", roles: ["lead"])
        var outcome = machine.handle(.tick, rows: machine.model.records + [other], tmuxConnected: true)
        #expect(types(outcome) == ["session-added"] && outcome.actions.isEmpty)
        outcome = machine.handle(.tick, rows: [other], tmuxConnected: true)
        #expect(types(outcome) == ["session-removed"])
        #expect(machine.current.keys.sorted() == ["other"])
        // Nothing changed: nothing said.
        #expect(machine.handle(.tick, rows: nil, tmuxConnected: true).changes.isEmpty)
    }

    @Test func aLegacyRowNeedsEveryContainersEventsSoTheEngineIsListedAgain() {
        var machine = machine()
        let legacy = Fixture.record("old", roles: ["lead"], legacy: true)
        let outcome = machine.handle(.tick, rows: machine.model.records + [legacy], tmuxConnected: true)
        #expect(outcome.actions == [.relist(reason: "the registered sessions need other events", generation: 1)])
        #expect(machine.generation == 1)
    }

    @Test func withoutATmuxServerEveryTickAndRowChangeLooksForOne() {
        var machine = machine()
        #expect(machine.handle(.tick, rows: nil, tmuxConnected: false).actions == [.readTmux])
        #expect(machine.handle(.tick, rows: nil, tmuxConnected: true).actions.isEmpty)
        let other = Fixture.record("other", roles: ["lead"])
        #expect(
            machine.handle(.tick, rows: machine.model.records + [other], tmuxConnected: false).actions == [.readTmux])
    }

    @Test func aTmuxReconnectIsAResyncThenWhatChanged() {
        var machine = machine()
        let reading = SessionWatcher.TmuxReading(
            sessions: [], panes: [:], commandLines: [:], reconnectReason: "tmux connection lost: exited")
        let outcome = machine.handle(.tmuxRead(reading), rows: nil, tmuxConnected: true)
        #expect(types(outcome) == ["resync", "session-changed"])
        #expect(machine.current["rec"]?.status.tmux == nil)
    }
}
