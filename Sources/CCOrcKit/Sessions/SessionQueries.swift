
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
