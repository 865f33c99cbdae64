/// How a session's tmux windows line up with its agents: which agent has its window, which
/// agents lack one, and which windows are nobody's (a user's own `tmux new-window -t NAME`).
///
/// A pure rule over the panes tmux listed (`list-panes -s`); `resume` adds what it finds missing
/// and `health` reports the same findings, so both read windows the same way.
public struct SessionWindows: Sendable {
    /// A window of the tmux session, as its panes describe it.
    public struct Window: Sendable, Equatable {
        /// tmux's window id, `@N`.
        public var id: String
        /// The window's index in the session.
        public var index: Int
        /// The window's name.
        public var name: String
    }

    /// Where a missing agent's window goes, so that the agents' windows keep their order.
    public enum Placement: Sendable, Equatable {
        /// Right after the window of this agent, present or just added (`new-window -a`).
        case after(AgentRole)
        /// Right before this window, the first agent window that is present (`new-window -b`).
        case before(windowID: String)
        /// Wherever tmux puts a new window: the session has no agent window to line up with.
        case anywhere
    }

    /// Each agent that has a window, with that window, in the agents' order.
    public var present: [(agent: AgentRecord, window: Window)]
    /// The agents without a window, in their order, each with where its window goes.
    public var missing: [(agent: AgentRecord, placement: Placement)]
    /// Windows that belong to no agent, by index: the user's own.
    public var extra: [Window]

    /// The window name an agent's window has: the one recorded, else its role.
    public static func windowName(_ agent: AgentRecord) -> String { agent.tmuxWindow ?? agent.role.rawValue }

    /// Matches `agents` against the windows of `panes`.
    ///
    /// An agent's window is the first window, by index, named as the agent's window (or whose id
    /// is what the registry recorded); every other window is extra. A missing agent's window goes
    /// right after the previous agent's, or, for agents before the first that has one, right
    /// before that first one.
    /// - Parameter agents: the session's agents, in any order; they are taken by `position`.
    public static func match(_ agents: [AgentRecord], panes: [TmuxPane]) -> SessionWindows {
        var windows: [Window] = []
        var seen: Set<String> = []
        for pane in panes.sorted(by: { $0.windowIndex < $1.windowIndex }) where seen.insert(pane.windowID).inserted {
            windows.append(Window(id: pane.windowID, index: pane.windowIndex, name: pane.windowName))
        }
        var claimed: Set<String> = []
        var result = SessionWindows(present: [], missing: [], extra: [])
        var pending: [AgentRecord] = []
        var previous: AgentRole?
        for agent in agents.sorted(by: { $0.position < $1.position }) {
            let name = windowName(agent)
            if let window = windows.first(where: { !claimed.contains($0.id) && ($0.name == name || $0.id == name) }) {
                claimed.insert(window.id)
                result.present.append((agent, window))
                if previous == nil {
                    // The agents before the first present one go before its window, in order.
                    result.missing += pending.map { ($0, .before(windowID: window.id)) }
                    pending = []
                }
                previous = agent.role
            } else if let after = previous {
                result.missing.append((agent, .after(after)))
                previous = agent.role
            } else {
                pending.append(agent)
            }
        }
        result.missing += pending.enumerated().map { index, agent in
            // No agent has a window: the first goes anywhere, the rest after it.
            (agent, index == 0 ? .anywhere : .after(pending[index - 1].role))
        }
        result.extra = windows.filter { !claimed.contains($0.id) }
        return result
    }
}
