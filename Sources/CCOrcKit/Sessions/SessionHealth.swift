import FoundationEssentials
import Synchronization

/// How a session is doing, worst last.
public enum HealthVerdict: String, Sendable, Comparable, CaseIterable {
    /// Stopped on purpose, cleanly (see `SessionCondition.stopped`): nothing runs and nothing is
    /// wrong. Ranked below healthy, so that a report over running and stopped sessions reads
    /// healthy; both exit 0.
    case stopped
    /// Everything runs as launched.
    case healthy
    /// Usable after an ordinary step (a session partly down to resume, memory near its limit).
    case degraded
    /// Something failed or was removed behind ccorc's back.
    case broken

    private var rank: Int { HealthVerdict.allCases.firstIndex(of: self)! }

    /// Orders by severity.
    public static func < (lhs: HealthVerdict, rhs: HealthVerdict) -> Bool { lhs.rank < rhs.rank }
}

/// One problem found, in words a user can act on.
public struct HealthIssue: Sendable, Equatable {
    /// `degraded` or `broken`.
    public var severity: HealthVerdict
    /// What it concerns: a container, a tmux window, or the session.
    public var subject: String
    /// What is wrong.
    public var message: String
    /// The command that fixes it; nil when there is none.
    public var fix: String?
}

/// A process of a container's cgroup, seen from the host.
public struct ContainerProcess: Sendable, Equatable {
    /// The pid in the host's namespace.
    public var pid: Int32
    /// The parent's pid in the host's namespace.
    public var parentPID: Int32
    /// Its command line (`/proc/PID/cmdline`).
    public var commandLine: [String]
}

/// One agent's container, as the health check saw it.
public struct ContainerHealth: Sendable {
    /// The agent's role.
    public var role: AgentRole
    /// The container's name.
    public var name: String
    /// The container's id; nil when it is missing.
    public var id: String?
    /// `running`, `stopped`, `missing`, or the engine's other states (as `ccorc list` says).
    public var state: String
    /// The exit code of the last run; nil while running or unknown.
    public var exitCode: Int?
    /// Whether the engine says the OOM killer ended the last run; nil when not inspected.
    public var oomKilled: Bool?
    /// How many processes the kernel's OOM killer ended in the container's cgroup during this run
    /// (`oom_kill` of `memory.oom_control` or `memory.events`); nil when not readable.
    public var oomKills: Int64?
    /// How many times the engine restarted it; nil when not inspected.
    public var restartCount: Int?
    /// When the current or last run started; nil when unknown.
    public var startedAt: Date?
    /// When the last run ended; nil while running or unknown.
    public var finishedAt: Date?
    /// Memory and CPU, from the cgroup files (or the engine's one-shot stats for a remote engine);
    /// nil when not running.
    public var usage: ResourceUsage?
    /// Whether the agent command runs in the container; nil when it cannot be told (not running,
    /// or a legacy session whose agent command is unknown).
    public var agentRunning: Bool?
    /// The processes that run the agent command.
    public var agentProcesses: [ContainerProcess]
    /// Where the agent's state lives inside the container; nil when unknown.
    public var stateDirectory: String?
    /// Whether that directory exists; nil when not checked.
    public var stateDirectoryExists: Bool?
    /// The agent's state volume; empty when the session has none (legacy).
    public var volume: String
    /// Whether the volume exists; nil when the session has none.
    public var volumeExists: Bool?
}

/// One agent's tmux window.
public struct WindowHealth: Sendable {
    /// The agent's role.
    public var role: AgentRole
    /// The window's name.
    public var window: String
    /// Whether the window exists.
    public var present: Bool
    /// The pane's id (`%N`).
    public var paneID: String?
    /// Whether the pane's process has exited.
    public var paneDead: Bool?
    /// The exit status of a dead pane's process.
    public var exitStatus: Int?
    /// The pane's foreground command (`#{pane_current_command}`).
    public var currentCommand: String?
    /// Whether the pane runs `ccdk shell` into the agent's container.
    public var runsAgentShell: Bool?
}

