extension SessionManager {
    /// Every registered session with its live state: one registry read, one engine list call and
    /// one tmux query, whatever the number of sessions. Each agent's `container` is brief (see
    /// `EngineClient.listContainers(brief:)`) and carries only the `ccorc.session` and `ccorc.role`
    /// labels; `status(of:)` reads everything.
    public func list() async throws -> [SessionStatus] {
        try await listing(includeOrphans: false).sessions
    }

    /// Containers labelled by ccorc that no registered session claims.
    public func orphans() async throws -> [ContainerSummary] {
        try await listing(includeOrphans: true).orphans ?? []
    }

    /// One session's live state.
    public func status(of name: SessionName) async throws -> SessionStatus {
        guard let record = try registry.session(named: name) else {
            throw SessionError.sessionNotFound(name)
        }
        let status = try await status(of: [record]).first!
        try await requireEngine(of: status)
        return status
    }

    /// The live state of `records`: one list call per engine they live on, concurrently, and
    /// one tmux query for all of them. A session whose engine does not answer carries the reason
    /// (`SessionStatus.engineProblem`).
    public func status(of records: [SessionRecord]) async throws -> [SessionStatus] {
        guard !records.isEmpty else { return [] }
        let records = placedOnEngines(records)
        let names = Set(records.compactMap(\.engine)).sorted()
        async let tmuxList = tmux.listSessions()
        let held: EngineHoldings
        if records.count == 1 {
            // One session: only its own containers, by its label.
            held = await holdings(
                of: names, records: records,
                filters: { own in
                    SessionReconciliation.containerFilters(for: own, narrowedToOne: true)
                })
        } else {
            held = await holdings(of: names, records: records)
        }
        return SessionReconciliation.statuses(
            records, containers: held.containers, tmuxSessions: try await tmuxList, unreachable: held.unreachable)
    }

    /// One session's live state and its tmux panes (`ccorc info`).
    public func details(of name: SessionName) async throws -> SessionDetails {
        let status = try await status(of: name)
        let panes = status.tmux == nil ? [] : try await tmux.listPanes(session: status.record.tmuxSession)
        return SessionDetails(status: status, panes: panes)
    }

    /// Every registered session and, when `includeOrphans` is set, the orphaned containers
    /// (`ccorc list [--all]`): one list call per engine (the current one and every one a
    /// session lives on, all at once), one tmux query and one registry read. The current
    /// engine's list call is the slow part of the common case, so it is sent first and the
    /// registry and tmux are read while it runs. Unless orphans (shown whole) are asked for,
    /// only what reconciling and the output need is read from the replies: each container's ID,
    /// name, state, status, and session and role labels. An engine that does not answer is in
    /// `SessionListing.unreachable`, and its sessions carry the reason.
    public func listing(includeOrphans: Bool) async throws -> SessionListing {
        let labels: Set<String>? = includeOrphans ? nil : [OwnershipLabels.session, OwnershipLabels.role]
        let current = engines.currentName
        // Negotiated first, so that the list call goes out at once rather than after the registry
        // read and the tmux start have given a thread back.
        _ = try? await engine.apiVersion()
        async let early = holdings(of: [current], records: [], labels: labels, brief: !includeOrphans)
        async let tmuxList = tmux.listSessions()
        // The other engines' names first (one cheap query), so that their list calls go out
        // before the rows are read too.
        let named = Set(try registry.engineNames().map { $0 ?? current })
        let others = named.subtracting([current]).sorted()
        async let elsewhere = holdings(of: others, records: [], labels: labels, brief: !includeOrphans)
        let rows = try registry.rows()
        let records = placedOnEngines(rows.sessions)
        var held = await early
        held.merge(await elsewhere)
        // A session imported from the legacy registry: its containers carry no label, so its
        // engine is listed whole; and an engine a row named between the two reads is listed now.
        var again: [String] = []
        for name in engineNames(of: records) {
            let own = records.filter { $0.engine == name }
            if !named.union([current]).contains(name)
                || SessionReconciliation.containerFilters(for: own) != SessionReconciliation.sessionLabelFilter
            {
                again.append(name)
            }
        }
        if !again.isEmpty {
            held.containers.removeAll { again.contains($0.engine ?? "") }
            held.unreachable = held.unreachable.filter { !again.contains($0.key) }
            held.failures = held.failures.filter { !again.contains($0.key) }
            held.answered.subtract(again)
            held.merge(await holdings(of: again, records: records, labels: labels, brief: !includeOrphans))
        }
        try held.throwIfNoneAnswered(preferring: current)
        let sessions = SessionReconciliation.statuses(
            records, containers: held.containers, tmuxSessions: try await tmuxList, unreachable: held.unreachable)
        guard includeOrphans else {
            return SessionListing(
                sessions: sessions, orphans: nil, damaged: rows.damaged, unreachable: held.unreachable)
        }
        let orphans = SessionReconciliation.orphanContainers(held.containers, records: records)
        return SessionListing(
            sessions: sessions, orphans: orphans, damaged: rows.damaged, unreachable: held.unreachable)
    }
}
