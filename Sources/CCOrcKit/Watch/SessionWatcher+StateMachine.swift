// What the watch loop decides for each input, apart from the I/O: which sessions to judge again,
// which change lines follow, and what the loop must do next (list the engine again, follow its
// events, read tmux). `SessionManager+Watch.swift` gathers the inputs and carries out the actions.

extension SessionWatcher {
    /// The watch loop's state and its decisions: pure, over plain values.
    struct StateMachine {
        /// What the loop must do after an input.
        enum Action: Equatable {
            /// Stop following the engine's events and list it again (until it answers), for
            /// the events connection numbered `generation`.
            case relist(reason: String, generation: Int)
            /// Follow the engine's events from `since`, numbered `generation`.
            case follow(since: Int64, generation: Int)
            /// Read tmux again (its server may have started since).
            case readTmux
        }

        /// What an input led to: the lines to write, in order, and the actions to take.
        struct Outcome {
            var changes: [SessionChange] = []
            var actions: [Action] = []
        }

        /// What the loop knows of every session.
        private(set) var model: SessionWatchModel
        /// Each selected session as last reported, by name.
        private(set) var current: [String: WatchedSession]
        /// The number of the events connection whose events count; older ones' are stale.
        private(set) var generation = 0
        /// The container event filters the current events connection was opened with.
        private var followedFilters: [String: [String]]
        /// Why the engine's events connection was last lost, for the `.resync` that follows.
        private var lostReason: String?
        let filter: WatchFilter
        let shellCommand: String

        /// Starts from the snapshot's model; `current` is what the snapshot line reports.
        init(model: SessionWatchModel, filter: WatchFilter, shellCommand: String) {
            self.model = model
            self.filter = filter
            self.shellCommand = shellCommand
            current = model.sessions(filter: filter, shellCommand: shellCommand)
            followedFilters = SessionWatcher.containerEventFilters(model.records)
        }

        /// The snapshot line's sessions, by name.
        var snapshot: [WatchedSession] { current.keys.sorted().map { current[$0]! } }

        /// Applies one input, and the registry's rows when they changed since the last input
        /// (`rows`, nil when they did not); `tmuxConnected` tells whether the control client is
        /// attached to a server.
        mutating func handle(_ input: Input, rows: [SessionRecord]?, tmuxConnected: Bool) -> Outcome {
            var outcome = Outcome()
            // The sessions to judge again: nil for all of them.
            var affected: Set<String>? = []
            switch input {
            case .engineEvent(let event, let from):
                guard from == generation, let owner = model.apply(event) else { break }
                affected = owner.isEmpty ? nil : [owner]
            case .engineLost(let reason, let from):
                guard from == generation else { break }
                generation += 1
                lostReason = reason
                outcome.actions.append(.relist(reason: reason, generation: generation))
            case .engineListed(let lists, let from):
                guard from == generation else { break }
                model.containers = Dictionary(lists.containers.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
                model.volumes = lists.volumes
                followedFilters = SessionWatcher.containerEventFilters(model.records)
                outcome.actions.append(.follow(since: lists.since, generation: generation))
                outcome.changes.append(.resync(source: "engine", reason: lostReason ?? "reconnected"))
                affected = nil
            case .tmuxRead(let reading):
                affected = model.applyTmux(
                    sessions: reading.sessions, panes: reading.panes, commandLines: reading.commandLines)
                if let reason = reading.reconnectReason {
                    outcome.changes.append(.resync(source: "tmux", reason: reason))
                    affected = nil
                }
            case .tick:
                // A launch that dies leaves its row `launching` and sends no event: its verdict
                // follows from the launching process's liveness, judged again here.
                affected = Set(model.records.filter { $0.status == .launching }.map(\.name.rawValue))
                if !tmuxConnected { outcome.actions.append(.readTmux) }
            }
            if let rows {
                affected = affected.map { $0.union(SessionWatchModel.changedRows(from: model.records, to: rows)) }
                model.records = rows
                if SessionWatcher.containerEventFilters(rows) != followedFilters {
                    // A legacy row now needs every container's events (or no longer does).
                    generation += 1
                    lostReason = "the registered sessions need other events"
                    outcome.actions.append(.relist(reason: lostReason!, generation: generation))
                }
                // A launch by another process may have started the tmux server.
                if !tmuxConnected && !outcome.actions.contains(.readTmux) { outcome.actions.append(.readTmux) }
            }
            if affected?.isEmpty != true {
                let updated = model.sessions(filter: filter, shellCommand: shellCommand, only: affected)
                outcome.changes += WatchDiff.changes(from: current, to: updated, scope: affected)
                if let affected {
                    for name in affected { current[name] = updated[name] }
                } else {
                    current = updated
                }
            }
            return outcome
        }
    }
}
