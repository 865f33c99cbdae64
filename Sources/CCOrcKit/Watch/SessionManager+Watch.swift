import FoundationEssentials
import Glibc
import Synchronization

extension SessionManager {
    /// Follows the sessions `filter` selects: a `.snapshot` first, then one change per session
    /// that appears, goes or changes, as it happens.
    ///
    /// The snapshot costs one registry read, two engine list calls (containers and volumes) and
    /// two tmux queries. After that, the watcher follows the engine's `/events` (container
    /// create/start/die/oom/destroy/pause/unpause/rename of ccorc's containers, volume
    /// create/destroy), tmux's notifications on the control connection (sessions, windows, clients)
    /// and a tmux subscription that reports pane exits and attached clients, and it reads the
    /// registry's change counter on each event and once a second. While nothing happens it sends
    /// no engine request and spawns no process.
    ///
    /// When the engine's events connection drops (an engine restart), the watcher lists again
    /// once the engine answers, follows the events from the moment before that list, and reports
    /// `.resync` followed by the changes the new list shows; likewise for tmux after a reconnect.
    ///
    /// It follows the sessions of the current engine (`engines.currentName`); sessions on other
    /// engines are left out (set `DOCKER_CONTEXT` to watch those).
    ///
    /// The stream ends when the caller stops iterating; it throws when the snapshot cannot be
    /// read (a named session that is not registered, an unreachable engine).
    public func watch(_ filter: WatchFilter = WatchFilter()) -> AsyncThrowingStream<SessionChange, Error> {
        let (stream, continuation) = AsyncThrowingStream<SessionChange, Error>.makeStream()
        let watcher = SessionWatcher(manager: self, filter: filter, output: continuation)
        let task = Task { await watcher.run() }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

/// The loop behind `SessionManager.watch`: sources feed one stream of inputs, and one task applies
/// them to the model in order and reports what changed.
final class SessionWatcher: Sendable {
    /// What the sources report to the loop.
    enum Input: Sendable {
        /// An engine event from the events connection of `generation`.
        case engineEvent(EngineEvent, generation: Int)
        /// The events connection of `generation` ended, for `reason`.
        case engineLost(reason: String, generation: Int)
        /// A fresh engine list after a lost connection, with the time its events follow from.
        case engineListed(EngineLists, generation: Int)
        /// tmux's sessions and panes, read after a notification; `reconnected` when the control
        /// connection was made again since the last reading.
        case tmuxRead(TmuxReading)
        /// Once a second: the registry's change counter is due.
        case tick
    }

    /// The engine's lists at one moment, and the time (engine clock, nanoseconds) events follow from.
    struct EngineLists: Sendable {
        var containers: [ContainerSummary]
        var volumes: Set<String>
        var since: Int64
    }

    /// What one tmux reading found.
    struct TmuxReading: Sendable {
        var sessions: [TmuxSession]
        var panes: [String: [TmuxPane]]
        var commandLines: [Int32: [String]]
        /// Why the connection was made again, when it was since the last reading.
        var reconnectReason: String?
    }

    let manager: SessionManager
    let filter: WatchFilter
    let output: AsyncThrowingStream<SessionChange, Error>.Continuation
    private let inputs: AsyncStream<Input>.Continuation
    private let inputStream: AsyncStream<Input>
    /// Wakes the tmux reader; one pending wake is enough, the reading is of the latest state.
    private let tmuxWake = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    /// The reason of a tmux disconnection not yet reported, set by the notification listener.
    private let tmuxLost = Mutex<String?>(nil)
    /// What the notifications since the last tmux reading say it must read again.
    private let tmuxPending = Mutex(TmuxPending())

    /// What the next tmux reading must read again: everything, or the sessions whose window count
    /// changed plus those that held these closed windows (a close and an add in one session
    /// between two readings leave its count as it was).
    struct TmuxPending: Sendable {
        var everything = false
        var closedWindows: Set<String> = []
    }
    /// The name of this watcher's tmux subscription, unique in the process.
    private var subscription: String { "ccorc-watch-\(getpid())-\(UInt(bitPattern: ObjectIdentifier(self).hashValue))" }

    init(manager: SessionManager, filter: WatchFilter, output: AsyncThrowingStream<SessionChange, Error>.Continuation) {
        self.manager = manager
        self.filter = filter
        self.output = output
        (inputStream, inputs) = AsyncStream<Input>.makeStream()
    }

    /// The container events ccorc follows: its own containers' (every container's while a legacy
    /// row, whose containers carry no ccorc label, is registered).
    static func containerEventFilters(_ records: [SessionRecord]) -> [String: [String]] {
        var filters = ["type": ["container"], "event": SessionWatchModel.containerActions]
        if let labels = SessionReconciliation.containerFilters(for: records)["label"] { filters["label"] = labels }
        return filters
    }

    /// Volume events carry no labels: every volume's create and destroy.
    static let volumeEventFilters = ["type": ["volume"], "event": SessionWatchModel.volumeActions]

    /// Takes the snapshot, then applies each input in order (`StateMachine`), writes the change
    /// lines it decides and carries out its actions, until cancelled.
    func run() async {
        // Made before the snapshot's tmux reading, so that no notification falls between the two.
        let notifications = manager.tmux.notifications
        var machine: StateMachine
        var token: [Int64]
        let lists: EngineLists
        let reading: TmuxReading
        do {
            var model = SessionWatchModel()
            let all = try manager.registry.rows().sessions
            for name in filter.names ?? [] where !all.contains(where: { $0.name == name }) {
                throw SessionError.sessionNotFound(name)
            }
            model.records = onCurrentEngine(all)
            token = try manager.registry.changeToken()
            lists = try await listEngine(model.records)
            model.containers = Dictionary(lists.containers.map { ($0.id, $0) }, uniquingKeysWith: { $1 })
            model.volumes = lists.volumes
            reading = try await readTmux(after: nil, pending: TmuxPending(everything: true))
            model.tmuxSessions = reading.sessions
            model.panes = reading.panes
            model.paneCommandLines = reading.commandLines
            machine = StateMachine(model: model, filter: filter, shellCommand: Path.lastComponent(manager.shellProgram))
        } catch {
            output.finish(throwing: error)
            return
        }
        output.yield(.snapshot(machine.snapshot))
        var followers = follow(machine.model.records, since: lists.since, generation: machine.generation)
        var subscribed = await subscribeIfConnected()
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.listenToTmux(notifications) }
            group.addTask { await self.readTmuxWhenWoken(after: reading) }
            group.addTask { await self.tick() }
            defer { group.cancelAll() }
            for await input in inputStream {
                if Task.isCancelled { break }
                // The registry: on every input (every event and every tick), by its change counter.
                var rows: [SessionRecord]?
                if let newToken = try? manager.registry.changeToken(), newToken != token,
                    let read = try? manager.registry.rows()
                {
                    token = newToken
                    rows = onCurrentEngine(read.sessions)
                }
                let connected = manager.tmux.attachedSessionName != nil
                let outcome = machine.handle(input, rows: rows, tmuxConnected: connected)
                for action in outcome.actions {
                    switch action {
                    case .relist(_, let generation):
                        followers.forEach { $0.cancel() }
                        followers = [relist(machine.model.records, generation: generation)]
                    case .follow(let since, let generation):
                        followers.forEach { $0.cancel() }
                        followers = follow(machine.model.records, since: since, generation: generation)
                    case .readTmux:
                        tmuxWake.continuation.yield()
                    }
                }
                if case .tmuxRead = input, !subscribed { subscribed = await subscribeIfConnected() }
                for change in outcome.changes { output.yield(change) }
            }
        }
        followers.forEach { $0.cancel() }
        if subscribed { try? await manager.tmux.unsubscribe(name: subscription) }
        output.finish()
    }

