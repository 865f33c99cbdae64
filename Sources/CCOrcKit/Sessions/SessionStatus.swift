/// One agent's live state, reconciled from the registry and the engine.
public struct AgentStatus: Sendable {
    /// The registry's record.
    public var record: AgentRecord
    /// The container as the engine lists it; nil when it is missing.
    public var container: ContainerSummary?

    /// `running`, `stopped`, `missing`, or the engine's other states.
    public var state: String {
        guard let container else { return "missing" }
        switch container.state {
        case .running: return "running"
        case .exited, .created, .dead: return "stopped"
        default: return container.state.rawValue
        }
    }
}

/// One session's live state: registry, engine and tmux, reconciled.
public struct SessionStatus: Sendable {
    /// The registry's record.
    public var record: SessionRecord
    /// Each agent with its container.
    public var agents: [AgentStatus]
    /// The tmux session, when it exists.
    public var tmux: TmuxSession?
    /// Why the session's engine could not be asked (`engine NAME unreachable: ...`); nil when
    /// it answered. Its agents then show no containers, and nothing is changed there.
    public var engineProblem: String?

    /// How many agents' containers are running.
    public var runningCount: Int { agents.filter { $0.state == "running" }.count }
    /// Agents whose container the engine no longer has.
    public var missingAgents: [AgentStatus] { agents.filter { $0.container == nil } }
    /// Agents' containers that carry the session's label under an ID other than the recorded one,
    /// by container name: what a repair that died before recording them leaves.
    public var staleContainerIDs: [String: String] {
        var stale: [String: String] = [:]
        for agent in agents {
            if let container = agent.container, container.id != agent.record.containerID {
                stale[agent.record.containerName] = container.id
            }
        }
        return stale
    }
}

/// One session in detail: its live state and its tmux panes.
public struct SessionDetails: Sendable {
    /// The session's live state.
    public var status: SessionStatus
    /// Its tmux panes; empty when tmux has no session for it.
    public var panes: [TmuxPane]
}

/// The registered sessions with their live state, and optionally the orphaned containers.
public struct SessionListing: Sendable {
    /// Every registered session.
    public var sessions: [SessionStatus]
    /// Containers labelled by ccorc that no session claims; nil when they were not asked for.
    public var orphans: [ContainerSummary]?
    /// Registry rows that could not be decoded and were left out of `sessions`.
    public var damaged: [DamagedRegistryRow] = []
    /// The engines that did not answer, by name, with the reason; their sessions' states are
    /// unknown.
    public var unreachable: [String: String] = [:]
}
