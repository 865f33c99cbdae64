import FoundationEssentials

extension SessionRecord {
    /// Whether the row came from the earlier Python tool's registry (`ccorc import --legacy`):
    /// its containers carry no ccorc labels and are matched by name alone.
    public var isLegacy: Bool { config["origin"]?.string == LegacyRegistry.origin }
}

/// The registries of the earlier Python tool, in `~/.claude-orc/`.
///
/// - `sessions.json` (its older versions): an object from session name to `{session_name,
///   created_at, updated_at, tmux_session, containers, agents: [{name, container,
///   container_mode, model, pane_index}], orchestrator_config}`.
/// - `team_contexts.json` (its current version): an object from context name to
///   `{context_name, tmux_session, created_at, agents: [{name, role, model, pane_index,
///   session_id, fork_history}], working_dir, updated_at, orchestrator_config}`. It names no
///   containers: the tool finds them by the labels `xyz.texot.ccbox.context` (the context's name),
///   `xyz.texot.ccbox.role` (the agent's role) and `xyz.texot.ccbox.schema_version`, and runs
///   them with `--rm`, so a context it stopped has none left.
public enum LegacyRegistry {
    /// The `config.origin` of rows imported from it whose containers the Python tool made.
    public static let origin = "legacy"
    /// The `config.origin` of rows imported from it for contexts with no container left: ccorc
    /// recreates their containers (`cleanup --fix-broken`) and owns them from then on.
    public static let recreatedOrigin = "legacy-recreated"

    /// The two file formats.
    public enum Format: String, Sendable {
        /// `sessions.json`: every agent names its container.
        case sessions
        /// `team_contexts.json`: agents name no container; labels find them.
        case teamContexts

        /// The format of a parsed file: team contexts when an entry has `context_name` or an
        /// agent with a `role` and no `container`, sessions otherwise.
        public static func detect(_ entries: [String: JSONValue]) -> Format {
            let contexts = entries.values.contains { entry in
                entry["context_name"] != nil
                    || (entry["agents"]?.array ?? []).contains { $0["role"] != nil && $0["container"] == nil }
            }
            return contexts ? .teamContexts : .sessions
        }
    }

    /// `~/.claude-orc/sessions.json`.
    public static func defaultPath(environment: [String: String] = ProcessEnvironment.current) -> String {
        directory(environment) + "/sessions.json"
    }

    /// `~/.claude-orc/team_contexts.json`.
    public static func defaultContextsPath(environment: [String: String] = ProcessEnvironment.current) -> String {
        directory(environment) + "/team_contexts.json"
    }

    /// The files `import --legacy` reads without a path: those of `team_contexts.json` and
    /// `sessions.json` that exist, the newer first so that its entry wins a name both have.
    /// - Throws: `LegacyImportError` when neither exists.
    public static func defaultPaths(
        environment: [String: String] = ProcessEnvironment.current
    ) throws(LegacyImportError) -> [String] {
        let candidates = [defaultContextsPath(environment: environment), defaultPath(environment: environment)]
        let present = candidates.filter(fileExists)
        guard !present.isEmpty else {
            throw LegacyImportError(
                description:
                    "cannot read \(candidates[1]) or \(candidates[0]): neither exists (name the file to import)")
        }
        return present
    }

    private static func directory(_ environment: [String: String]) -> String {
        Path.join(ProcessEnvironment.homeDirectory(environment), ".claude-orc")
    }

    /// What an import knows of the engine, gathered once for the whole file.
    struct EngineView {
        /// Every container, by name.
        var byName: [String: ContainerSummary]
        /// The Python tool's labelled containers, by lowercased context name.
        var byContext: [String: [ContainerSummary]]
        /// The image a context without containers is registered with, looked up; or why it
        /// cannot be (it is not on the engine). Nil when the file needs none.
        var recreateImage: Result<AgentImage, SessionError>?
        /// The network mode of containers ccorc recreates; nil for the engine's default.
        var networkMode: String?
        /// The command each recreated agent runs.
        var agentCommand: String

