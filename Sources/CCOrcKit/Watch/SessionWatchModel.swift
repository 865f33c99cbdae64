// What a watcher knows of every session, kept up to date from events: pure state and the rules
// that apply each event to it. Gathering (the engine's lists and events, tmux, the registry) is
// `SessionManager+Watch.swift`.

/// Which sessions a watcher reports.
public struct WatchFilter: Sendable, Equatable {
    /// These sessions only; nil for every session.
    public var names: Set<SessionName>?
    /// Sessions whose name matches; nil for no pattern.
    public var pattern: GlobPattern?

    /// Every session, or the named ones, or those matching `pattern`.
    public init(names: [SessionName]? = nil, pattern: GlobPattern? = nil) {
        self.names = names.map(Set.init)
        self.pattern = pattern
    }

    /// Whether the session named `name` is reported.
    public func selects(_ name: SessionName) -> Bool {
        if let names, !names.contains(name) { return false }
        if let pattern, !pattern.matches(name.rawValue) { return false }
        return true
    }
}

/// One session as a watcher sees it: its live state and the health verdict that state gives.
///
/// The verdict is judged by the same rules as `ccorc health` (`HealthAssessment`) on what the
/// events tell: container states and exit codes, state volumes, tmux windows and panes. What only
/// an inspect or the cgroup files tell (agent processes, the state directory, memory near its
/// limit, OOM kills) is `ccorc health NAME`'s.
public struct WatchedSession: Sendable {
    /// The registry row, its containers and its tmux session.
    public var status: SessionStatus
    /// The health judged from `status`, volumes and panes.
    public var health: SessionHealth

    /// The SESSION shape of `ccorc list --json` with `"verdict"` and `"issues"` added.
    public var jsonValue: JSONValue {
        var object = status.jsonValue.object ?? [:]
        object["verdict"] = .string(health.verdict.rawValue)
        object["issues"] = .array(health.issues.map(\.jsonValue))
        return .object(object)
    }
}

/// The facts a watcher holds, and how each event changes them.
struct SessionWatchModel: Sendable {
    /// The registry's rows.
    var records: [SessionRecord] = []
    /// The containers the engine has that a row can own, by ID.
    var containers: [String: ContainerSummary] = [:]
    /// The names of the volumes that exist (every volume created since the list, labelled or not:
    /// volume events carry no labels).
    var volumes: Set<String> = []
    /// The tmux server's sessions.
    var tmuxSessions: [TmuxSession] = []
    /// The panes of each tmux session, by session name.
    var panes: [String: [TmuxPane]] = [:]
    /// The command lines of pane processes, by pid, read once per pid.
    var paneCommandLines: [Int32: [String]] = [:]

    /// The container event actions the model follows.
    static let containerActions = ["create", "start", "die", "oom", "destroy", "pause", "unpause", "rename"]
    /// The volume event actions the model follows.
    static let volumeActions = ["create", "destroy"]

    /// The registered names of legacy agents' containers, which carry no ccorc label.
    var legacyContainerNames: Set<String> {
        Set(records.filter(\.isLegacy).flatMap { $0.agents.map(\.containerName) })
    }

    /// Applies one engine event and returns the session it concerns: its name when the container
    /// carries a session label or a row owns the volume, "" for a legacy row's container (whose
    /// session the event does not name), nil when nothing a session shows changed.
    mutating func apply(_ event: EngineEvent) -> String? {
        switch event.type {
        case "volume":
            let changed: Bool
            switch event.action {
            case "create": changed = volumes.insert(event.actorID).inserted
            case "destroy": changed = volumes.remove(event.actorID) != nil
            default: changed = false
            }
            // Volume events carry no labels: whose it is, the rows tell.
            guard changed else { return nil }
            return records.first { $0.agents.contains { $0.stateVolume == event.actorID } }?.name.rawValue
        case "container":
            return applyContainer(event)
        default:
            return nil
        }
    }

