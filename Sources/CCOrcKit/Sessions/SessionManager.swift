import FoundationEssentials
import Synchronization

/// Team sessions: launch, resume, stop, list and inspect, over the engine client, the tmux control
/// client and the registry. Every bulk step runs concurrently.
public final class SessionManager: Sendable {
    /// The engines sessions live on, by docker context name.
    public let engines: EnginePool
    /// The current engine: where sessions are launched unless told otherwise, and where rows that
    /// name no engine live.
    public let engine: EngineClient
    /// The tmux server the sessions live on.
    public let tmux: TmuxControlClient
    /// The registry of sessions.
    public let registry: SessionRegistry
    /// The command line each agent window starts with: `ccdk shell [--context ENGINE] -i CONTAINER
    /// -- sh -c AGENT_COMMAND`.
    public let shellProgram: String
    /// The steps at which operations fail on purpose: a testing hook, empty otherwise.
    public let faults: FaultInjection

    /// The version of the labels ccorc writes.
    public static let labelSchema = "1"

    /// A manager over the three stores, with `engine` as the current engine.
    /// - Parameters:
    ///   - shellProgram: the `ccdk` executable the agent windows run.
    ///   - faults: steps to fail on purpose, for tests (see `FaultInjection`); none by default.
    public convenience init(
        engine: EngineClient, tmux: TmuxControlClient, registry: SessionRegistry, shellProgram: String,
        faults: FaultInjection = FaultInjection()
    ) {
        self.init(
            engines: EnginePool(current: engine), current: engine, tmux: tmux, registry: registry,
            shellProgram: shellProgram, faults: faults)
    }

    /// A manager over several engines.
    /// - Throws: `EngineError` when the current engine's context cannot be used.
    public convenience init(
        engines: EnginePool, tmux: TmuxControlClient, registry: SessionRegistry, shellProgram: String,
        faults: FaultInjection = FaultInjection()
    ) throws {
        self.init(
            engines: engines, current: try engines.current, tmux: tmux, registry: registry,
            shellProgram: shellProgram, faults: faults)
    }

    private init(
        engines: EnginePool, current: EngineClient, tmux: TmuxControlClient, registry: SessionRegistry,
        shellProgram: String, faults: FaultInjection
    ) {
        self.engines = engines
        self.engine = current
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

    /// The command line of an agent's window. A session on a named engine other than `default`
    /// names its context, so the window reaches that engine whatever the tmux server's
    /// environment says.
    func windowCommand(_ record: SessionRecord, _ agent: AgentRecord) -> [String] {
        let context = record.engine.map { $0 == "default" ? [] : ["--context", $0] } ?? []
        return [shellProgram, "shell"] + context + ["-i", agent.containerName, "--", "sh", "-c", record.agentCommand]
    }

    /// What an agent's window needs in its environment to find its session's engine: for a
    /// named context, the docker CLI's configuration directory this process reads contexts from
    /// (the tmux server may have been started with another).
    func windowEnvironment(_ record: SessionRecord) -> [String: String] {
        guard let engine = record.engine, engine != "default" else { return [:] }
        return ["DOCKER_CONFIG": DockerContexts.configDirectory(engines.environment)]
    }

    /// Opens the tmux session with one window per agent.
    /// - Parameters:
    ///   - windowFault: where an injected fault fails each window after the first.
    ///   - opened: called once the session exists, before its other windows are added, so that a
    ///     caller undoing a failure knows to kill it.
    func openTmux(_ record: SessionRecord, windowFault: FaultPoint? = nil, opened: () -> Void = {}) async throws {
        let agents = record.agents.sorted { $0.position < $1.position }
        guard let first = agents.first else { return }
        _ = try await tmux.newSession(
            TmuxNewSessionOptions(
                name: record.tmuxSession, windowName: SessionWindows.windowName(first),
                command: windowCommand(record, first), environment: windowEnvironment(record)))
        opened()
        for agent in agents.dropFirst() {
            _ = try await openWindow(record, agent, at: .firstFreeIndex, fault: windowFault)
        }
    }

    /// Opens one agent's window in the session's tmux session.
    func openWindow(
        _ record: SessionRecord, _ agent: AgentRecord, at position: TmuxWindowPosition, fault: FaultPoint?
    ) async throws -> TmuxWindow {
        let window = SessionWindows.windowName(agent)
        do {
            if let fault { try faults.check(fault) }
            return try await tmux.newWindow(
                session: record.tmuxSession,
                TmuxNewWindowOptions(
                    name: window, command: windowCommand(record, agent), environment: windowEnvironment(record),
                    position: position))
        } catch {
            throw SessionError(.stepFailed, "opening window \(window): \(error)")
        }
    }
}
