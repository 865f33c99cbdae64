extension SessionRecord {
    /// Where agents' state volumes were mounted before launch derived the place from the image,
    /// and so where a record that does not say is taken to have them.
    public static let defaultStateDirectory = "/root/.claude"

    /// Where this session's agents have their state volume mounted.
    public var stateDirectory: String { config["stateDirectory"]?.string ?? Self.defaultStateDirectory }

    /// The image's `VOLUME` paths at which every agent has a named volume of its own, sorted
    /// (see `SessionManager.imageVolumes`); empty for most images.
    public var imageVolumeTargets: [String] { config["imageVolumes"]?.stringArray ?? [] }
}