    private mutating func applyContainer(_ event: EngineEvent) -> String? {
        let id = event.actorID
        var attributes = event.attributes
        let name = attributes.removeValue(forKey: "name")
        let image = attributes.removeValue(forKey: "image")
        let exitCode = attributes.removeValue(forKey: "exitCode")
        attributes.removeValue(forKey: "oldName")
        let session = attributes[OwnershipLabels.session] ?? containers[id]?.labels[OwnershipLabels.session]
        let containerName = name ?? containers[id]?.name
        guard session != nil || containerName.map(legacyContainerNames.contains) == true else { return nil }
        let owner = session ?? ""
        if event.action == "destroy" {
            return containers.removeValue(forKey: id) == nil ? nil : owner
        }
        let state: (ContainerState, String)?
        switch event.action {
        // A create of a container already known is one the list showed: its state is newer.
        case "create": state = containers[id] == nil ? (.created, "Created") : nil
        case "start", "unpause": state = (.running, "Up")
        case "die": state = (.exited, "Exited (\(exitCode ?? "0"))")
        case "pause": state = (.paused, "Up (Paused)")
        case "rename", "oom": state = nil
        default: return nil
        }
        var summary = containers[id] ?? Self.summary(id: id, name: containerName ?? "", image: image ?? "")
        if !attributes.isEmpty { summary.labels = attributes }
        if let containerName { summary.name = containerName }
        if let (newState, statusText) = state {
            summary.state = newState
            summary.status = statusText
        }
        containers[id] = summary
        return owner
    }

    /// The names of the rows added, removed or changed between two readings of the registry.
    static func changedRows(from old: [SessionRecord], to new: [SessionRecord]) -> Set<String> {
        let before = Dictionary(old.map { ($0.name.rawValue, $0) }, uniquingKeysWith: { $1 })
        let after = Dictionary(new.map { ($0.name.rawValue, $0) }, uniquingKeysWith: { $1 })
        return Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }
    }

    /// Takes a new reading of tmux and returns the registered sessions it changes: those whose tmux
    /// session appeared, went, or changed its windows, clients or panes (or what the panes run).
    mutating func applyTmux(
        sessions: [TmuxSession], panes: [String: [TmuxPane]], commandLines: [Int32: [String]]
    ) -> Set<String> {
        let old = TmuxFacts(sessions: tmuxSessions, panes: self.panes, commandLines: paneCommandLines)
        let new = TmuxFacts(sessions: sessions, panes: panes, commandLines: commandLines)
        let changed = records.filter { old.of($0.tmuxSession) != new.of($0.tmuxSession) }
        tmuxSessions = sessions
        self.panes = panes
        paneCommandLines = commandLines
        return Set(changed.map(\.name.rawValue))
    }

    /// One reading of tmux, by session name, as far as a session's summary and health see it.
    private struct TmuxFacts {
        /// What a session's summary and verdict read of its tmux session.
        struct Session: Equatable {
            var id: String
            var windows: Int
            var attached: Int
            var panes: [TmuxPane]
            var commandLines: [[String]?]
        }

        let sessions: [String: TmuxSession]
        let panes: [String: [TmuxPane]]
        let commandLines: [Int32: [String]]

        init(sessions: [TmuxSession], panes: [String: [TmuxPane]], commandLines: [Int32: [String]]) {
            self.sessions = Dictionary(sessions.map { ($0.name, $0) }, uniquingKeysWith: { $1 })
            self.panes = panes
            self.commandLines = commandLines
        }

        /// The facts of the session named `name`; nil when it is not there.
        func of(_ name: String) -> Session? {
            guard let session = sessions[name] else { return nil }
            let panes = self.panes[name] ?? []
            return Session(
                id: session.id, windows: session.windows, attached: session.attached, panes: panes,
                commandLines: panes.map { commandLines[$0.pid] })
        }
    }

    /// A container known only from an event: what the list would say of it, as far as the event
    /// tells.
    private static func summary(id: String, name: String, image: String) -> ContainerSummary {
        // Through the list entry's parser, so that the two ways of learning of a container agree.
        let entry: JSONValue = ["Id": .string(id), "Names": .array([.string("/" + name)]), "Image": .string(image)]
        return (try? ContainerSummary(json: entry))!
    }

    /// The sessions `filter` selects, judged, by name; `only`, when given, limits the work to
    /// those names (the rest are left out of the result).
    func sessions(filter: WatchFilter, shellCommand: String, only: Set<String>? = nil) -> [String: WatchedSession] {
        var records = self.records.filter { filter.selects($0.name) }
        if let only { records = records.filter { only.contains($0.name.rawValue) } }
        let statuses = SessionReconciliation.statuses(
            records, containers: Array(containers.values), tmuxSessions: tmuxSessions)
        var result: [String: WatchedSession] = [:]
        for status in statuses {
            let panes = status.tmux == nil ? [] : self.panes[status.record.tmuxSession] ?? []
            let health = HealthAssessment.assess(
                HealthFacts(
                    status: status, volumes: volumes, panes: panes,
                    launchUnderWay: status.record.launchIsUnderWay(),
                    paneCommandLines: status.record.isLegacy ? [:] : paneCommandLines, shellCommand: shellCommand))
            result[status.record.name.rawValue] = WatchedSession(status: status, health: health)
        }
        return result
    }
}
