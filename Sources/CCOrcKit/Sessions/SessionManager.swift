import FoundationEssentials
import Synchronization

/// How to launch a team session.
public struct LaunchOptions: Sendable {
    /// The agents, one container and one tmux window each.
    public var roles: [AgentRole]
    /// The image every agent runs.
    public var image = "ccorc-agent:latest"
    /// The command each agent's window runs inside its container (through `sh -c`).
    public var agentCommand = "claude"
    /// Memory limit per container in bytes; nil is unlimited.
    public var memoryBytes: Int64?
    /// CPU limit per container in billionths of a CPU; nil is unlimited.
    public var nanoCPUs: Int64?
    /// Extra mounts, `SOURCE:/path[:ro]`.
    public var mounts: [String] = []
    /// Extra environment, `KEY=VALUE`.
    public var environment: [String] = []
    /// The containers' working directory; nil uses the image's.
    public var workingDirectory: String?
    /// The containers' network mode; nil uses the engine's default.
    public var networkMode: String?
    /// Where each agent's state volume is mounted inside its container; nil takes `~/.claude`
    /// of the image's user (see `AgentImage.homeDirectory`).
    public var stateDirectory: String?
    /// Replace a tmux session of the same name that ccorc does not track.
    public var force = false

    /// The default team: leader, researcher, writer.
    public init() {
        roles = ["leader", "researcher", "writer"].map { try! AgentRole($0) }
    }
}

/// One agent's live state, reconciled from the registry and the engine.
public struct AgentStatus: Sendable {
    /// The registry's record.
    public var record: AgentRecord
    /// The container as the engine lists it; nil when it is missing.
    public var container: ContainerSummary?

    /// `running`, `stopped`, `missing`, or the engine's other states.
    public var state: String {
        guard let container else { return "missing" }
        switch container.state {
        case .running: return "running"
        case .exited, .created, .dead: return "stopped"
        default: return container.state.rawValue
        }
    }
}

/// One session's live state: registry, engine and tmux, reconciled.
public struct SessionStatus: Sendable {
    /// The registry's record.
    public var record: SessionRecord
    /// Each agent with its container.
    public var agents: [AgentStatus]
    /// The tmux session, when it exists.
    public var tmux: TmuxSession?

    /// How many agents' containers are running.
    public var runningCount: Int { agents.filter { $0.state == "running" }.count }
    /// Agents whose container the engine no longer has.
    public var missingAgents: [AgentStatus] { agents.filter { $0.container == nil } }
    /// Agents' containers that carry the session's label under an ID other than the recorded one,
    /// by container name: what a repair that died before recording them leaves.
    public var staleContainerIDs: [String: String] {
        var stale: [String: String] = [:]
        for agent in agents {
            if let container = agent.container, container.id != agent.record.containerID { stale[agent.record.containerName] = container.id }
        }
        return stale
    }
}

extension SessionRecord {
    /// Where agents' state volumes were mounted before launch derived the place from the image,
    /// and so where a record that does not say is taken to have them.
    public static let defaultStateDirectory = "/root/.claude"

    /// Where this session's agents have their state volume mounted.
    public var stateDirectory: String { config["stateDirectory"]?.string ?? Self.defaultStateDirectory }

    /// The image's `VOLUME` paths at which every agent has a named volume of its own, sorted
    /// (see `SessionManager.imageVolumes`); empty for most images.
    public var imageVolumeTargets: [String] { config["imageVolumes"]?.stringArray ?? [] }
}

/// Team sessions: launch, resume, stop, list and inspect, over the engine client, the tmux control
/// client and the registry. Every bulk step runs concurrently.
public final class SessionManager: Sendable {
    /// The engine the containers live on.
    public let engine: EngineClient
    /// The tmux server the sessions live on.
    public let tmux: TmuxControlClient
    /// The registry of sessions.
    public let registry: SessionRegistry
    /// The command line each agent window starts with: `ccdk shell -i CONTAINER -- sh -c AGENT_COMMAND`.
    public let shellProgram: String
    /// The steps at which operations fail on purpose: a testing hook, empty otherwise.
    public let faults: FaultInjection

