extension SessionManager {
    /// Brings a session back: starts its stopped containers concurrently, recreates its tmux
    /// session if tmux lost it or else the agent windows it lacks (in the agents' order, around
    /// any windows the user added), and records the time. Run again after a resume that died
    /// halfway, it finishes what that one began.
    public func resume(_ name: SessionName) async throws -> SessionStatus {
        guard let record = try registry.session(named: name) else {
            throw SessionError.sessionNotFound(name)
        }
        if record.launchIsUnderWay() {
            throw SessionError(
                .stepFailed, "session \(name) is still being launched; resume it once the launch has finished")
        } else if record.status == .launching {
            throw SessionError(
                .stepFailed,
                "the launch of \(name) died before it finished: remove it with `ccorc cleanup --remove \(name)`, then launch it again"
            )
        }
        var status = try await self.status(of: [record]).first!
        try await requireEngine(of: status)
        let engine = try engines.client(for: record)
        let missing = status.missingAgents
        guard missing.isEmpty else {
            throw SessionError(
                .containersMissing,
                "session \(name) has missing containers: \(missing.map(\.record.containerName).joined(separator: ", ")) (repair with `ccorc cleanup --fix-broken`)"
            )
        }
        let stopped = status.agents.filter { $0.state != "running" }.map(\.record)
        try await step("resume \(name): starting the containers") {
            try await self.fanOut(stopped) { try await engine.startContainer($0.containerName) }
        }
        if status.tmux == nil {
            try await step("resume \(name): recreating the tmux session") {
                try await self.openTmux(record, windowFault: .resumeTmuxWindow)
            }
        } else if !record.isLegacy {
            // A legacy session's panes are not ccorc's to manage (as `health` treats them).
            try await step("resume \(name): recreating the missing tmux windows") {
                try await self.addMissingWindows(record, windowFault: .resumeTmuxWindow)
            }
        }
        try registry.markResumed(name)
        status = try await self.status(of: [try registry.session(named: name) ?? record]).first!
        return status
    }

    /// Adds the agent windows a present tmux session lacks (closed by hand, or never opened by a
    /// resume that died halfway), each beside its neighbours in the agents' order (see
    /// `SessionWindows`); windows of the user's own stay as they are.
    /// - Parameter windowFault: where an injected fault fails each window added.
    func addMissingWindows(_ record: SessionRecord, windowFault: FaultPoint? = nil) async throws {
        let windows = SessionWindows.match(record.agents, panes: try await tmux.listPanes(session: record.tmuxSession))
        var windowIDs: [AgentRole: String] = [:]
        for (agent, window) in windows.present { windowIDs[agent.role] = window.id }
        for (agent, placement) in windows.missing {
            let position: TmuxWindowPosition
            switch placement {
            case .after(let role): position = windowIDs[role].map { .after(windowID: $0) } ?? .firstFreeIndex
            case .before(let id): position = .before(windowID: id)
            case .anywhere: position = .firstFreeIndex
            }
            windowIDs[agent.role] = try await openWindow(record, agent, at: position, fault: windowFault).id
        }
    }
}
