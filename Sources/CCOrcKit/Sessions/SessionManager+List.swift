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
        return try await status(of: [record]).first!
    }

    /// The live state of `records`: one engine list call and one tmux query for all of them.
    public func status(of records: [SessionRecord]) async throws -> [SessionStatus] {
        guard !records.isEmpty else { return [] }
        async let containerList = engine.listContainers(
            all: true, filters: SessionReconciliation.containerFilters(for: records, narrowedToOne: true))
        async let tmuxList = tmux.listSessions()
        return SessionReconciliation.statuses(
            records, containers: try await containerList, tmuxSessions: try await tmuxList)
    }

    /// One session's live state and its tmux panes (`ccorc info`).
    public func details(of name: SessionName) async throws -> SessionDetails {
        let status = try await status(of: name)
        let panes = status.tmux == nil ? [] : try await tmux.listPanes(session: status.record.tmuxSession)
        return SessionDetails(status: status, panes: panes)
    }

    /// Every registered session and, when `includeOrphans` is set, the orphaned containers
    /// (`ccorc list [--all]`): one engine list call, one tmux query and one registry read. The list
    /// call is the slow part, so it is sent first and the other two are read while it runs. Unless
    /// orphans (shown whole) are asked for, only what reconciling and the output need is read
    /// from the reply: each container's ID, name, state, status, and session and role labels.
    public func listing(includeOrphans: Bool) async throws -> SessionListing {
        let labels: Set<String>? = includeOrphans ? nil : [OwnershipLabels.session, OwnershipLabels.role]
        // Negotiated first, so that the list call goes out at once rather than after the registry
        // read and the tmux start have given a thread back.
        _ = try await engine.apiVersion()
        async let labelled = engine.listContainers(
            all: true, filters: SessionReconciliation.sessionLabelFilter, labels: labels, brief: !includeOrphans)
        async let tmuxList = tmux.listSessions()
        let rows = try registry.rows()
        let records = rows.sessions
        var containers = try await labelled
        let filters = SessionReconciliation.containerFilters(for: records)
        if filters != SessionReconciliation.sessionLabelFilter {
            containers = try await engine.listContainers(
                all: true, filters: filters, labels: labels, brief: !includeOrphans)
        }
        let sessions = SessionReconciliation.statuses(records, containers: containers, tmuxSessions: try await tmuxList)
        guard includeOrphans else { return SessionListing(sessions: sessions, orphans: nil, damaged: rows.damaged) }
        let orphans = SessionReconciliation.orphanContainers(containers, records: records)
        return SessionListing(sessions: sessions, orphans: orphans, damaged: rows.damaged)
    }
}
