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
    /// The engine (docker context name) to launch on; nil places the session (see `engines`).
    public var engine: String?
    /// The engines to choose from when `engine` is nil, by docker context name; empty means the
    /// current engine only. With more than one, each session goes where the most memory is left
    /// (see `EnginePlacement`).
    public var engines: [String] = []

    /// The default team: leader, researcher, writer.
    public init() {
        roles = ["leader", "researcher", "writer"].map { try! AgentRole($0) }
    }
}

extension LaunchOptions {
    /// Checks the options before anything is claimed or created.
    /// - Throws: `EngineError` with `.invalidInput` for a malformed mount or environment entry, or
    ///   an empty team.
    public func validate() throws {
        guard !roles.isEmpty else { throw EngineError(.invalidInput, "a session needs at least one agent role") }
        if let duplicate = Dictionary(grouping: roles, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw EngineError(.invalidInput, "agent role \(duplicate) is named twice")
        }
        _ = try mounts.map(MountSpec.init(parsing:))
        if engine != nil && !engines.isEmpty {
            throw EngineError(.invalidInput, "--engine pins one engine; it cannot be combined with --engines")
        }
        if let duplicate = Dictionary(grouping: engines, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
            throw EngineError(.invalidInput, "engine \(duplicate) is named twice in --engines")
        }
        for pair in environment where !pair.contains("=") || pair.hasPrefix("=") {
            throw EngineError(.invalidInput, "invalid environment entry \"\(pair)\": expected KEY=VALUE")
        }
    }
}