/// A session's tmux side.
public struct TmuxHealth: Sendable {
    /// The tmux session's name.
    public var session: String
    /// Whether it exists.
    public var present: Bool
    /// tmux's id for it (`$N`).
    public var id: String?
    /// How many windows it has.
    public var windowCount: Int
    /// Clients attached, not counting ccorc's own control client.
    public var attachedClients: Int
    /// One entry per agent (none for legacy sessions, whose panes ccorc does not manage).
    public var windows: [WindowHealth]
    /// The names of windows that are no agent's, added by the user (`tmux new-window -t NAME`):
    /// not an issue, listed so that the window count adds up.
    public var extraWindows: [String] = []
}

/// One session's health.
public struct SessionHealth: Sendable {
    /// The session's name.
    public var name: SessionName
    /// What the session is (as `ccorc list` says it).
    public var condition: SessionCondition
    /// The worst severity among the issues; when there are none, stopped for a session stopped
    /// on purpose and healthy otherwise.
    public var verdict: HealthVerdict { issues.map(\.severity).max() ?? (condition == .stopped ? .stopped : .healthy) }
    /// Each agent's container.
    public var containers: [ContainerHealth]
    /// The tmux session.
    public var tmux: TmuxHealth
    /// Everything wrong, worst first.
    public var issues: [HealthIssue]
}

/// The health of the checked sessions.
public struct HealthReport: Sendable {
    /// When the check ran.
    public var checkedAt: Date
    /// The sessions, by name.
    public var sessions: [SessionHealth]
    /// How many requests the engine was sent.
    public var engineRequests: Int
    /// Registry rows that could not be decoded and were not checked (`healthOfAll`).
    public var damaged: [DamagedRegistryRow] = []
    /// The worst verdict; healthy for no sessions.
    public var verdict: HealthVerdict { sessions.map(\.verdict).max() ?? .healthy }
    /// Whether every session is healthy or stopped on purpose: what exits 0.
    public var isSound: Bool { verdict <= .healthy }

    /// CPU use in percent of one CPU per container name, from the CPU time both reports read.
    public func cpuPercent(since previous: HealthReport) -> [String: Double] {
        let interval = checkedAt.timeIntervalSince(previous.checkedAt)
        guard interval > 0 else { return [:] }
        var before: [String: UInt64] = [:]
        for session in previous.sessions {
            for container in session.containers { before[container.name] = container.usage?.cpuUsageNanoseconds }
        }
        var result: [String: Double] = [:]
        for session in sessions {
            for container in session.containers {
                guard let now = container.usage?.cpuUsageNanoseconds, let then = before[container.name], now >= then else { continue }
                result[container.name] = Double(now - then) / 1e9 / interval * 100
            }
        }
        return result
    }
}

/// How much each check may cost.
public enum HealthCheckDepth: Sendable {
    /// Every container is inspected and the state directory of a stopped one is looked up
    /// through the archive endpoint: for a few named sessions.
    case full
    /// Two list calls, one tmux round trip and one inspect per running container, whatever the
    /// session count: stopped containers are judged from the list (their exit code from its
    /// status text, their state directory from their volume).
    case bounded
}

extension SessionManager {
    /// Checks the named sessions.
    /// - Throws: `SessionError.notFound` for a name that is not registered.
    public func health(of names: [SessionName], depth: HealthCheckDepth = .full) async throws -> HealthReport {
        var records: [SessionRecord] = []
        for name in names {
            guard let record = try registry.session(named: name) else {
                throw SessionError.sessionNotFound(name)
            }
            records.append(record)
        }
        return try await health(of: records, depth: depth)
    }

    /// Checks every registered session.
    public func healthOfAll(depth: HealthCheckDepth = .bounded) async throws -> HealthReport {
        let rows = try registry.rows()
        var report = try await health(of: rows.sessions, depth: depth)
        report.damaged = rows.damaged
        return report
    }

