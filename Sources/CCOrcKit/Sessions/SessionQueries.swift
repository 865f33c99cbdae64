
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
}

extension LaunchOptions {
    /// Checks the options before anything is claimed or created.
    /// - Throws: `EngineError` with `.invalidInput` for a malformed mount or environment entry, or
    ///   an empty team.
    public func validate() throws {
        guard !roles.isEmpty else { throw EngineError(.invalidInput, "a session needs at least one agent role") }
        if let duplicate = Dictionary(grouping: roles, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw EngineError(.invalidInput, "agent role \(duplicate) is named twice")
        }
        _ = try mounts.map(MountSpec.init(parsing:))
        for pair in environment where !pair.contains("=") || pair.hasPrefix("=") {
            throw EngineError(.invalidInput, "invalid environment entry \"\(pair)\": expected KEY=VALUE")
        }
    }
}

extension SessionManager {
    /// Launches several sessions concurrently (at most `width` at once) with the same options.
    /// - Returns: each name with its error, nil when it launched; in the order given.
    /// - Throws: what `LaunchOptions.validate()` throws, before anything is made.
    /// - Parameter control: stopped (Ctrl-C), every launch stops at its next step and undoes what
    ///   it made; those not begun yet are not begun.
    public func launch(
        _ names: [SessionName], options: LaunchOptions, width: Int = 8, control: StopControl? = nil
    ) async throws -> [(name: SessionName, error: Error?)] {
        try options.validate()
        let image: AgentImage
        do {
            image = try await agentImage(options.image, stateDirectory: options.stateDirectory, mounts: try options.mounts.map(MountSpec.init(parsing:)))
        } catch {
            return names.map { ($0, error) }
        }
        let results = await forEachConcurrently(names, width: width) { name in
            _ = try await self.launch(name, options: options, image: image, control: control)
        }
        return results.map { (name: $0.item, error: $0.error) }
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
            all: true, filters: ["label": [OwnershipLabels.session]], labels: labels, brief: !includeOrphans)
        async let tmuxList = tmux.listSessions()
        let rows = try registry.rows()
        let records = rows.sessions
        var containers = try await labelled
        if records.contains(where: \.isLegacy) {
            // Sessions imported from the legacy registry own containers ccorc never labelled.
            containers = try await engine.listContainers(all: true, labels: labels, brief: !includeOrphans)
        }
        let sessions = SessionReconciliation.statuses(records, containers: containers, tmuxSessions: try await tmuxList)
        guard includeOrphans else { return SessionListing(sessions: sessions, orphans: nil, damaged: rows.damaged) }
        let orphans = SessionReconciliation.orphanContainers(containers, records: records)
        return SessionListing(sessions: sessions, orphans: orphans, damaged: rows.damaged)
    }
}
