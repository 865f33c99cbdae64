/// What a session is, in one word: the STATUS column of `ccorc list`, the `"condition"` of its
/// JSON, and what `health` starts from to tell a session stopped on purpose from one partly down.
public enum SessionCondition: String, Sendable, CaseIterable {
    /// Every agent's container runs and the tmux session is there.
    case running
    /// No container runs, none is missing and the tmux session is closed: what `ccorc stop` leaves.
    case stopped
    /// Anything between: some containers run and some do not, or the tmux session and the
    /// containers disagree (containers up without tmux, tmux up without containers).
    case partlyRunning
    /// Some agent's container is missing (removed behind ccorc's back).
    case broken
    /// The registry row is still `launching`: a launch under way, or one that died.
    case launching
    /// The engine that holds the session's containers did not answer; its state is unknown.
    case engineUnreachable

    /// The words `ccorc list` shows.
    public var words: String {
        switch self {
        case .partlyRunning: return "partly running"
        case .engineUnreachable: return "engine unreachable"
        default: return rawValue
        }
    }

    /// Decides a session's condition from its registry status, its agents' container states
    /// (`running`, `stopped`, `missing`, or the engine's others, as `AgentStatus.state` says them)
    /// and whether its tmux session exists. Checked in that order: a launching row, then a missing
    /// container, then whether everything or nothing runs.
    ///
    /// "Stopped on purpose" is told from the state alone, without a record of who stopped what:
    /// `ccorc stop` closes the tmux session and stops every container, while a crash, a
    /// `ccdk stop` of one agent or a closed tmux session leaves the two sides disagreeing. A
    /// paused or restarting container is neither running nor stopped, so it makes the session
    /// partly running.
    public static func decide(
        registryStatus: SessionRecord.Status, agentStates: [String], tmuxPresent: Bool
    ) -> SessionCondition {
        if registryStatus == .launching { return .launching }
        if agentStates.contains("missing") { return .broken }
        if tmuxPresent && agentStates.allSatisfy({ $0 == "running" }) { return .running }
        if !tmuxPresent && agentStates.allSatisfy({ $0 == "stopped" }) { return .stopped }
        return .partlyRunning
    }
}

extension SessionStatus {
    /// The session's condition (see `SessionCondition.decide`).
    public var condition: SessionCondition {
        if engineProblem != nil { return .engineUnreachable }
        return SessionCondition.decide(
            registryStatus: record.status, agentStates: agents.map(\.state), tmuxPresent: tmux != nil)
    }
}