        init(
            containers: [ContainerSummary], recreateImage: Result<AgentImage, SessionError>?, networkMode: String?,
            agentCommand: String
        ) {
            byName = Dictionary(containers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
            var byContext: [String: [ContainerSummary]] = [:]
            for container in containers where container.labels[LegacyLabels.schema] != nil {
                guard let context = container.labels[LegacyLabels.context] else { continue }
                byContext[context.lowercased(), default: []].append(container)
            }
            self.byContext = byContext
            self.recreateImage = recreateImage
            self.networkMode = networkMode
            self.agentCommand = agentCommand
        }

        /// The labelled container of one agent of a context: its role label equals the agent's
        /// role or name, ignoring case (the tool names agents `Leader` and labels them `leader`);
        /// a running one before others, then by name.
        func container(context: String, role: String?, name: String) -> ContainerSummary? {
            let wanted = Set([role, name].compactMap { $0?.lowercased() })
            return (byContext[context.lowercased()] ?? [])
                .filter { wanted.contains($0.labels[LegacyLabels.role]?.lowercased() ?? "") }
                .min { ($0.state == .running ? 0 : 1, $0.name) < ($1.state == .running ? 0 : 1, $1.name) }
        }
    }

    /// The name an entry is registered under: its `context_name` (team contexts) or
    /// `session_name` (sessions), else its key. Not checked against the naming rule.
    static func sessionName(key: String, entry: JSONValue, format: Format) -> String {
        entry[format == .teamContexts ? "context_name" : "session_name"]?.string ?? key
    }

    /// Turns one entry into a row; the error says why it cannot be registered.
    ///
    /// An agent's container is the one the entry names, else (team contexts) the one labelled
    /// with the context and the agent's role. A team context none of whose agents has a container
    /// left becomes a row of ccorc's own (`recreatedOrigin`): containers `NAME-ROLE` with state
    /// volumes, recorded but not yet created, for `cleanup --fix-broken` to create. Any other
    /// entry becomes a legacy row, whose containers are matched by name and never relabelled.
    static func record(
        key: String, entry: JSONValue, format: Format, engine: EngineView
    ) throws(EntryError) -> SessionRecord {
        guard entry.object != nil else { throw EntryError("is not an object") }
        let rawName = sessionName(key: key, entry: entry, format: format)
        guard let name = SessionName(rawValue: rawName) else {
            throw EntryError("has an invalid session name \(rawName.debugDescription) (\(SessionName.rule))")
        }
        let tmuxSession = entry["tmux_session"]?.string ?? rawName
        guard !tmuxSession.isEmpty, !tmuxSession.contains("."), !tmuxSession.contains(":") else {
            throw EntryError("has an invalid tmux session name \(tmuxSession.debugDescription)")
        }
        guard let agentEntries = entry["agents"]?.array, !agentEntries.isEmpty else {
            throw EntryError("lists no agents")
        }
        var agents: [AgentRecord] = []
        var found: [ContainerSummary] = []
        for (index, agent) in agentEntries.enumerated() {
            guard let rawRole = agent["name"]?.string, let role = AgentRole(rawValue: rawRole) else {
                throw EntryError(
                    "has an agent with an invalid name \((agent["name"]?.string ?? "(none)").debugDescription) (\(AgentRole.rule))"
                )
            }
            if agents.contains(where: { $0.role == role }) { throw EntryError("lists agent \(role) twice") }
            var container = agent["container"]?.string.flatMap { $0.isEmpty ? nil : $0 }
            if container == nil {
                guard format == .teamContexts else { throw EntryError("has agent \(role) without a container") }
                if let labelled = engine.container(context: rawName, role: agent["role"]?.string, name: rawRole) {
                    found.append(labelled)
                    container = labelled.name
                }
            } else if let named = engine.byName[container!] {
                found.append(named)
            }
            agents.append(
                AgentRecord(
                    role: role, containerName: container ?? SessionManager.containerName(name, role), containerID: nil,
                    stateVolume: "",
                    model: agent["model"]?.string, tmuxWindow: nil,
                    position: Int(agent["pane_index"]?.int ?? Int64(index))))
        }
        let created = date(entry["created_at"]) ?? Date(timeIntervalSince1970: 0)
        let updated = date(entry["updated_at"]) ?? created
        let settings = entry["orchestrator_config"] ?? .null
        let namesContainers = agentEntries.contains { $0["container"]?.string?.isEmpty == false }
        if format == .teamContexts && found.isEmpty && !namesContainers {
            return try recreatedRecord(
                name: name, tmuxSession: tmuxSession, created: created, updated: updated, entry: entry, agents: agents,
                engine: engine)
        }
        let image = settings["image"]?.string ?? found.first?.image ?? ""
        return SessionRecord(
            name: name, tmuxSession: tmuxSession, createdAt: created, updatedAt: updated,
            image: image, agentCommand: settings["agent_command"]?.string ?? "claude",
            config: ["origin": .string(origin), "legacy": entry], status: .ready, agents: agents)
    }

