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

    // MARK: - Shared by several operations

    /// Runs one step of an operation, naming it in the error; `point`, when given, is where an
    /// injected fault makes the step fail (see `FaultInjection`). A stopped `stop` ends the
    /// operation before the step, or after it once it has finished.
    func step(
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

    func step(_ what: String, at point: FaultPoint? = nil, stop: StopControl? = nil, _ body: () throws -> Void) throws {
        try Self.checkStopped(stop, before: what)
        do {
            if let point { try faults.check(point) }
            try body()
        } catch {
            throw SessionError(.stepFailed, "\(what) failed: \(error)")
        }
        try Self.checkStopped(stop, before: nil)
    }

    static func checkStopped(_ stop: StopControl?, before step: String?) throws {
        guard stop?.isStopped == true else { return }
        throw SessionError(.interrupted, step.map { "interrupted before \($0)" } ?? "interrupted")
    }

    /// Runs `body` for every agent concurrently and rethrows the first failure.
    func fanOut(_ agents: [AgentRecord], _ body: @escaping @Sendable (AgentRecord) async throws -> Void) async throws {
        let results = await forEachConcurrently(agents, width: 64, body)
        if let failure = results.first(where: { $0.error != nil }) {
            throw SessionError(.stepFailed, "\(failure.item.containerName): \(failure.error!)")
        }
    }

    /// The command line of an agent's window.
    func windowCommand(_ record: SessionRecord, _ agent: AgentRecord) -> [String] {
        [shellProgram, "shell", "-i", agent.containerName, "--", "sh", "-c", record.agentCommand]
    }

    /// Opens the tmux session with one window per agent.
    /// - Parameters:
    ///   - windowFault: where an injected fault fails each window after the first.
    ///   - opened: called once the session exists, before its other windows are added, so that a
    ///     caller undoing a failure knows to kill it.
    func openTmux(_ record: SessionRecord, windowFault: FaultPoint? = nil, opened: () -> Void = {}) async throws {
        let agents = record.agents.sorted { $0.position < $1.position }
        guard let first = agents.first else { return }
        _ = try await tmux.newSession(TmuxNewSessionOptions(
            name: record.tmuxSession, windowName: SessionWindows.windowName(first), command: windowCommand(record, first)))
        opened()
        for agent in agents.dropFirst() {
            _ = try await openWindow(record, agent, at: .firstFreeIndex, fault: windowFault)
        }
    }

    /// Opens one agent's window in the session's tmux session.
    func openWindow(_ record: SessionRecord, _ agent: AgentRecord, at position: TmuxWindowPosition, fault: FaultPoint?) async throws -> TmuxWindow {
        let window = SessionWindows.windowName(agent)
        do {
            if let fault { try faults.check(fault) }
            return try await tmux.newWindow(
                session: record.tmuxSession, TmuxNewWindowOptions(name: window, command: windowCommand(record, agent), position: position))
        } catch {
            throw SessionError(.stepFailed, "opening window \(window): \(error)")
        }
    }
}
