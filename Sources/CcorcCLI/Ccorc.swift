import ArgumentParser
import CCOrcKit
import CLISupport
import FoundationEssentials
import Glibc

@main
struct CcorcMain {
    static func main() async {
        await CommandLineRunner.main(Ccorc.self, programName: "ccorc")
    }
}

/// `ccorc`: team sessions.
struct Ccorc: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ccorc",
        abstract: "Run persistent multi-agent team sessions: one tmux session and one container per agent.",
        discussion: """
            Environment: CCORC_HOME (registry, default ~/.ccorc), CCORC_TMUX_SERVER (tmux -L name) or \
            CCORC_TMUX_SOCKET (tmux -S path), DOCKER_HOST or DOCKER_CONTEXT (the current engine), CCORC_ENGINES \
            (engines a launch chooses from), CCORC_IMAGE, CCORC_NETWORK, CCORC_AGENT_COMMAND.
            """,
        version: ccorcVersion,
        subcommands: [
            Launch.self, Resume.self, Attach.self, Stop.self, List.self, Info.self,
            Health.self, Watch.self, Top.self, Export.self, Import.self, Recover.self, Cleanup.self, Forget.self,
            Engines.self, Move.self,
        ])
}

/// The environment's choice of engine, tmux server and registry.
enum Environment {
    static var values: [String: String] { ProcessInfo.processInfo.environment }

    static func tmuxServer() -> TmuxServer { TmuxServer.fromEnvironment(values) }

    /// The `ccdk` beside this executable, which the agent windows run.
    static func ccdkPath() -> String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("ccdk").path
    }

    /// The session manager over the environment's engine, tmux server and registry. The engine's
    /// API version is negotiated while the registry opens (an integrity check that reads the whole
    /// file), so that the command's first engine request goes out at once. A failed negotiation is
    /// left for that first request to report. In a debug build, `CCORC_FAIL_AT`, `CCORC_FAIL_STEP`
    /// and `CCORC_STEP_TRACE` inject faults into all three, for tests (see `FaultInjection`).
    static func manager() async throws -> SessionManager {
        let faults = try FaultInjection(environment: values)
        let engines = try EnginePool(environment: values, faults: faults)
        let engine = try engines.current
        async let negotiated = try? engine.apiVersion()
        let registry = try registry(faults: faults)
        _ = await negotiated
        return try SessionManager(
            engines: engines, tmux: TmuxControlClient(server: tmuxServer(), faults: faults), registry: registry,
            shellProgram: ccdkPath(),
            faults: faults)
    }

    /// The engines a launch chooses from without `--engines`: `CCORC_ENGINES`, comma-separated
    /// docker context names; empty for the current engine only.
    static func defaultEngines() -> [String] {
        engineList(values["CCORC_ENGINES"] ?? "")
    }

    /// The docker context names of a comma-separated list, blanks dropped.
    static func engineList(_ text: String) -> [String] {
        text.split(separator: ",").map { String($0).trimmingWhitespace() }.filter { !$0.isEmpty }
    }

    /// Reports the engines that did not answer, one line each, and fails the command.
    static func failForUnreachable(_ unreachable: [String: String]) throws {
        guard !unreachable.isEmpty else { return }
        for name in unreachable.keys.sorted() {
            printError("ccorc: engine \(name) unreachable: \(unreachable[name]!); nothing was changed there")
        }
        throw ExitStatus(1)
    }

    /// The registry in `$CCORC_HOME`; what its open could not make private is a warning on stderr.
    static func registry(faults: FaultInjection = FaultInjection()) throws -> SessionRegistry {
        let registry = try SessionRegistry(home: SessionRegistry.defaultHome(environment: values), faults: faults)
        for warning in registry.warnings { printError("ccorc: warning: \(warning)") }
        return registry
    }

    /// tmux's own command-line arguments for the configured server.
    static func tmuxArguments() -> [String] {
        switch tmuxServer() {
        case .default: return ["tmux"]
        case .named(let name): return ["tmux", "-L", name]
        case .socket(let path): return ["tmux", "-S", path]
        }
    }
}

/// Hands the terminal to tmux: inside a client of ccorc's tmux server, switch that client;
/// anywhere else (no tmux, or a pane of another server) attach, nested if need be.
func attachTerminal(to session: String) throws -> Never {
    let handOff = terminalHandOff()
    if handOff == .attach {
        // What `TMUX= tmux attach` does: tmux refuses to nest while `TMUX` is set.
        unsetenv("TMUX")
        unsetenv("TMUX_PANE")
    }
    let arguments = Environment.tmuxArguments() + handOff.arguments(session: session)
    let cArguments = arguments.map { strdup($0) } + [nil]
    execvp("tmux", cArguments)
    throw CommandLineFailure("cannot run tmux: \(String(cString: strerror(errno)))")
}

/// How this process's terminal reaches a session of ccorc's tmux server (see `TmuxHandOff.choose`).
func terminalHandOff() -> TmuxHandOff {
    let environment = Environment.values
    return TmuxHandOff.choose(
        tmuxVariable: environment["TMUX"], serverSocket: Environment.tmuxServer().socketPath(environment: environment))
}

func parseNames(_ names: [String]) throws -> [SessionName] {
    try names.map { name in
        do { return try SessionName(name) } catch { throw CommandLineFailure("\(error)") }
    }
}