    /// Checks `records`: one engine list call for the containers and one for the volumes, one
    /// tmux query for the sessions and one pipelined round trip for their panes, one inspect per
    /// running container (every container with `.full`); memory, CPU and processes come from the
    /// cgroup files and `/proc`, never from an exec.
    public func health(of records: [SessionRecord], depth: HealthCheckDepth) async throws -> HealthReport {
        let checkedAt = Date()
        async let volumeList = engine.listVolumes(filters: ["label": [OwnershipLabels.session]])
        let statuses = try await status(of: records)
        let volumeNames = Set(try await volumeList.map(\.name))
        let panes = try await panesBySession(statuses)

        let probes = Mutex<[String: ContainerProbe]>([:])
        let probeFailures = Mutex<[String: String]>([:])
        let requests = Mutex(2)
        let targets = statuses.flatMap { status in
            status.agents.compactMap { agent -> (SessionRecord, AgentRecord, ContainerSummary)? in
                guard let container = agent.container, depth == .full || container.state.isUp else { return nil }
                return (status.record, agent.record, container)
            }
        }
        _ = await forEachConcurrently(targets, width: 32) { record, agent, container in
            do {
                let probe = try await self.probe(container, record: record, agent: agent, requests: requests)
                probes.withLock { $0[container.id] = probe }
            } catch let error as EngineError where error.code == .notFound {
                probeFailures.withLock { $0[container.id] = "container was removed while it was being checked" }
            } catch {
                probeFailures.withLock { $0[container.id] = "container could not be inspected: \(error)" }
            }
        }
        let probed = probes.withLock { $0 }
        let failures = probeFailures.withLock { $0 }
        let sessions = statuses.map { status in
            assess(status, probes: probed, failures: failures, volumes: volumeNames, panes: panes[status.record.tmuxSession] ?? [])
        }
        return HealthReport(checkedAt: checkedAt, sessions: sessions, engineRequests: requests.withLock { $0 })
    }