    // MARK: - The engine

    /// The containers a row can own and the labelled volumes, with the moment events follow from:
    /// the moment the lists are asked for, so that nothing between the list and the events is
    /// missed. An event the list already shows is applied again, to the same effect (a `create`
    /// of a container the list has leaves it as it is).
    /// The rows of sessions on the current engine, the one this watcher follows.
    private func onCurrentEngine(_ records: [SessionRecord]) -> [SessionRecord] {
        records.filter { manager.engines.name(of: $0) == manager.engines.currentName }
    }

    private func listEngine(_ records: [SessionRecord]) async throws -> EngineLists {
        let since = Self.now()
        async let containers = manager.engine.listContainers(
            all: true, filters: SessionReconciliation.containerFilters(for: records),
            labels: [OwnershipLabels.session, OwnershipLabels.role], brief: true)
        async let volumes = manager.engine.listVolumes(filters: SessionReconciliation.sessionLabelFilter)
        return EngineLists(containers: try await containers, volumes: Set(try await volumes.map(\.name)), since: since)
    }

    /// Follows container and volume events from `since`; each connection reports its end.
    private func follow(_ records: [SessionRecord], since: Int64, generation: Int) -> [Task<Void, Never>] {
        [Self.containerEventFilters(records), Self.volumeEventFilters].map { filters in
            Task {
                var reason = "the engine ended its events stream"
                do {
                    try await manager.engine.events(since: since, filters: filters) { event in
                        self.inputs.yield(.engineEvent(event, generation: generation))
                        return true
                    }
                } catch {
                    if Task.isCancelled { return }
                    reason = "events connection lost: \(error)"
                }
                if Task.isCancelled { return }
                inputs.yield(.engineLost(reason: reason, generation: generation))
            }
        }
    }

