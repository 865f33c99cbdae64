// What a health check concludes from what it gathered: pure, so that every rule can be tested on
// recorded facts. The gathering is in `SessionManager+Health.swift`.

/// What one container's probe found.
struct ContainerProbe: Sendable {
    var details: ContainerDetails
    var usage: ResourceUsage?
    var oomKills: Int64?
    var processes: [ContainerProcess] = []
    var stateDirectoryExists: Bool?
}

/// Everything a health check gathered about one session.
struct HealthFacts: Sendable {
    /// The registry row with its containers (as listed) and tmux session.
    var status: SessionStatus
    /// What each probed container's inspect, cgroup and `/proc` reads found, by container ID.
    var probes: [String: ContainerProbe] = [:]
    /// Why a container could not be probed, by container ID.
    var probeFailures: [String: String] = [:]
    /// The names of the labelled volumes that exist.
    var volumes: Set<String> = []
    /// The panes of the session's tmux session; empty when it is gone.
    var panes: [TmuxPane] = []
    /// Whether the row's launch may still be under way (`SessionRecord.launchIsUnderWay`).
    var launchUnderWay = false
    /// The command lines of the panes' processes from `/proc`, by pid; absent when unreadable.
    var paneCommandLines: [Int32: [String]] = [:]
    /// The program name of the `ccdk` the agent windows run, for a pane `/proc` cannot tell about.
    var shellCommand: String
}

/// The rules that turn a session's gathered facts into its health: each issue with its severity,
/// its words and the command that fixes it.
enum HealthAssessment {
    /// Judges one session.
    static func assess(_ facts: HealthFacts) -> SessionHealth {
        var issues = Issues()
        let status = facts.status
        let record = status.record
        let name = record.name.rawValue
        let commands = FixCommands(session: name)
        if let problem = status.engineProblem {
            // Nothing is known of its containers; tmux alone would say little.
            issues.add(.broken, name, problem, fix: "check the engine with `ccorc engines`")
            let tmux = assessTmux(facts, commands: commands, issues: &issues)
            return SessionHealth(
                name: record.name, condition: status.condition, containers: [], tmux: tmux, issues: issues.sorted)
        }
        if facts.launchUnderWay {
            issues.add(.degraded, name, "its launch has not finished", fix: "wait for it")
        } else if record.status == .launching {
            issues.add(
                .broken, name, "its launch died before it finished (the launching process is gone)",
                fix: "`ccorc cleanup --remove \(name)`, then launch it again")
        }
        let containers = status.agents.map {
            assessContainer($0, of: status, facts: facts, commands: commands, issues: &issues)
        }
        let tmux = assessTmux(facts, commands: commands, issues: &issues)
        return SessionHealth(
            name: record.name, condition: status.condition, containers: containers, tmux: tmux, issues: issues.sorted)
    }

    /// The commands the fixes name, for one session.
    private struct FixCommands {
        let session: String
        var restart: String { "`ccorc stop \(session) && ccorc resume \(session)`" }
        var resume: String { "`ccorc resume \(session)`" }
    }

    /// The issues found so far.
    private struct Issues {
        var all: [HealthIssue] = []
        mutating func add(_ severity: HealthVerdict, _ subject: String, _ message: String, fix: String?) {
            all.append(HealthIssue(severity: severity, subject: subject, message: message, fix: fix))
        }
        /// Worst first, in the order found within a severity.
        var sorted: [HealthIssue] { all.sorted { $0.severity > $1.severity } }
    }

