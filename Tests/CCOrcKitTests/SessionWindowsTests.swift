import Foundation
import Testing

@testable import CCOrcKit

/// The pure rules of windows and conditions: which agent has its window, where a missing one
/// goes, and what one word says a session is.
struct SessionWindowsTests {
    private func agents(_ roles: String...) -> [AgentRecord] {
        roles.enumerated().map { index, role in
            AgentRecord(
                role: try! AgentRole(role), containerName: "s-\(role)", stateVolume: "s-\(role)-state",
                tmuxWindow: role, position: index)
        }
    }

    /// One pane per window: `(index, name)` pairs, window ids `@<index + 10>`.
    private func panes(_ windows: (Int, String)...) -> [TmuxPane] {
        windows.map { index, name in
            TmuxPane(
                id: "%\(index)", windowID: "@\(index + 10)", windowIndex: index, windowName: name, index: 0, pid: 1,
                isDead: false, exitStatus: nil, exitSignal: nil, isActive: true, currentCommand: "ccdk")
        }
    }

    private func roles(_ windows: SessionWindows) -> (present: [String], missing: [String], extra: [String]) {
        (
            windows.present.map(\.agent.role.rawValue), windows.missing.map(\.agent.role.rawValue),
            windows.extra.map(\.name)
        )
    }

    @Test func allPresentWithAUsersWindow() {
        let windows = SessionWindows.match(
            agents("leader", "researcher", "writer"),
            panes: panes((0, "leader"), (1, "researcher"), (2, "writer"), (3, "monitoring")))
        #expect(roles(windows).present == ["leader", "researcher", "writer"])
        #expect(windows.missing.isEmpty)
        #expect(roles(windows).extra == ["monitoring"])
    }

    @Test func missingWindowsGoBesideTheirNeighbours() throws {
        let leader = try AgentRole("leader")
        let researcher = try AgentRole("researcher")
        // The middle one closed: after the first.
        var windows = SessionWindows.match(
            agents("leader", "researcher", "writer"), panes: panes((0, "leader"), (2, "writer")))
        #expect(windows.missing.map(\.placement) == [.after(leader)])
        // The first two closed: before the first still there, in order.
        windows = SessionWindows.match(
            agents("leader", "researcher", "writer"), panes: panes((2, "writer"), (3, "monitoring")))
        #expect(roles(windows).missing == ["leader", "researcher"])
        #expect(windows.missing.map(\.placement) == [.before(windowID: "@12"), .before(windowID: "@12")])
        #expect(roles(windows).extra == ["monitoring"])
        // The last two never opened (a resume that died): each after the one before.
        windows = SessionWindows.match(agents("leader", "researcher", "writer"), panes: panes((0, "leader")))
        #expect(windows.missing.map(\.placement) == [.after(leader), .after(researcher)])
        // Only the user's window is left: the first anywhere, the others after it.
        windows = SessionWindows.match(agents("leader", "writer"), panes: panes((5, "monitoring")))
        #expect(windows.missing.map(\.placement) == [.anywhere, .after(leader)])
    }

    @Test func aWindowCountsOnceAndPanesOfOneWindowAreOneWindow() {
        // Two windows named like one agent: the first by index is the agent's, the other extra.
        var windows = SessionWindows.match(agents("leader"), panes: panes((1, "leader"), (0, "leader")))
        #expect(windows.present.map(\.window.index) == [0])
        #expect(windows.extra.map(\.index) == [1])
        // A split window lists two panes.
        var split = panes((0, "leader"))
        split.append(
            TmuxPane(
                id: "%9", windowID: "@10", windowIndex: 0, windowName: "leader", index: 1, pid: 2,
                isDead: false, exitStatus: nil, exitSignal: nil, isActive: false, currentCommand: "sh"))
        windows = SessionWindows.match(agents("leader"), panes: split)
        #expect(windows.present.count == 1 && windows.extra.isEmpty)
    }

    @Test func conditions() {
        let decide = SessionCondition.decide
        #expect(decide(.ready, ["running", "running"], true) == .running)
        #expect(decide(.ready, ["stopped", "stopped"], false) == .stopped)
        #expect(decide(.ready, ["running", "stopped"], true) == .partlyRunning)
        #expect(decide(.ready, ["running", "running"], false) == .partlyRunning, "tmux closed behind ccorc's back")
        #expect(
            decide(.ready, ["stopped", "stopped"], true) == .partlyRunning, "containers stopped behind ccorc's back")
        #expect(decide(.ready, ["paused", "stopped"], false) == .partlyRunning)
        #expect(decide(.ready, ["running", "missing"], true) == .broken)
        #expect(decide(.launching, ["running", "missing"], true) == .launching)
        #expect(SessionCondition.partlyRunning.words == "partly running")
    }
}
