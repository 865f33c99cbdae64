// How registry rows, the engine's containers and tmux's sessions reconcile into each session's
// live state. Pure: the callers list the three stores and hand the lists in.

/// Pairs registry rows with the containers and tmux sessions that are theirs.
enum SessionReconciliation {
    /// Pairs each record's agents with their containers and its tmux session. A container is an
    /// agent's when it has the agent's name and is the session's: labelled with its name, or the
    /// very container the registry recorded. The session's condition follows from the result
    /// (`SessionStatus.condition`).
    static func statuses(_ records: [SessionRecord], containers: [ContainerSummary], tmuxSessions: [TmuxSession]) -> [SessionStatus] {
        var byName: [String: ContainerSummary] = [:]
        for container in containers { byName[container.name] = container }
        var tmuxByName: [String: TmuxSession] = [:]
        for session in tmuxSessions { tmuxByName[session.name] = session }
        return records.map { record in
            SessionStatus(
                record: record,
                agents: record.agents.sorted { $0.position < $1.position }.map { agent in
                    let container = byName[agent.containerName].flatMap {
                        owns(record, $0, agentID: agent.containerID) ? $0 : nil
                    }
                    return AgentStatus(record: agent, container: container)
                },
                tmux: tmuxByName[record.tmuxSession])
        }
    }

    /// Whether `container` belongs to the session `record`: it carries the session's label, it is
    /// the container the registry recorded, or the session came from the legacy registry and the
    /// container carries no ccorc label. A container that merely has a session-like name is
    /// someone else's.
    static func owns(_ record: SessionRecord, _ container: ContainerSummary, agentID: String? = nil) -> Bool {
        if container.labels[OwnershipLabels.session] == record.name.rawValue { return true }
        // Sessions imported from the legacy registry own containers ccorc never labelled.
        if record.isLegacy && container.labels[OwnershipLabels.session] == nil { return true }
        if let agentID { return container.id == agentID }
        return record.agents.contains { $0.containerID == container.id }
    }

    /// Whether a labelled container or volume belongs to no registered session: its session label
    /// names no registered session and no registered agent claims its name.
    static func isOrphan(_ labels: [String: String], name: String, registered: Set<String>, claimed: Set<String>) -> Bool {
        guard let session = labels[OwnershipLabels.session] else { return false }
        return !registered.contains(session) && !claimed.contains(name)
    }

    /// The containers among `containers` that ccorc labelled and no session of `records` claims.
    static func orphanContainers(_ containers: [ContainerSummary], records: [SessionRecord]) -> [ContainerSummary] {
        let registered = Set(records.map(\.name.rawValue))
        let claimed = Set(records.flatMap { $0.agents.map(\.containerName) })
        return containers.filter { isOrphan($0.labels, name: $0.name, registered: registered, claimed: claimed) }
    }
}
