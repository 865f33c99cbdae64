// How registry rows, the engine's containers and tmux's sessions reconcile into each session's
// live state. Pure: the callers list the three stores and hand the lists in.

/// Pairs registry rows with the containers and tmux sessions that are theirs.
enum SessionReconciliation {
    /// The engine filters of one container list that holds every container `records` can own:
    /// those labelled with a session (only with this one's name when `narrowedToOne` and there is
    /// one record), or every container when a session imported from the legacy registry is among
    /// them, since ccorc never labelled its containers.
    static func containerFilters(for records: [SessionRecord], narrowedToOne: Bool = false) -> [String: [String]] {
        if records.contains(where: \.isLegacy) { return [:] }
        if narrowedToOne, records.count == 1 {
            return ["label": ["\(OwnershipLabels.session)=\(records[0].name)"]]
        }
        return sessionLabelFilter
    }

    /// The filters of a list of every container (or volume) labelled with a session.
    static let sessionLabelFilter = ["label": [OwnershipLabels.session]]

    /// Pairs each record's agents with their containers and its tmux session. A container is an
    /// agent's when it has the agent's name and is the session's: labelled with its name, or the
    /// very container the registry recorded. The session's condition follows from the result
    /// (`SessionStatus.condition`).
    ///
    /// Where several engines were listed, containers carry their engine's name and a record is
    /// paired only with containers of its own engine (`SessionRecord.engine`, which the caller
    /// fills in); a record of an engine in `unreachable` gets that engine's reason and no
    /// containers.
    static func statuses(
        _ records: [SessionRecord], containers: [ContainerSummary], tmuxSessions: [TmuxSession],
        unreachable: [String: String] = [:]
    ) -> [SessionStatus] {
        var byName: [String: [ContainerSummary]] = [:]
        for container in containers { byName[container.name, default: []].append(container) }
        var tmuxByName: [String: TmuxSession] = [:]
        for session in tmuxSessions { tmuxByName[session.name] = session }
        return records.map { record in
            let problem = record.engine.flatMap { unreachable[$0] }
            return SessionStatus(
                record: record,
                agents: record.agents.sorted { $0.position < $1.position }.map { agent in
                    let container =
                        problem != nil
                        ? nil
                        : byName[agent.containerName]?.first {
                            onSameEngine(record, $0) && owns(record, $0, agentID: agent.containerID)
                        }
                    return AgentStatus(record: agent, container: container)
                },
                tmux: tmuxByName[record.tmuxSession],
                engineProblem: problem.map { "engine \(record.engine!) unreachable: \($0)" })
        }
    }

    /// Whether `container` was listed from the engine `record` lives on; true when either side
    /// does not say (one engine was listed).
    static func onSameEngine(_ record: SessionRecord, _ container: ContainerSummary) -> Bool {
        container.engine == nil || record.engine == nil || container.engine == record.engine
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

    /// The containers among `containers` that ccorc labelled and no session of `records` claims.
    /// Where containers come from several engines, only the sessions on a container's own
    /// engine claim it.
    static func orphanContainers(_ containers: [ContainerSummary], records: [SessionRecord]) -> [ContainerSummary] {
        let everywhere = SessionClaims(records, includingVolumes: false)
        var byEngine: [String: SessionClaims] = [:]
        for (engine, own) in Dictionary(grouping: records.filter { $0.engine != nil }, by: { $0.engine! }) {
            byEngine[engine] = SessionClaims(own, includingVolumes: false)
        }
        return containers.filter { container in
            let claims =
                container.engine.map { byEngine[$0] ?? SessionClaims([], includingVolumes: false) } ?? everywhere
            return claims.isOrphan(container.labels, container: container.name)
        }
    }
}

/// What the registered sessions claim: their names, and their agents' container and volume names.
/// A labelled container or volume that none of them claims is an orphan.
struct SessionClaims: Sendable {
    /// The registered sessions' names, damaged rows' keys included.
    var sessions: Set<String>
    /// The agents' container names.
    var containers: Set<String>
    /// The agents' volume names (state and image volumes).
    var volumes: Set<String>

    /// The claims of `records` and of the damaged rows `damagedKeys` (whose containers and
    /// volumes are theirs by label); the volumes only when `includingVolumes`.
    init(_ records: [SessionRecord], damagedKeys: [String] = [], includingVolumes: Bool = true) {
        sessions = Set(records.map(\.name.rawValue)).union(damagedKeys)
        containers = Set(records.flatMap { $0.agents.map(\.containerName) })
        volumes =
            includingVolumes
            ? Set(records.flatMap { record in record.agents.flatMap { SessionManager.volumeNames(record, $0) } }) : []
    }

    /// Whether a container with `labels` called `name` is ccorc's and no session's.
    func isOrphan(_ labels: [String: String], container name: String) -> Bool {
        Self.isOrphan(labels, name: name, registered: sessions, claimed: containers)
    }

    /// Whether a volume with `labels` called `name` is ccorc's and no session's.
    func isOrphan(_ labels: [String: String], volume name: String) -> Bool {
        Self.isOrphan(labels, name: name, registered: sessions, claimed: volumes)
    }

    private static func isOrphan(
        _ labels: [String: String], name: String, registered: Set<String>, claimed: Set<String>
    ) -> Bool {
        guard let session = labels[OwnershipLabels.session] else { return false }
        return !registered.contains(session) && !claimed.contains(name)
    }
}