    /// The version of the labels ccorc writes.
    public static let labelSchema = "1"

    /// A manager over the three stores.
    /// - Parameters:
    ///   - shellProgram: the `ccdk` executable the agent windows run.
    ///   - faults: steps to fail on purpose, for tests (see `FaultInjection`); none by default.
    public init(
        engine: EngineClient, tmux: TmuxControlClient, registry: SessionRegistry, shellProgram: String,
        faults: FaultInjection = FaultInjection()
    ) {
        self.engine = engine
        self.tmux = tmux
        self.registry = registry
        self.shellProgram = shellProgram
        self.faults = faults
    }

    /// The container name of an agent.
    public static func containerName(_ session: SessionName, _ role: AgentRole) -> String { "\(session)-\(role)" }

    /// The state volume of an agent.
    public static func volumeName(_ session: SessionName, _ role: AgentRole) -> String { "\(session)-\(role)-state" }

    // MARK: - Launch

    /// Creates a session: claims the name, creates and starts one container per agent (each with
    /// its state volume), opens the tmux session with one window per agent, then commits the
    /// registry entry. On any failure everything made so far is removed again.
    ///
    /// - Parameter control: stopped (Ctrl-C), the launch stops at its next step, undoes what it
    ///   made and throws `SessionError(.interrupted)`.
    public func launch(_ name: SessionName, options: LaunchOptions, control: StopControl? = nil) async throws -> SessionRecord {
        try options.validate()
        let mounts = try options.mounts.map(MountSpec.init(parsing:))
        let image = try await agentImage(options.image, stateDirectory: options.stateDirectory, mounts: mounts)
        return try await launch(name, options: options, image: image, control: control)
    }

    /// `launch(_:options:control:)` with the image already looked up, as a bulk launch does once for all.
    func launch(_ name: SessionName, options: LaunchOptions, image: AgentImage, control: StopControl? = nil) async throws -> SessionRecord {
        let mounts = try options.mounts.map(MountSpec.init(parsing:))
        var record = Self.launchRecord(name, options: options, image: image, launchedBy: ProcessIdentity.current)
        let agents = record.agents
        if control?.isStopped == true { throw SessionError(.interrupted, "launch \(name): interrupted; nothing was made") }
        do {
            try registry.claim(record)
        } catch {
            // `claim` throws RegistryError only.
            if error.code == .alreadyExists {
                let existing = try? registry.session(named: name)
                if let existing, existing.status == .launching, !existing.launchIsUnderWay() {
                    throw SessionError(.alreadyExists, "session \(name) already exists: its launch died before it finished; remove it with `ccorc cleanup --remove \(name)`, then launch again")
                }
                throw SessionError(.alreadyExists, "session \(name) already exists")
            }
            throw error
        }

        // What exists so far, for the rollback: container IDs by name, the volumes this launch
        // created (a volume kept by `cleanup --keep-volumes` is reused, and stays), and whether
        // the tmux session was opened (a later window can still fail).
        let made = Mutex<(containers: [String: String], volumes: [String], tmux: Bool)>(([:], [], false))
        do {
            if !options.force, try await tmux.hasSession(name.rawValue) {
                throw SessionError(.tmuxConflict, "tmux session \(name) already exists: attach with `tmux attach -t \(name)`, or pass --force to replace it")
            }
            try step("preparing tmux", at: .launchPrepareTmux, stop: control) { try self.tmux.server.prepareSocketDirectory() }
            let claimed = record
            try await step("creating the volumes", at: .launchVolumes, stop: control) {
                try await self.fanOut(agents) { agent in
                    for volume in self.agentVolumes(claimed, agent) where try await self.createVolumeIfAbsent(volume.name, labels: volume.labels) {
                        made.withLock { $0.volumes.append(volume.name) }
                    }
                }
            }
            try await step("creating the containers", at: .launchContainers, stop: control) {
                try await self.fanOut(agents) { agent in
                    let id = try await self.engine.createContainer(self.containerSpec(claimed, agent, mounts: mounts, imageID: image.id))
                    made.withLock { $0.containers[agent.containerName] = id }
                }
            }
            try await step("starting the containers", at: .launchStart, stop: control) {
                try await self.fanOut(agents) { try await self.engine.startContainer($0.containerName) }
            }
            let ids = made.withLock { $0.containers }
            for index in record.agents.indices {
                record.agents[index].containerID = ids[record.agents[index].containerName]
            }
            let started = record
            try await step("creating the tmux session", at: .launchTmuxSession, stop: control) {
                if options.force, try await self.tmux.hasSession(name.rawValue) { try await self.tmux.killSession(name.rawValue) }
                try await self.openTmux(started, windowFault: .launchTmuxWindow) { made.withLock { $0.tmux = true } }
            }
            record.status = .ready
            record.config = Self.launchConfig(image, launchedBy: nil)
            let ready = record
            try step("committing the registry entry", at: .launchCommit) { try self.registry.commit(ready) }
            return record
        } catch {
            let (createdContainers, createdVolumes, createdTmux) = made.withLock { (Array($0.containers.values), $0.volumes, $0.tmux) }
            // tmux first: its windows run shells into the containers about to go.
            if createdTmux { try? await tmux.killSession(name.rawValue) }
            _ = await forEachConcurrently(createdContainers) { try await self.engine.removeContainer($0, force: true, volumes: true) }
            _ = await forEachConcurrently(createdVolumes) { try await self.engine.removeVolume($0, force: true) }
            _ = try? registry.release(name)
            if let error = error as? SessionError {
                throw SessionError(error.code, "launch \(name): \(error.message)\(error.code == .interrupted ? "; what it made was removed" : "")")
            }
            throw error
        }
    }

