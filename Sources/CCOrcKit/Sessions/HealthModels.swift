import FoundationEssentials

// What a health check reports: verdicts, issues, and what it saw of each container and window.

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
                guard let now = container.usage?.cpuUsageNanoseconds, let then = before[container.name], now >= then
                else { continue }
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