struct Launch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Create team sessions (several names launch concurrently).")
    @Argument(help: "Session names.") var names: [String] = []
    @Option(name: .customLong("session-name"), help: "A session name (the same as a positional NAME).") var sessionName:
        [String] = []
    @Option(help: "Comma-separated agent roles.") var agents = "leader,researcher,writer"
    @Option(help: "Image (default: $CCORC_IMAGE or ccorc-agent:latest).") var image: String?
    @Option(help: "Command each agent window runs in its container (default: $CCORC_AGENT_COMMAND or claude).")
    var agentCommand: String?
    @Option(name: .customLong("container-memory"), help: "Memory limit per container, e.g. 4g.") var memory: String?
    @Option(name: .customLong("container-cpus"), help: "CPU limit per container, e.g. 2.") var cpus: String?
    @Option(help: "Mount SOURCE:/path[:ro] (repeatable).") var mount: [String] = []
    @Option(help: "Environment variable KEY=VALUE (repeatable).") var env: [String] = []
    @Option(help: "Working directory inside the containers.") var workdir: String?
    @Option(help: "Network mode (default: $CCORC_NETWORK, else the engine's default).") var network: String?
    @Option(help: "Where each agent's state volume is mounted (default: ~/.claude of the image's user).") var stateDir:
        String?
    @Flag(help: "Replace an existing tmux session of the same name.") var force = false
    @Flag(help: "Do not attach at the end.") var detach = false
    @Option(help: "Docker context to launch on (default: placed among --engines, else the current engine).")
    var engine: String?
    @Option(
        help:
            "Comma-separated docker contexts to place sessions on: each goes where the most memory is left (default: $CCORC_ENGINES)."
    )
    var engines: String?

    func run() async throws {
        let sessionNames = try parseNames(names + sessionName)
        guard !sessionNames.isEmpty else { throw ValidationError("name at least one session") }
        var options = LaunchOptions()
        options.roles = try agents.split(separator: ",").map { role in
            do { return try AgentRole(String(role)) } catch { throw CommandLineFailure("\(error)") }
        }
        let environment = Environment.values
        options.image = image ?? environment["CCORC_IMAGE"] ?? options.image
        options.agentCommand = agentCommand ?? environment["CCORC_AGENT_COMMAND"] ?? options.agentCommand
        options.memoryBytes = try memory.map(ResourceLimits.parseMemory)
        options.nanoCPUs = try cpus.map(ResourceLimits.parseCPUs)
        options.mounts = mount
        options.environment = env
        options.workingDirectory = workdir
        options.networkMode = network ?? environment["CCORC_NETWORK"]
        options.stateDirectory = stateDir
        options.force = force
        options.engine = engine
        if engine == nil {
            options.engines = engines.map(Environment.engineList) ?? Environment.defaultEngines()
        }
        var failed = false
        // Ctrl-C, SIGTERM or SIGHUP: each launch stops at its next step and removes what it made.
        let interrupts = InterruptWatch(saying: "stopping: removing what the launch made")
        let control = interrupts.control
        let results = try await Environment.manager().launch(sessionNames, options: options, control: control)
        interrupts.cancel()
        for (name, error) in results {
            if let error {
                failed = true
                printError("ccorc: \(error)")
            } else {
                print("launched \(name)")
            }
        }
        if failed { throw ExitStatus(control.isStopped ? 130 : 1) }
        if !detach, sessionNames.count == 1, LocalTerminal.isTerminal(STDIN_FILENO) {
            try attachTerminal(to: sessionNames[0].rawValue)
        }
    }
}

struct Resume: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Bring a session back (its stopped containers, its tmux session or missing windows) and attach to it."
    )
    @Argument(help: "Session name.") var name: String
    @Flag(help: "Do not attach at the end.") var detach = false

    func run() async throws {
        let session = try parseNames([name])[0]
        let status = try await Environment.manager().resume(session)
        print(
            "resumed \(session): \(status.runningCount)/\(status.agents.count) running, tmux \(status.tmux == nil ? "✗" : "✓")"
        )
        if !detach, LocalTerminal.isTerminal(STDIN_FILENO) { try attachTerminal(to: status.record.tmuxSession) }
    }
}

struct Attach: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Attach to a session's tmux session (in a client of ccorc's tmux server: switch that client to it).")
    @Argument(help: "Session name.") var name: String

    func run() async throws {
        let session = try parseNames([name])[0]
        let status = try await Environment.manager().status(of: session)
        guard status.tmux != nil else {
            throw CommandLineFailure(
                "session \(session) has no tmux session (bring it back with `ccorc resume \(session)`)")
        }
        try attachTerminal(to: status.record.tmuxSession)
    }
}

struct Stop: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Stop sessions: containers stop (and persist), tmux sessions close.")
    @Argument(help: "Session names.") var names: [String] = []
    @Flag(help: "Stop every registered session.") var all = false
    @Option(help: "Seconds to wait before killing a container.") var time: Int?
    @Flag(help: "Leave the tmux sessions open.") var keepTmux = false

    func run() async throws {
        guard all || !names.isEmpty else { throw ValidationError("name sessions to stop, or pass --all") }
        let targets = all ? [] : try parseNames(names)
        let manager = try await Environment.manager()
        let outcomes: [(name: SessionName, error: Error?)]
        if all {
            let result = try await manager.stopAll(timeout: time, keepTmux: keepTmux)
            warnAboutDamagedRows(result.damaged)
            outcomes = result.outcomes
        } else {
            outcomes = try await manager.stop(targets, timeout: time, keepTmux: keepTmux)
        }
        guard !outcomes.isEmpty else { throw ValidationError("no sessions are registered") }
        var failed = false
        for (name, error) in outcomes {
            if let error {
                failed = true
                printError("ccorc: \(name): \(error)")
            } else {
                print("stopped \(name)")
            }
        }
        if failed { throw ExitStatus(1) }
    }
}

/// One line on stderr per registry row a registry-wide command skipped because it is damaged.
func warnAboutDamagedRows(_ rows: [DamagedRegistryRow]) {
    for row in rows { printError("ccorc: warning: \(row.warning)") }
}