    /// Lists again until the engine answers, waiting a quarter second and then up to two seconds
    /// between tries.
    private func relist(_ records: [SessionRecord], generation: Int) -> Task<Void, Never> {
        Task {
            var pause = Duration.milliseconds(250)
            while !Task.isCancelled {
                if let lists = try? await listEngine(records) {
                    inputs.yield(.engineListed(lists, generation: generation))
                    return
                }
                try? await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(2))
            }
        }
    }

    /// The wall clock in nanoseconds since 1970, as the engine stamps its events.
    private static func now() -> Int64 {
        var time = timespec()
        clock_gettime(CLOCK_REALTIME, &time)
        return Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
    }

    // MARK: - tmux

    /// Subscribes, once connected, to what no notification reports at once: every session's
    /// attached count and its panes' dead flags (tmux checks them once a second and pushes the
    /// value when it changes). The client sends the subscription again after a reconnect.
    private func subscribeIfConnected() async -> Bool {
        guard manager.tmux.attachedSessionName != nil else { return false }
        do {
            try await manager.tmux.subscribe(
                name: subscription, format: "#{S:#{session_attached}#{W:#{P:#{pane_dead}}}}")
            return true
        } catch {
            return false
        }
    }

    /// Wakes the tmux reader on every notification that may change a session, a window, a pane
    /// or a client, noting what the reading must read again; notes a lost connection.
    private func listenToTmux(_ notifications: AsyncStream<TmuxNotification>) async {
        for await notification in notifications {
            switch notification {
            case .output, .extendedOutput, .pause, .continue, .message, .configError, .pasteBufferChanged,
                .pasteBufferDeleted, .layoutChange, .paneModeChanged, .sessionWindowChanged:
                continue
            case .subscriptionChanged(let change) where change.name != subscription:
                continue
            case .windowClose(let window), .unlinkedWindowClose(let window):
                tmuxPending.withLock { _ = $0.closedWindows.insert(window) }
            case .windowAdd, .unlinkedWindowAdd, .sessionsChanged, .clientSessionChanged, .clientDetached:
                break  // a session's window count, a session, or a client: the sessions list tells
            case .disconnected(let error):
                tmuxLost.withLock { $0 = "tmux connection lost: \(error)" }
                tmuxPending.withLock { $0.everything = true }
            default:
                // Renames, a pane's death (the subscription), a reconnect: read everything.
                tmuxPending.withLock { $0.everything = true }
            }
            tmuxWake.continuation.yield()
        }
    }

    /// Reads tmux each time it is woken, again only what the notifications since the last reading
    /// say changed; `first` is the snapshot's reading.
    private func readTmuxWhenWoken(after first: TmuxReading) async {
        var last = first
        for await _ in tmuxWake.stream {
            let pending = tmuxPending.withLock { pending in
                defer { pending = TmuxPending() }
                return pending
            }
            guard var reading = try? await readTmux(after: last, pending: pending) else {
                tmuxPending.withLock { $0.everything = true }
                continue
            }
            last = reading
            if manager.tmux.attachedSessionName != nil,
                let reason = tmuxLost.withLock({ value in
                    defer { value = nil }
                    return value
                })
            {
                reading.reconnectReason = reason
            }
            inputs.yield(.tmuxRead(reading))
        }
    }

    /// The sessions (with their terminal clients) in one round trip, then the panes of those that
    /// `pending` or a changed window count says changed (every pane, `list-panes -a`, when
    /// `pending.everything` or there is no earlier reading) in one more; the command lines of the
    /// panes read, from `/proc`. Panes of other sessions, and their command lines, are the earlier
    /// reading's: `pane_current_command` makes tmux look up each pane's foreground process, which
    /// over hundreds of panes costs more than everything else a reading does.
    private func readTmux(after previous: TmuxReading?, pending: TmuxPending) async throws -> TmuxReading {
        let sessions = try await manager.tmux.listSessions()
        var panes: [String: [TmuxPane]] = [:]
        var commandLines: [Int32: [String]] = [:]
        var fresh: [String: [TmuxPane]]
        if let previous, !pending.everything {
            let stale = Self.staleSessions(sessions, previous: previous, closedWindows: pending.closedWindows)
            for session in sessions where !stale.contains(session) {
                let known = previous.panes[session.name] ?? []
                panes[session.name] = known
                for pane in known { commandLines[pane.pid] = previous.commandLines[pane.pid] }
            }
            fresh = try await panesOf(stale)
        } else {
            let byID = sessions.isEmpty ? [:] : try await manager.tmux.listAllPanes()
            fresh = [:]
            for session in sessions { fresh[session.name] = byID[session.id] }
        }
        for (name, sessionPanes) in fresh {
            panes[name] = sessionPanes
            for pane in sessionPanes { commandLines[pane.pid] = HostProcesses.commandLine(pane.pid) }
        }
        return TmuxReading(sessions: sessions, panes: panes, commandLines: commandLines, reconnectReason: nil)
    }

    /// The sessions whose panes an earlier reading cannot tell: new ones (by id), those whose
    /// window count changed, and those that held a window closed since.
    static func staleSessions(
        _ sessions: [TmuxSession], previous: TmuxReading, closedWindows: Set<String>
    ) -> [TmuxSession] {
        let before = Dictionary(previous.sessions.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
        return sessions.filter { session in
            guard let old = before[session.name], let known = previous.panes[session.name] else { return true }
            return old.id != session.id || old.windows != session.windows
                || known.contains { closedWindows.contains($0.windowID) }
        }
    }

    /// The panes of `sessions`, in one pipelined round trip; a session gone since is left out.
    private func panesOf(_ sessions: [TmuxSession]) async throws -> [String: [TmuxPane]] {
        guard !sessions.isEmpty else { return [:] }
        let replies: [TmuxReply]
        do {
            replies = try await manager.tmux.run(
                sessions.map {
                    TmuxCommandLine(
                        "list-panes", "-s", "-t", TmuxTarget.session($0.name).rawValue, "-F", TmuxFormats.pane)
                })
        } catch let error as TmuxError where error.code == .serverNotRunning {
            return [:]
        }
        var panes: [String: [TmuxPane]] = [:]
        for (session, reply) in zip(sessions, replies) where reply.succeeded {
            panes[session.name] = try TmuxFormats.panes(reply.lines)
        }
        return panes
    }

    // MARK: - The registry

    /// Once a second, a tick.
    private func tick() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            inputs.yield(.tick)
        }
    }
}