    /// One agent's container: missing, unprobed, its volume and state directory, and its state.
    private static func assessContainer(
        _ agent: AgentStatus, of status: SessionStatus, facts: HealthFacts, commands: FixCommands, issues: inout Issues
    ) -> ContainerHealth {
        let record = status.record
        let name = record.name.rawValue
        let container = agent.record.containerName
        // Stopped on purpose: a stopped container or a closed tmux session is what was asked for.
        let stoppedOnPurpose = status.condition == .stopped
        let probe = agent.container.flatMap { facts.probes[$0.id] }
        let details = probe?.details
        var health = ContainerHealth(
            role: agent.record.role, name: container, id: agent.container?.id, state: agent.state,
            exitCode: details.map { $0.state.isUp ? nil : $0.exitCode } ?? agent.container.flatMap(exitCode),
            oomKilled: details?.oomKilled, oomKills: probe?.oomKills, restartCount: details?.restartCount,
            startedAt: details?.startedAt, finishedAt: details.flatMap { $0.state.isUp ? nil : $0.finishedAt },
            usage: probe?.usage, agentRunning: nil, agentProcesses: [],
            stateDirectory: record.isLegacy ? nil : record.stateDirectory,
            stateDirectoryExists: probe?.stateDirectoryExists, volume: agent.record.stateVolume,
            volumeExists: agent.record.stateVolume.isEmpty ? nil : facts.volumes.contains(agent.record.stateVolume))

        guard let summary = agent.container else {
            issues.add(
                .broken, container, "container is missing (removed behind ccorc's back)",
                fix: "`ccorc cleanup --fix-broken \(name)`")
            return health
        }
        if let failure = facts.probeFailures[summary.id] {
            issues.add(.broken, container, failure, fix: "`ccorc health \(name)` again")
        }
        // `cleanup --fix-broken` recreates missing containers only: a container in a bad state
        // goes first, and the repair brings it back (with a new, empty volume if that is gone).
        let recreate = "`ccdk rm -f \(container)`, then `ccorc cleanup --fix-broken \(name)`"
        if health.volumeExists == false {
            issues.add(.broken, health.volume, "state volume is missing", fix: recreate)
        } else if health.stateDirectoryExists == false, let directory = health.stateDirectory {
            issues.add(
                .broken, container, "state directory \(directory) does not exist",
                fix: "`ccdk exec \(container) -- mkdir -p \(directory)`")
        }
        let limit = health.usage?.memoryLimit ?? details.flatMap { $0.memory > 0 ? $0.memory : nil }
        let limitText = limit.map { " of \(ResourceLimits.formatBytes($0))" } ?? ""
        switch summary.state {
        case .running:
            if let details, !record.isLegacy {
                health.agentProcesses = agentProcesses(
                    probe?.processes ?? [], mainPID: Int32(clamping: details.pid), agentCommand: record.agentCommand)
                if probe?.usage != nil || !(probe?.processes.isEmpty ?? true) {
                    health.agentRunning = !health.agentProcesses.isEmpty
                }
            }
            if health.agentRunning == false {
                issues.add(
                    .broken, container,
                    "agent command `\(SecretMasking.maskCommand(record.agentCommand))` is not running",
                    fix: commands.restart)
            }
            if let kills = health.oomKills, kills > 0 {
                issues.add(
                    .broken, container,
                    "the kernel killed \(kills) process(es) for exceeding the memory limit\(limitText)",
                    fix: "raise it with `ccdk update \(container) --memory SIZE`, then \(commands.restart)")
            } else if let usage = health.usage, let limit, limit > 0, Double(usage.memoryUsage) >= 0.9 * Double(limit) {
                issues.add(
                    .degraded, container,
                    "memory use \(ResourceLimits.formatBytes(usage.memoryUsage)) is at \(usage.memoryUsage * 100 / limit)% of its limit\(limitText)",
                    fix: "`ccdk update \(container) --memory SIZE`")
            }
            if let restarts = health.restartCount, restarts > 0 {
                issues.add(
                    .degraded, container, "the engine restarted it \(restarts) time(s)",
                    fix: "see `ccdk logs \(container)`")
            }
        case .paused, .restarting:
            issues.add(.degraded, container, "container is \(summary.state.rawValue)", fix: commands.resume)
        case .created, .exited:
            if health.oomKilled == true {
                issues.add(
                    .broken, container, "the kernel killed it for exceeding the memory limit\(limitText)",
                    fix: "raise it with `ccdk update \(container) --memory SIZE`, then \(commands.resume)")
            } else if let code = health.exitCode, code != 0 {
                issues.add(
                    .broken, container,
                    "container exited with status \(code)\(code == 137 ? " (killed: out of memory or SIGKILL)" : "")",
                    fix: "see `ccdk logs \(container)`, then \(commands.resume)")
            } else if !stoppedOnPurpose {
                issues.add(.degraded, container, "container is stopped", fix: commands.resume)
            }
        default:
            issues.add(.broken, container, "container is \(summary.state.rawValue)", fix: recreate)
        }
        return health
    }

