extension EngineHost {
    /// Whether the engine runs on this host (a Unix socket).
    public var isLocal: Bool { true }
}
