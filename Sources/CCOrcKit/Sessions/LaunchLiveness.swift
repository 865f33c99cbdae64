import FoundationEssentials

// Whether a row still marked `launching` belongs to a launch under way or to one that died.

extension SessionRecord {
    /// A launch claims its name before it creates anything; a claim that names no launching
    /// process (written before launches recorded theirs) and is this old belongs to a launch that died.
    public static let staleLaunchAge: TimeInterval = 600

    /// The process doing this session's launch, recorded while the row is `launching`.
    public var launchingProcess: ProcessIdentity? { ProcessIdentity(json: config["launchedBy"]) }

    /// Whether this row's launch may still be under way: the row is `launching` and the process
    /// it names still runs (the same pid with the same start time), or, for a row that names
    /// none, it began less than `staleLaunchAge` ago. A launch killed with SIGKILL is known dead
    /// at once, so its half-made session can be cleaned up without waiting.
    ///
    /// - Parameter isAlive: whether a process runs; a parameter so that the rule can be tested
    ///   on recorded rows.
    public func launchIsUnderWay(now: Date = Date(), isAlive: (ProcessIdentity) -> Bool = { $0.isAlive }) -> Bool {
        guard status == .launching else { return false }
        if let process = launchingProcess { return isAlive(process) }
        return now.timeIntervalSince(createdAt) < Self.staleLaunchAge
    }
}