    /// The registry row a launch of `name` claims: one agent per role, each with its container,
    /// state volume and tmux window, status `launching`, its settings naming `launchedBy` (see
    /// `launchConfig`). Launch commits it as `ready` with `launchConfig(image, launchedBy: nil)`.
    public static func launchRecord(
        _ name: SessionName, options: LaunchOptions, image: AgentImage, launchedBy: ProcessIdentity?, now: Date = Date()
    ) -> SessionRecord {
        let agents = options.roles.enumerated().map { index, role in
            AgentRecord(
                role: role, containerName: SessionManager.containerName(name, role), containerID: nil,
                stateVolume: SessionManager.volumeName(name, role), model: nil, tmuxWindow: role.rawValue, position: index)
        }
        return SessionRecord(
            name: name, tmuxSession: name.rawValue, createdAt: now, updatedAt: now, lastResumedAt: nil,
            image: options.image, agentCommand: options.agentCommand, memoryBytes: options.memoryBytes,
            nanoCPUs: options.nanoCPUs, networkMode: options.networkMode, mounts: options.mounts,
            environment: options.environment, workingDirectory: options.workingDirectory,
            config: launchConfig(image, launchedBy: launchedBy), status: .launching, agents: agents)
    }

    /// Runs one step of an operation, naming it in the error; `point`, when given, is where an
    /// injected fault makes the step fail (see `FaultInjection`). A stopped `stop` ends the
    /// operation before the step, or after it once it has finished.
    private func step(
        _ what: String, at point: FaultPoint? = nil, stop: StopControl? = nil, _ body: () async throws -> Void
    ) async throws {
        try Self.checkStopped(stop, before: what)
        do {
            if let point { try faults.check(point) }
            try await body()
        } catch {
            throw SessionError(.stepFailed, "\(what) failed: \(error)")
        }
        try Self.checkStopped(stop, before: nil)
    }

    private func step(_ what: String, at point: FaultPoint? = nil, stop: StopControl? = nil, _ body: () throws -> Void) throws {
        try Self.checkStopped(stop, before: what)
        do {
            if let point { try faults.check(point) }
            try body()
        } catch {
            throw SessionError(.stepFailed, "\(what) failed: \(error)")
        }
        try Self.checkStopped(stop, before: nil)
    }