    /// The row of a context with no container left: as a launch of ccorc's would have recorded
    /// it (containers `NAME-ROLE`, state volumes `NAME-ROLE-state`, the image's state directory),
    /// with no container IDs, so that `cleanup --fix-broken` creates its containers.
    private static func recreatedRecord(
        name: SessionName, tmuxSession: String, created: Date, updated: Date, entry: JSONValue, agents: [AgentRecord],
        engine: EngineView
    ) throws(EntryError) -> SessionRecord {
        let image: AgentImage
        switch engine.recreateImage {
        case .success(let found): image = found
        case .failure(let error):
            throw EntryError("has no containers left, and the image to recreate them from is missing: \(error.message)")
        case nil: throw EntryError("has no containers left, and no image was given to recreate them from")
        }
        var config = SessionManager.launchConfig(image).object ?? [:]
        config["origin"] = .string(recreatedOrigin)
        config["legacy"] = entry
        return SessionRecord(
            name: name, tmuxSession: tmuxSession, createdAt: created, updatedAt: updated, image: image.reference,
            agentCommand: engine.agentCommand, networkMode: engine.networkMode, config: .object(config), status: .ready,
            agents: agents.map { agent in
                var agent = agent
                agent.containerName = SessionManager.containerName(name, agent.role)
                agent.stateVolume = SessionManager.volumeName(name, agent.role)
                agent.tmuxWindow = agent.role.rawValue
                return agent
            })
    }

    /// The Python tool wrote `datetime.isoformat()` (local time, no zone) or unix seconds.
    static func date(_ value: JSONValue?) -> Date? {
        guard let value else { return nil }
        if let seconds = value.double { return Date(timeIntervalSince1970: seconds) }
        guard let text = value.string, !text.isEmpty else { return nil }
        if let date = EngineTime.parse(text.hasSuffix("Z") || text.contains("+") ? text : nil) { return date }
        return RFC3339.parseLocal(text)
    }
}

/// Why one entry of a legacy registry or an export file cannot be used.
struct EntryError: Error {
    var reason: String
    init(_ reason: String) { self.reason = reason }
}

/// How `import --legacy` registers contexts that have no container left.
public struct LegacyImportOptions: Sendable {
    /// The image ccorc recreates their containers from.
    public var image = LaunchOptions().image
    /// The command each of their agents runs.
    public var agentCommand = LaunchOptions().agentCommand
    /// Their containers' network mode; nil for the engine's default.
    public var networkMode: String?

    /// The launch defaults.
    public init() {}
}

/// The outcome of `import --legacy`.
public struct LegacyImportReport: Sendable {
    /// Sessions registered by this run.
    public var added: [SessionName]
    /// Of `added`, the sessions that had no container left: `cleanup --fix-broken` creates them.
    public var withoutContainers: [SessionName] = []
    /// Sessions the registry already had (a second run adds nothing).
    public var alreadyRegistered: [SessionName]
    /// Entries that could not be registered: the entry's key and the reason.
    public var invalid: [(key: String, reason: String)]
}

/// A legacy registry file that cannot be read at all.
public struct LegacyImportError: Error, CustomStringConvertible, Sendable {
    /// The one-line message.
    public var description: String
}
