extension SessionManager {
    /// Stops sessions: their tmux sessions, then all their containers at once (they persist), by
    /// ID. Only containers that are the session's (see `owns`) are stopped; a container that
    /// merely has an agent's name is left running and reported in that session's error.
    /// - Returns: each session's error, nil when it stopped.
    public func stop(
        _ names: [SessionName], timeout: Int? = nil, keepTmux: Bool = false
    ) async throws -> [(name: SessionName, error: Error?)] {
        let wanted = Set(names)
        let rows = try registry.rows()
        return await stop(
            rows.sessions.filter { wanted.contains($0.name) }, requested: names, damaged: rows.damaged,
            timeout: timeout, keepTmux: keepTmux)
    }

    /// Stops every registered session (`ccorc stop --all`), with one registry read.
    /// - Returns: each session's error, nil when it stopped (empty when none is registered), and
    ///   the damaged registry rows that were skipped.
    public func stopAll(
        timeout: Int? = nil, keepTmux: Bool = false
    ) async throws -> (outcomes: [(name: SessionName, error: Error?)], damaged: [DamagedRegistryRow]) {
        let rows = try registry.rows()
        let outcomes = await stop(
            rows.sessions, requested: rows.sessions.map(\.name), damaged: [], timeout: timeout, keepTmux: keepTmux)
        return (outcomes, rows.damaged)
    }

    private func stop(
        _ found: [SessionRecord], requested names: [SessionName], damaged: [DamagedRegistryRow], timeout: Int?,
        keepTmux: Bool
    ) async -> [(name: SessionName, error: Error?)] {
        let records = Dictionary(found.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let damage = Dictionary(damaged.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var errors: [SessionName: Error] = [:]
        for name in names where records[name] == nil {
            errors[name] =
                damage[name.rawValue].map { RegistryError.damagedRow($0, path: registry.path) }
                ?? SessionError.sessionNotFound(name)
        }
        guard !records.isEmpty else { return names.map { ($0, errors[$0]) } }
        // One list call per engine, all at once, says which containers are the sessions' (see
        // `owns`): a container that only has an agent's name is someone else's and keeps
        // running. The calls also say whether each engine answers; a session whose engine does
        // not is left as it is, tmux session included.
        var placed = Dictionary(uniqueKeysWithValues: placedOnEngines(Array(records.values)).map { ($0.name, $0) })
        let held = await holdings(
            of: Set(placed.values.compactMap(\.engine)).sorted(), records: Array(placed.values),
            labels: [OwnershipLabels.session], brief: true, filters: { _ in [:] })
        for (name, record) in placed {
            if let engine = record.engine, let failure = held.failures[engine] {
                let context = "engine \(engine) (nothing was changed there)"
                errors[name] =
                    (failure as? EngineError)?.within(context)
                    ?? EngineError(.unreachable, held.unreachable[engine] ?? "\(failure)").within(context)
                placed[name] = nil
            }
        }
        let listed = held.containers
        var toStop: [(SessionName, String, String?)] = []
        var namesListed: Set<String> = []
        for container in listed { namesListed.insert("\(container.engine ?? "")/\(container.name)") }
        for status in SessionReconciliation.statuses(Array(placed.values), containers: listed, tmuxSessions: []) {
            for agent in status.agents {
                if let container = agent.container {
                    toStop.append((status.record.name, container.id, status.record.engine))
                } else if namesListed.contains("\(status.record.engine ?? "")/\(agent.record.containerName)"),
                    errors[status.record.name] == nil
                {
                    errors[status.record.name] = SessionError(
                        .stepFailed,
                        "container \(agent.record.containerName) is not this session's (it lacks the session's label and is not the container the registry recorded); left running"
                    )
                }
            }
        }
        // The tmux sessions go first, while their windows still run (see `closeTmuxFirst`); the
        // list call above has returned early when the engine does not answer, so that the
        // containers can be stopped after them.
        if !keepTmux {
            // A session whose tmux session cannot be closed keeps its containers running, as
            // cleanup does: stopping them under open windows is what `closeTmuxFirst` avoids.
            let failures = await closeTmuxFirst(placed.values.map(\.tmuxSession))
            for record in placed.values {
                guard let message = failures[record.tmuxSession] else { continue }
                errors[record.name] = SessionError(
                    .stepFailed,
                    "closing tmux session \(record.tmuxSession) failed: \(message); its containers were left running")
                toStop.removeAll { $0.0 == record.name }
            }
        }
        let stopped = await forEachConcurrently(toStop, width: 256) { _, id, engineName in
            do {
                try await self.engines.client(named: engineName).stopContainer(id, timeout: timeout)
            } catch let error as EngineError where error.code == .notFound {
                return  // already gone: nothing to stop
            }
        }
        for (item, error) in stopped where error != nil { errors[item.0] = errors[item.0] ?? error }
        return names.map { ($0, errors[$0]) }
    }

    /// Closes tmux sessions whose containers are about to stop or go, in pipelined batches;
    /// returns the error of each that could not be closed (one already gone counts as closed).
    ///
    /// Sessions are closed before their containers, never after. A container that stops ends its
    /// agent's window, and when every window of a session ends at once, tmux 3.3a with a control
    /// client attached (ccorc's always is) can crash the whole server, and every session on it,
    /// on a window-change notification queued for the session that has just gone (seen as
    /// `segfault at 10` in `control_notify_session_window_changed`). A session killed while its
    /// windows still run goes in one step and queues no such notification.
    func closeTmuxFirst(_ tmuxSessions: [String]) async -> [String: String] {
        var failures: [String: String] = [:]
        var start = 0
        while start < tmuxSessions.count {
            let batch = Array(tmuxSessions[start..<min(start + 64, tmuxSessions.count)])
            start += batch.count
            do {
                // A session already gone, or a server that ended with its last session, is closed.
                for case (let session, let error?) in try await tmux.killSessions(batch)
                where error.code != .notFound && error.code != .serverNotRunning {
                    failures[session] = "\(error)"
                }
            } catch let error as TmuxError where error.code == .serverNotRunning {
                // The server is gone, and its sessions with it.
            } catch {
                for session in batch { failures[session] = "\(error)" }
            }
        }
        return failures
    }
}
