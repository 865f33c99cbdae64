// Every label key ccorc writes or reads, spelled once: its own, and the Python tool's that
// `import --legacy` finds containers by. `AgentLabels` makes an agent's labels from them.

/// The labels ccorc puts on everything it creates, so that what it owns can be found with one
/// filtered list call and told apart from everything else on the engine.
public enum OwnershipLabels {
    /// Present (`true`) on every container and volume ccorc or ccdk created.
    public static let managed = "ccorc.managed"
    /// The team session a container or volume belongs to.
    public static let session = "ccorc.session"
    /// The agent role within the session (`leader`, `researcher`, ...).
    public static let role = "ccorc.role"
    /// The version of the label schema.
    public static let schema = "ccorc.schema"
    /// The image a session container was created from, by name (it is created from the ID).
    public static let image = "ccorc.image"
    /// Present (`1`) on the stopped helper containers that copy a volume between engines
    /// (`EngineTransfer`); one left behind is safe to remove.
    public static let transfer = "ccorc.transfer"
    /// The filter that selects everything ccorc manages.
    public static var managedFilter: [String: [String]] { ["label": ["\(managed)=true"]] }
}

/// The labels beyond ownership that let `recover` rebuild a registry row from the engine
/// (`SessionManager.recover`).
///
/// Launch labels every container and volume with what a row holds that the engine does not
/// already know (the engine has the image, the environment, the limits and the mounts of each
/// container); `recover` reads them back with two list calls and one inspect per session.
public enum RecoveryLabels {
    /// The agent's place in its session (`0` first), which is also its window order.
    public static let position = "ccorc.position"
    /// The session's creation time in unix seconds, exactly as the registry holds it.
    public static let createdAt = "ccorc.created-at"
    /// The session's tmux session name.
    public static let tmuxSession = "ccorc.tmux-session"
    /// The session's image; also on volumes, so a session whose containers are gone keeps it.
    public static let image = OwnershipLabels.image
    /// The names (never the values) of the variables given with `--env`, comma-separated, so
    /// that the image's own environment is not mistaken for the session's.
    public static let environmentKeys = "ccorc.env-keys"
    /// The working directory given at launch; empty for the image's, which the engine would
    /// otherwise report as if it had been given.
    public static let workingDirectory = "ccorc.workdir"
    /// The agent command, written by launch with its secrets masked (`SecretMasking.maskCommand`):
    /// a row rebuilt from it holds `<masked>` in their place, and `recover` says so.
    public static let agentCommand = "ccorc.agent-command"
    /// Where the state volume is mounted, written by launch.
    public static let stateDirectory = "ccorc.state-dir"
    /// The creation time in whole unix seconds, written by launch.
    public static let createdSeconds = "ccorc.created"
    /// On a volume at one of the image's `VOLUME` paths (not the state volume): that path.
    public static let volumeTarget = "ccorc.volume-target"
}

/// The labels the Python tool (ccbox) put on its containers, which `import --legacy` finds them by.
public enum LegacyLabels {
    /// The label the Python tool puts on a container with its context's name.
    public static let context = "xyz.texot.ccbox.context"
    /// The label the Python tool puts on a container with its agent's role.
    public static let role = "xyz.texot.ccbox.role"
    /// The label every container of the Python tool's current version carries.
    public static let schema = "xyz.texot.ccbox.schema_version"
}