    /// Redraws: a report at once, then one every `interval` or as soon as tmux reports a change
    /// (sessions, windows, panes), whichever comes first, at most four a second. Each round costs what `health(of:depth:)`
    /// costs and spawns no process. The stream ends when the caller stops reading or a check fails.
    public func healthUpdates(
        of names: [SessionName]?, depth: HealthCheckDepth, interval: Duration
    ) -> AsyncThrowingStream<HealthReport, Error> {
        let changes = tmux.notifications
        return AsyncThrowingStream { continuation in
            let ticker = Task {
                // One wake-up per tmux change, coalesced: the check reads the latest state anyway.
                let wake = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
                let listener = Task {
                    for await change in changes {
                        switch change {
                        case .output, .extendedOutput, .pause, .continue, .subscriptionChanged: continue
                        default: wake.continuation.yield()
                        }
                    }
                }
                defer { listener.cancel() }
                var iterator = wake.stream.makeAsyncIterator()
                do {
                    while !Task.isCancelled {
                        let report: HealthReport
                        if let names {
                            report = try await self.health(of: names, depth: depth)
                        } else {
                            report = try await self.healthOfAll(depth: depth)
                        }
                        continuation.yield(report)
                        let timer = Task {
                            // A timer cancelled because a tmux change woke the loop first must
                            // not wake it too: that stale wake made every later round end after
                            // the quarter second below, not the interval.
                            guard (try? await Task.sleep(for: interval)) != nil, !Task.isCancelled else { return }
                            wake.continuation.yield()
                        }
                        let checked = ContinuousClock.now
                        _ = await iterator.next()
                        timer.cancel()
                        // A burst of tmux changes (a bulk launch) costs one check a quarter second.
                        try? await Task.sleep(until: checked + .milliseconds(250))
                    }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in ticker.cancel() }
        }
    }

    // MARK: - Gathering

    /// The panes of every present tmux session, in one pipelined round trip.
    private func panesBySession(_ statuses: [SessionStatus]) async throws -> [String: [TmuxPane]] {
        let present = statuses.filter { $0.tmux != nil }.map(\.record.tmuxSession)
        guard !present.isEmpty else { return [:] }
        let replies: [TmuxReply]
        do {
            replies = try await tmux.run(present.map {
                TmuxCommandLine("list-panes", "-s", "-t", TmuxTarget.session($0).rawValue, "-F", TmuxFormats.pane)
            })
        } catch let error as TmuxError where error.code == .serverNotRunning {
            return [:]  // the server went away since it was listed
        }
        var result: [String: [TmuxPane]] = [:]
        for (session, reply) in zip(present, replies) where reply.succeeded {
            result[session] = try TmuxFormats.panes(reply.lines)
        }
        return result
    }

    /// Inspects one container and reads its cgroup, processes and state directory.
    private func probe(
        _ container: ContainerSummary, record: SessionRecord, agent: AgentRecord, requests: borrowing Mutex<Int>
    ) async throws -> ContainerProbe {
        requests.withLock { $0 += 1 }
        let details = try await engine.inspectContainer(container.id)
        var probe = ContainerProbe(details: details)
        let stateDirectory = record.isLegacy ? nil : record.stateDirectory
        let reader = CgroupReader()
        if details.state.isUp {
            if let location = reader.locate(containerID: details.id, pid: details.pid) {
                probe.usage = try? reader.usage(at: location, includeLimits: true, includePids: true)
                probe.oomKills = HostProcesses.oomKills(at: location)
                probe.processes = (probe.usage?.pids ?? []).compactMap(HostProcesses.process)
            } else {
                // A remote engine: its cgroups are not here.
                requests.withLock { $0 += 2 }
                probe.usage = try? await engine.oneShotStats(details.id)
                probe.processes = (try? await engine.top(details.id, psArguments: "-o pid,ppid,args")).map(HostProcesses.processes) ?? []
            }
        }
        if let stateDirectory {
            let root = "/proc/\(details.pid)/root"
            if details.state.isUp, details.pid > 0, fileExists(root) {
                probe.stateDirectoryExists = directoryExists(root + stateDirectory)
            } else {
                requests.withLock { $0 += 1 }
                probe.stateDirectoryExists = (try? await engine.pathStat(details.id, path: stateDirectory)).map { $0?.isDirectory == true }
            }
        }
        return probe
    }

    // MARK: - Judging

    private func assess(
        _ status: SessionStatus, probes: [String: ContainerProbe], failures: [String: String], volumes: Set<String>, panes: [TmuxPane]
    ) -> SessionHealth {
        let record = status.record
        let name = record.name.rawValue
        var issues: [HealthIssue] = []
        func issue(_ severity: HealthVerdict, _ subject: String, _ message: String, fix: String?) {
            issues.append(HealthIssue(severity: severity, subject: subject, message: message, fix: fix))
        }
        let restart = "`ccorc stop \(name) && ccorc resume \(name)`"
        let resume = "`ccorc resume \(name)`"
        // Stopped on purpose: a stopped container or a closed tmux session is what was asked for.
        let condition = status.condition
        let stoppedOnPurpose = condition == .stopped
        if record.launchIsUnderWay() {
            issue(.degraded, name, "its launch has not finished", fix: "wait for it")
        } else if record.status == .launching {
            issue(.broken, name, "its launch died before it finished (the launching process is gone)",
                  fix: "`ccorc cleanup --remove \(name)`, then launch it again")
        }

        var containers: [ContainerHealth] = []
        for agent in status.agents {
            let container = agent.record.containerName
            let probe = agent.container.flatMap { probes[$0.id] }
            let details = probe?.details
            var health = ContainerHealth(
                role: agent.record.role, name: container, id: agent.container?.id, state: agent.state,
                exitCode: details.map { $0.state.isUp ? nil : $0.exitCode } ?? agent.container.flatMap(Self.exitCode),
                oomKilled: details?.oomKilled, oomKills: probe?.oomKills, restartCount: details?.restartCount,
                startedAt: details?.startedAt, finishedAt: details.flatMap { $0.state.isUp ? nil : $0.finishedAt },
                usage: probe?.usage, agentRunning: nil, agentProcesses: [],
                stateDirectory: record.isLegacy ? nil : record.stateDirectory,
                stateDirectoryExists: probe?.stateDirectoryExists, volume: agent.record.stateVolume,
                volumeExists: agent.record.stateVolume.isEmpty ? nil : volumes.contains(agent.record.stateVolume))

            guard let summary = agent.container else {
                issue(.broken, container, "container is missing (removed behind ccorc's back)", fix: "`ccorc cleanup --fix-broken \(name)`")
                containers.append(health)
                continue
            }
            if let failure = failures[summary.id] {
                issue(.broken, container, failure, fix: "`ccorc health \(name)` again")
            }
            // `cleanup --fix-broken` recreates missing containers only: a container in a bad state
            // goes first, and the repair brings it back (with a new, empty volume if that is gone).
            let recreate = "`ccdk rm -f \(container)`, then `ccorc cleanup --fix-broken \(name)`"
            if health.volumeExists == false {
                issue(.broken, health.volume, "state volume is missing", fix: recreate)
            } else if health.stateDirectoryExists == false, let directory = health.stateDirectory {
                issue(.broken, container, "state directory \(directory) does not exist", fix: "`ccdk exec \(container) -- mkdir -p \(directory)`")
            }
            let limit = health.usage?.memoryLimit ?? details.flatMap { $0.memory > 0 ? $0.memory : nil }
            let limitText = limit.map { " of \(ResourceLimits.formatBytes($0))" } ?? ""
            switch summary.state {
            case .running:
                if let details, !record.isLegacy {
                    health.agentProcesses = Self.agentProcesses(probe?.processes ?? [], mainPID: Int32(clamping: details.pid), agentCommand: record.agentCommand)
                    if probe?.usage != nil || !(probe?.processes.isEmpty ?? true) {
                        health.agentRunning = !health.agentProcesses.isEmpty
                    }
                }
                if health.agentRunning == false {
                    issue(.broken, container, "agent command `\(SecretMasking.maskCommand(record.agentCommand))` is not running", fix: restart)
                }
                if let kills = health.oomKills, kills > 0 {
                    issue(.broken, container, "the kernel killed \(kills) process(es) for exceeding the memory limit\(limitText)",
                          fix: "raise it with `ccdk update \(container) --memory SIZE`, then \(restart)")
                } else if let usage = health.usage, let limit, limit > 0, Double(usage.memoryUsage) >= 0.9 * Double(limit) {
                    issue(.degraded, container, "memory use \(ResourceLimits.formatBytes(usage.memoryUsage)) is at \(usage.memoryUsage * 100 / limit)% of its limit\(limitText)",
                          fix: "`ccdk update \(container) --memory SIZE`")
                }
                if let restarts = health.restartCount, restarts > 0 {
                    issue(.degraded, container, "the engine restarted it \(restarts) time(s)", fix: "see `ccdk logs \(container)`")
                }
            case .paused, .restarting:
                issue(.degraded, container, "container is \(summary.state.rawValue)", fix: resume)
            case .created, .exited:
                if health.oomKilled == true {
                    issue(.broken, container, "the kernel killed it for exceeding the memory limit\(limitText)",
                          fix: "raise it with `ccdk update \(container) --memory SIZE`, then \(resume)")
                } else if let code = health.exitCode, code != 0 {
                    issue(.broken, container, "container exited with status \(code)\(code == 137 ? " (killed: out of memory or SIGKILL)" : "")",
                          fix: "see `ccdk logs \(container)`, then \(resume)")
                } else if !stoppedOnPurpose {
                    issue(.degraded, container, "container is stopped", fix: resume)
                }
            default:
                issue(.broken, container, "container is \(summary.state.rawValue)", fix: recreate)
            }
            containers.append(health)
        }

        var tmuxHealth = TmuxHealth(
            session: record.tmuxSession, present: status.tmux != nil, id: status.tmux?.id, windowCount: status.tmux?.windows ?? 0,
            attachedClients: status.tmux?.attached ?? 0, windows: [])
        if status.tmux == nil {
            let running = status.runningCount > 0
            if !stoppedOnPurpose {
                issue(running ? .broken : .degraded, record.tmuxSession,
                      running ? "tmux session is gone while its containers run" : "tmux session is closed", fix: resume)
            }
        } else if !record.isLegacy {
            let windows = SessionWindows.match(status.agents.map(\.record), panes: panes)
            tmuxHealth.extraWindows = windows.extra.map(\.name)
            for agent in status.agents {
                let windowName = SessionWindows.windowName(agent.record)
                let matched = windows.present.first { $0.agent.role == agent.record.role }?.window
                let pane = matched.flatMap { window in panes.first { $0.windowID == window.id } }
                var window = WindowHealth(
                    role: agent.record.role, window: windowName, present: pane != nil, paneID: pane?.id, paneDead: pane?.isDead,
                    exitStatus: pane?.exitStatus, currentCommand: pane?.currentCommand, runsAgentShell: nil)
                if let pane {
                    window.runsAgentShell = runsAgentShell(pane, container: agent.record.containerName)
                    if pane.isDead {
                        issue(.broken, "window \(windowName)", "pane is dead" + (pane.exitStatus.map { " (exit status \($0))" } ?? ""), fix: restart)
                    } else if window.runsAgentShell == false {
                        issue(.broken, "window \(windowName)", "pane runs `\(pane.currentCommand)`, not the agent's `ccdk shell`", fix: restart)
                    }
                } else {
                    // A container that stops ends its window's shell: then the window is part of
                    // the same ordinary step back, not a failure of its own.
                    let severity: HealthVerdict = agent.state == "running" ? .broken : .degraded
                    issue(severity, "window \(windowName)", "window is missing (closed, or its agent shell ended)", fix: resume)
                }
                tmuxHealth.windows.append(window)
            }
        }
        issues.sort { $0.severity > $1.severity }
        return SessionHealth(name: record.name, condition: condition, containers: containers, tmux: tmuxHealth, issues: issues)
    }

    /// Whether a pane's process is `ccdk shell` into `container` (its command line from `/proc`),
    /// or, when `/proc` cannot tell, whether its foreground command is this manager's `ccdk`.
    private func runsAgentShell(_ pane: TmuxPane, container: String) -> Bool {
        if let arguments = HostProcesses.commandLine(pane.pid), !arguments.isEmpty {
            return arguments.dropFirst().first == "shell" && arguments.contains(container)
        }
        return pane.currentCommand == Path.lastComponent(shellProgram)
    }

    /// The exit code in a listed container's status text, `Exited (137) 5 minutes ago`.
    static func exitCode(_ container: ContainerSummary) -> Int? {
        guard container.state == .exited, let open = container.status.firstIndex(of: "("),
              let close = container.status[open...].firstIndex(of: ")") else { return nil }
        return Int(container.status[container.status.index(after: open)..<close])
    }

    /// The processes that run the agent command: outside the tree of the container's main
    /// process (the keep-alive and its children), whose command line is `sh -c AGENT_COMMAND` or
    /// the agent command's program (which `sh -c` execs into).
    static func agentProcesses(_ processes: [ContainerProcess], mainPID: Int32, agentCommand: String) -> [ContainerProcess] {
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
        while let first = words.first, let equals = first.firstIndex(of: "="), first[..<equals].first.map({ $0.isLetter || $0 == "_" }) == true,
              first[..<equals].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
            words.removeFirst()
        }
        let program = words.first.map { Path.lastComponent($0) }
        return processes.filter { process in
            guard !mainTree.contains(process.pid), let first = process.commandLine.first else { return false }
            return process.commandLine == ["sh", "-c", agentCommand] || process.commandLine == ["/bin/sh", "-c", agentCommand]
                || Path.lastComponent(first) == program
        }
    }
}