    /// The tmux session and, unless the session is legacy, each agent's window.
    private static func assessTmux(_ facts: HealthFacts, commands: FixCommands, issues: inout Issues) -> TmuxHealth {
        let status = facts.status
        let record = status.record
        var tmuxHealth = TmuxHealth(
            session: record.tmuxSession, present: status.tmux != nil, id: status.tmux?.id,
            windowCount: status.tmux?.windows ?? 0,
            attachedClients: status.tmux?.attached ?? 0, windows: [])
        if status.tmux == nil {
            let running = status.runningCount > 0
            if status.condition != .stopped {
                issues.add(
                    running ? .broken : .degraded, record.tmuxSession,
                    running ? "tmux session is gone while its containers run" : "tmux session is closed",
                    fix: commands.resume)
            }
            return tmuxHealth
        }
        guard !record.isLegacy else { return tmuxHealth }
        let panes = facts.panes
        let windows = SessionWindows.match(status.agents.map(\.record), panes: panes)
        tmuxHealth.extraWindows = windows.extra.map(\.name)
        for agent in status.agents {
            let windowName = SessionWindows.windowName(agent.record)
            let matched = windows.present.first { $0.agent.role == agent.record.role }?.window
            let pane = matched.flatMap { window in panes.first { $0.windowID == window.id } }
            var window = WindowHealth(
                role: agent.record.role, window: windowName, present: pane != nil, paneID: pane?.id,
                paneDead: pane?.isDead,
                exitStatus: pane?.exitStatus, currentCommand: pane?.currentCommand, runsAgentShell: nil)
            if let pane {
                window.runsAgentShell = runsAgentShell(pane, container: agent.record.containerName, facts: facts)
                if pane.isDead {
                    issues.add(
                        .broken, "window \(windowName)",
                        "pane is dead" + (pane.exitStatus.map { " (exit status \($0))" } ?? ""), fix: commands.restart)
                } else if window.runsAgentShell == false {
                    issues.add(
                        .broken, "window \(windowName)",
                        "pane runs `\(pane.currentCommand)`, not the agent's `ccdk shell`", fix: commands.restart)
                }
            } else {
                // A container that stops ends its window's shell: then the window is part of
                // the same ordinary step back, not a failure of its own.
                let severity: HealthVerdict = agent.state == "running" ? .broken : .degraded
                issues.add(
                    severity, "window \(windowName)", "window is missing (closed, or its agent shell ended)",
                    fix: commands.resume)
            }
            tmuxHealth.windows.append(window)
        }
        return tmuxHealth
    }

    /// Whether a pane's process is `ccdk shell` into `container` (its command line from `/proc`),
    /// or, when `/proc` cannot tell, whether its foreground command is the manager's `ccdk`.
    static func runsAgentShell(_ pane: TmuxPane, container: String, facts: HealthFacts) -> Bool {
        if let arguments = facts.paneCommandLines[pane.pid], !arguments.isEmpty {
            return arguments.dropFirst().first == "shell" && arguments.contains(container)
        }
        return pane.currentCommand == facts.shellCommand
    }

    /// The exit code in a listed container's status text, `Exited (137) 5 minutes ago`.
    static func exitCode(_ container: ContainerSummary) -> Int? {
        guard container.state == .exited, let open = container.status.firstIndex(of: "("),
            let close = container.status[open...].firstIndex(of: ")")
        else { return nil }
        return Int(container.status[container.status.index(after: open)..<close])
    }

    /// The processes that run the agent command: outside the tree of the container's main
    /// process (the keep-alive and its children), whose command line is `sh -c AGENT_COMMAND` or
    /// the agent command's program (which `sh -c` execs into).
    static func agentProcesses(
        _ processes: [ContainerProcess], mainPID: Int32, agentCommand: String
    ) -> [ContainerProcess] {
        var mainTree: Set<Int32> = [mainPID]
        var grew = true
        while grew {
            grew = false
            for process in processes where !mainTree.contains(process.pid) && mainTree.contains(process.parentPID) {
                mainTree.insert(process.pid)
                grew = true
            }
        }
        var words = agentCommand.split(separator: " ").map(String.init)
        if words.first == "exec" { words.removeFirst() }
        // Inline assignments (`ANTHROPIC_API_KEY=... claude`) are the shell's; the program follows them.
        while let first = words.first, let equals = first.firstIndex(of: "="),
            first[..<equals].first.map({ $0.isLetter || $0 == "_" }) == true,
            first[..<equals].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") })
        {
            words.removeFirst()
        }
        let program = words.first.map { Path.lastComponent($0) }
        return processes.filter { process in
            guard !mainTree.contains(process.pid), let first = process.commandLine.first else { return false }
            return process.commandLine == ["sh", "-c", agentCommand]
                || process.commandLine == ["/bin/sh", "-c", agentCommand]
                || Path.lastComponent(first) == program
        }
    }
}