    private static func checkStopped(_ stop: StopControl?, before step: String?) throws {
        guard stop?.isStopped == true else { return }
        throw SessionError(.interrupted, step.map { "interrupted before \($0)" } ?? "interrupted")
    }

    /// What a launch records of its image in the row's settings: the state directory and the
    /// image `VOLUME` paths that got named volumes.
    /// While the launch runs, `launchedBy` names its process, so that another command can tell a
    /// launch under way from one that died (see `SessionRecord.launchIsUnderWay`).
    public static func launchConfig(_ image: AgentImage, launchedBy: ProcessIdentity? = nil) -> JSONValue {
        var config: [String: JSONValue] = ["stateDirectory": .string(image.stateDirectory)]
        if let launchedBy { config["launchedBy"] = launchedBy.jsonValue }
        if !image.volumeTargets.isEmpty { config["imageVolumes"] = JSONValue(strings: image.volumeTargets) }
        return .object(config)
    }

    /// Creates a volume unless one of that name exists; the engine's create would return an
    /// existing one as if it had made it.
    /// - Returns: whether this call created it.
    func createVolumeIfAbsent(_ name: String, labels: [String: String]) async throws -> Bool {
        do {
            _ = try await engine.inspectVolume(name)
            return false
        } catch let error as EngineError where error.code == .notFound {
            _ = try await engine.createVolume(name: name, labels: labels)
            return true
        }
    }

    /// Runs `body` for every agent concurrently and rethrows the first failure.
    private func fanOut(_ agents: [AgentRecord], _ body: @escaping @Sendable (AgentRecord) async throws -> Void) async throws {
        let results = await forEachConcurrently(agents, width: 64, body)
        if let failure = results.first(where: { $0.error != nil }) {
            throw SessionError(.stepFailed, "\(failure.item.containerName): \(failure.error!)")
        }
    }