/// What one container's probe found.
struct ContainerProbe: Sendable {
    var details: ContainerDetails
    var usage: ResourceUsage?
    var oomKills: Int64?
    var processes: [ContainerProcess] = []
    var stateDirectoryExists: Bool?
}

/// Processes read from `/proc` and OOM counters from the cgroup files.
enum HostProcesses {
    /// A process's parent and command line; nil once it has gone.
    static func process(_ pid: Int32) -> ContainerProcess? {
        // `/proc/PID/stat` is `PID (COMM) STATE PPID ...`; COMM may hold spaces and parentheses.
        guard let stat = SysFile.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 1, let parent = Int32(fields[1]) else { return nil }
        return ContainerProcess(pid: pid, parentPID: parent, commandLine: commandLine(pid) ?? [])
    }

    /// `/proc/PID/cmdline` split at its NULs; nil when unreadable.
    static func commandLine(_ pid: Int32) -> [String]? {
        SysFile.read("/proc/\(pid)/cmdline").map { $0.split(separator: "\u{0}").map(String.init) }
    }

    /// The processes of a `top` reply asked for `-o pid,ppid,args`.
    static func processes(_ list: ProcessList) -> [ContainerProcess] {
        list.processes.compactMap { row in
            guard row.count >= 3, let pid = Int32(row[0]), let parent = Int32(row[1]) else { return nil }
            return ContainerProcess(pid: pid, parentPID: parent, commandLine: row[2...].joined(separator: " ").split(separator: " ").map(String.init))
        }
    }

    /// The cgroup's count of OOM kills: `oom_kill` in `memory.oom_control` (v1) or `memory.events` (v2).
    static func oomKills(at location: CgroupLocation) -> Int64? {
        switch location {
        case .v1(let memory, _, _): return SysFile.field(memory + "/memory.oom_control", "oom_kill")
        case .v2(let path): return SysFile.field(path + "/memory.events", "oom_kill")
        }
    }
}
