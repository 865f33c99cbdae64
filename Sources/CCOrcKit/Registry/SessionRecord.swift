import FoundationEssentials

/// One registered team session: a tmux session, one container per agent, and how they were made.
///
/// Dates are stored as unix seconds in a double, so a date read back equals the one written when
/// it was made from unix seconds (as the engine's and the legacy registry's are); a `Date()` may
/// come back up to a tenth of a microsecond off.
public struct SessionRecord: Sendable, Equatable {
    /// Whether the session's launch has finished.
    public enum Status: String, Sendable, Equatable, Codable {
        /// The name is claimed and its containers and tmux session are being created.
        case launching
        /// The launch committed: everything the record names was created.
        case ready
    }

    /// The session's name (also the prefix of its container names).
    public var name: SessionName
    /// The tmux session's name, or its id (`$3`) where the caller prefers that.
    public var tmuxSession: String
    /// When the session was launched.
    public var createdAt: Date
    /// When the record last changed.
    public var updatedAt: Date
    /// When `ccorc resume` last ran for it; nil if never.
    public var lastResumedAt: Date?
    /// The image every agent's container runs.
    public var image: String
    /// The command each agent runs in its container (e.g. `claude`).
    public var agentCommand: String
    /// The memory limit per container in bytes; nil for none.
    public var memoryBytes: Int64?
    /// The CPU limit per container in units of 1e-9 CPUs (the engine's `NanoCpus`); nil for none.
    public var nanoCPUs: Int64?
    /// The containers' `NetworkMode` (e.g. `none`, `bridge`); nil for the engine's default.
    public var networkMode: String?
    /// Bind mounts as given on the command line: `SRC:/dst` or `SRC:/dst:ro`.
    public var mounts: [String]
    /// Extra environment as `K=V`.
    public var environment: [String]
    /// The working directory inside the containers; nil for the image's.
    public var workingDirectory: String?
    /// Free-form settings (a JSON object) for what the columns above do not cover.
    public var config: JSONValue
    /// Whether the launch has committed.
    public var status: Status
    /// The docker context whose engine holds the containers; nil for the current engine
    /// (sessions registered before engines were named, and imported ones).
    public var engine: String?
    /// The agents, in window order.
    public var agents: [AgentRecord]

    /// Creates a record; see the properties for the meaning of each argument.
    public init(
        name: SessionName, tmuxSession: String? = nil, createdAt: Date = Date(), updatedAt: Date? = nil,
        lastResumedAt: Date? = nil, image: String, agentCommand: String, memoryBytes: Int64? = nil,
        nanoCPUs: Int64? = nil, networkMode: String? = nil, mounts: [String] = [], environment: [String] = [],
        workingDirectory: String? = nil, config: JSONValue = [:], status: Status = .launching,
        engine: String? = nil, agents: [AgentRecord] = []
    ) {
        self.name = name
        self.tmuxSession = tmuxSession ?? name.rawValue
        self.createdAt = createdAt
        self.updatedAt = updatedAt ?? createdAt
        self.lastResumedAt = lastResumedAt
        self.image = image
        self.agentCommand = agentCommand
        self.memoryBytes = memoryBytes
        self.nanoCPUs = nanoCPUs
        self.networkMode = networkMode
        self.mounts = mounts
        self.environment = environment
        self.workingDirectory = workingDirectory
        self.config = config
        self.status = status
        self.engine = engine
        self.agents = agents
    }

    /// The agent with role `role`, if the session has one.
    public func agent(_ role: AgentRole) -> AgentRecord? {
        agents.first { $0.role == role }
    }
}

/// One agent of a team session: its container, state volume and tmux window.
public struct AgentRecord: Sendable, Equatable {
    /// The agent's role, unique within its session.
    public var role: AgentRole
    /// The container's name (`SESSION-ROLE`).
    public var containerName: String
    /// The container's id; nil until the engine has created it.
    public var containerID: String?
    /// The named volume holding the agent's `~/.claude`.
    public var stateVolume: String
    /// The model the agent runs; nil for the agent command's default.
    public var model: String?
    /// The tmux window's name or id (`@4`); nil until the window exists.
    public var tmuxWindow: String?
    /// The agent's place in the session (0 first), which is also its window order.
    public var position: Int

    /// Creates a record; see the properties for the meaning of each argument.
    public init(
        role: AgentRole, containerName: String, containerID: String? = nil, stateVolume: String,
        model: String? = nil, tmuxWindow: String? = nil, position: Int
    ) {
        self.role = role
        self.containerName = containerName
        self.containerID = containerID
        self.stateVolume = stateVolume
        self.model = model
        self.tmuxWindow = tmuxWindow
        self.position = position
    }
}
