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
    /// The filter that selects everything ccorc manages.
    public static var managedFilter: [String: [String]] { ["label": ["\(managed)=true"]] }
}