    /// The container of one agent, as recorded: also what `cleanup --fix-broken` recreates.
    /// - Parameter imageID: the ID `record.image` resolves to (see `EngineClient.imageID`). A
    ///   container created from an ID is listed without the engine looking its image up again,
    ///   which is most of what a list call costs the engine (3,000 containers: 65 ms against
    ///   200 ms from a tag); the name stays in the registry and the `ccorc.image` label. Nil
    ///   creates it from `record.image` as given.
    public func containerSpec(_ record: SessionRecord, _ agent: AgentRecord, mounts: [MountSpec], imageID: String? = nil) -> ContainerSpec {
        let stateDirectory = record.stateDirectory
        var spec = ContainerSpec(image: imageID ?? record.image, name: agent.containerName)
        // A keep-alive that ends promptly on SIGTERM, so that stopping costs no grace period.
        spec.command = ["sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
        spec.environment = record.environment + ["CCORC_SESSION=\(record.name)", "CCORC_ROLE=\(agent.role)"]
        spec.labels = AgentLabels.labels(record, agent)
        spec.workingDirectory = record.workingDirectory
        spec.memory = record.memoryBytes
        spec.nanoCPUs = record.nanoCPUs
        spec.networkMode = record.networkMode
        spec.mounts = [MountSpec(kind: .volume, source: agent.stateVolume, target: stateDirectory)]
            + imageVolumes(record, agent).map { MountSpec(kind: .volume, source: $0.name, target: $0.target) } + mounts
        spec.tty = true
        spec.openStdin = true
        return spec
    }

    /// The command line of an agent's window.
    private func windowCommand(_ record: SessionRecord, _ agent: AgentRecord) -> [String] {
        [shellProgram, "shell", "-i", agent.containerName, "--", "sh", "-c", record.agentCommand]
    }

    /// Opens the tmux session with one window per agent.
    /// - Parameters:
    ///   - windowFault: where an injected fault fails each window after the first.
    ///   - opened: called once the session exists, before its other windows are added, so that a
    ///     caller undoing a failure knows to kill it.
    private func openTmux(_ record: SessionRecord, windowFault: FaultPoint? = nil, opened: () -> Void = {}) async throws {
        let agents = record.agents.sorted { $0.position < $1.position }
        guard let first = agents.first else { return }
        _ = try await tmux.newSession(TmuxNewSessionOptions(
            name: record.tmuxSession, windowName: SessionWindows.windowName(first), command: windowCommand(record, first)))
        opened()
        for agent in agents.dropFirst() {
            _ = try await openWindow(record, agent, at: .firstFreeIndex, fault: windowFault)
        }
    }

    /// Adds the agent windows a present tmux session lacks (closed by hand, or never opened by a
    /// resume that died halfway), each beside its neighbours in the agents' order (see
    /// `SessionWindows`); windows of the user's own stay as they are.
    /// - Parameter windowFault: where an injected fault fails each window added.
    private func addMissingWindows(_ record: SessionRecord, windowFault: FaultPoint? = nil) async throws {
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

    /// Opens one agent's window in the session's tmux session.
    private func openWindow(_ record: SessionRecord, _ agent: AgentRecord, at position: TmuxWindowPosition, fault: FaultPoint?) async throws -> TmuxWindow {
        let window = SessionWindows.windowName(agent)
        do {
            if let fault { try faults.check(fault) }
            return try await tmux.newWindow(
                session: record.tmuxSession, TmuxNewWindowOptions(name: window, command: windowCommand(record, agent), position: position))
        } catch {
            throw SessionError(.stepFailed, "opening window \(window): \(error)")
        }
    }

    // MARK: - Resume and stop

    /// Brings a session back: starts its stopped containers concurrently, recreates its tmux
    /// session if tmux lost it or else the agent windows it lacks (in the agents' order, around
    /// any windows the user added), and records the time. Run again after a resume that died
    /// halfway, it finishes what that one began.
    public func resume(_ name: SessionName) async throws -> SessionStatus {
        guard let record = try registry.session(named: name) else {
            throw SessionError.sessionNotFound(name)
        }
        if record.launchIsUnderWay() {
            throw SessionError(.stepFailed, "session \(name) is still being launched; resume it once the launch has finished")
        } else if record.status == .launching {
            throw SessionError(.stepFailed, "the launch of \(name) died before it finished: remove it with `ccorc cleanup --remove \(name)`, then launch it again")
        }
        var status = try await self.status(of: [record]).first!
        let missing = status.missingAgents
        guard missing.isEmpty else {
            throw SessionError(.containersMissing, "session \(name) has missing containers: \(missing.map(\.record.containerName).joined(separator: ", ")) (repair with `ccorc cleanup --fix-broken`)")
        }
        let stopped = status.agents.filter { $0.state != "running" }.map(\.record)
        try await step("resume \(name): starting the containers") {
            try await self.fanOut(stopped) { try await self.engine.startContainer($0.containerName) }
        }
        if status.tmux == nil {
            try await step("resume \(name): recreating the tmux session") { try await self.openTmux(record, windowFault: .resumeTmuxWindow) }
        } else if !record.isLegacy {
            // A legacy session's panes are not ccorc's to manage (as `health` treats them).
            try await step("resume \(name): recreating the missing tmux windows") { try await self.addMissingWindows(record, windowFault: .resumeTmuxWindow) }
        }
        try registry.markResumed(name)
        status = try await self.status(of: [try registry.session(named: name) ?? record]).first!
        return status
    }

    /// Stops sessions: their tmux sessions, then all their containers at once (they persist), by
    /// ID. Only containers that are the session's (see `owns`) are stopped; a container that
    /// merely has an agent's name is left running and reported in that session's error.
    /// - Returns: each session's error, nil when it stopped.
    public func stop(_ names: [SessionName], timeout: Int? = nil, keepTmux: Bool = false) async throws -> [(name: SessionName, error: Error?)] {
        let wanted = Set(names)
        let rows = try registry.rows()
        return await stop(
            rows.sessions.filter { wanted.contains($0.name) }, requested: names, damaged: rows.damaged, timeout: timeout, keepTmux: keepTmux)
    }

    /// Stops every registered session (`ccorc stop --all`), with one registry read.
    /// - Returns: each session's error, nil when it stopped (empty when none is registered), and
    ///   the damaged registry rows that were skipped.
    public func stopAll(
        timeout: Int? = nil, keepTmux: Bool = false
    ) async throws -> (outcomes: [(name: SessionName, error: Error?)], damaged: [DamagedRegistryRow]) {
        let rows = try registry.rows()
        let outcomes = await stop(rows.sessions, requested: rows.sessions.map(\.name), damaged: [], timeout: timeout, keepTmux: keepTmux)
        return (outcomes, rows.damaged)
    }

    private func stop(
        _ found: [SessionRecord], requested names: [SessionName], damaged: [DamagedRegistryRow], timeout: Int?, keepTmux: Bool
    ) async -> [(name: SessionName, error: Error?)] {
        let records = Dictionary(found.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
        let damage = Dictionary(damaged.map { ($0.key, $0) }, uniquingKeysWith: { first, _ in first })
        var errors: [SessionName: Error] = [:]
        for name in names where records[name] == nil {
            errors[name] = damage[name.rawValue].map { RegistryError.damagedRow($0, path: registry.path) }
                ?? SessionError.sessionNotFound(name)
        }
        guard !records.isEmpty else { return names.map { ($0, errors[$0]) } }
        // One list call for all sessions says which containers are theirs (see `owns`): a
        // container that only has an agent's name is someone else's and keeps running. The call
        // also says whether the engine answers.
        let listed: [ContainerSummary]
        do {
            listed = try await engine.listContainers(all: true, labels: [OwnershipLabels.session], brief: true)
        } catch {
            return names.map { ($0, errors[$0] ?? error) }
        }
        var toStop: [(SessionName, String)] = []
        var namesListed: Set<String> = []
        for container in listed { namesListed.insert(container.name) }
        for status in SessionReconciliation.statuses(Array(records.values), containers: listed, tmuxSessions: []) {
            for agent in status.agents {
                if let container = agent.container {
                    toStop.append((status.record.name, container.id))
                } else if namesListed.contains(agent.record.containerName), errors[status.record.name] == nil {
                    errors[status.record.name] = SessionError(
                        .stepFailed,
                        "container \(agent.record.containerName) is not this session's (it lacks the session's label and is not the container the registry recorded); left running")
                }
            }
        }
        // The tmux sessions go first, while their windows still run (see `closeTmuxFirst`); the
        // list call above has returned early when the engine does not answer, so that the
        // containers can be stopped after them.
        if !keepTmux {
            // A session whose tmux session cannot be closed keeps its containers running, as
            // cleanup does: stopping them under open windows is what `closeTmuxFirst` avoids.
            let failures = await closeTmuxFirst(records.values.map(\.tmuxSession))
            for record in records.values {
                guard let message = failures[record.tmuxSession] else { continue }
                errors[record.name] = SessionError(
                    .stepFailed, "closing tmux session \(record.tmuxSession) failed: \(message); its containers were left running")
                toStop.removeAll { $0.0 == record.name }
            }
        }
        let stopped = await forEachConcurrently(toStop, width: 256) { _, id in
            do {
                try await self.engine.stopContainer(id, timeout: timeout)
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
                for case let (session, error?) in try await tmux.killSessions(batch) where error.code != .notFound && error.code != .serverNotRunning {
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

    // MARK: - Reading

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
        // Sessions imported from the legacy registry own containers ccorc never labelled.
        let hasLegacy = records.contains(where: \.isLegacy)
        async let containerList = hasLegacy
            ? engine.listContainers(all: true)
            : records.count == 1
            ? engine.listContainers(all: true, filters: ["label": ["\(OwnershipLabels.session)=\(records[0].name)"]])
            : engine.listContainers(all: true, filters: ["label": [OwnershipLabels.session]])
        async let tmuxList = tmux.listSessions()
        return SessionReconciliation.statuses(records, containers: try await containerList, tmuxSessions: try await tmuxList)
    }
}
