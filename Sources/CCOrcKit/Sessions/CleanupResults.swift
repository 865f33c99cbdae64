import FoundationEssentials

// What a cleanup plans and reports.

/// What `cleanup` will do, worked out from one registry read, one container list, one volume list
/// and one tmux query, before anything changes.
public struct CleanupPlan: Sendable {
    /// What happens to a selected session.
    public enum Action: String, Sendable {
        /// Containers, volumes, tmux session and registry row go.
        case remove
        /// The missing containers are recreated from the registry.
        case repair
    }

    /// One selected session.
    public struct Item: Sendable {
        /// The session as the registry, the engine and tmux see it.
        public var status: SessionStatus
        /// What happens to it.
        public var action: Action
        /// Its containers that exist: its agents' and any other labelled with its name.
        public var containers: [ContainerSummary]
        /// Its labelled volumes that exist.
        public var volumes: [String]
        /// For a repair: why it cannot be done (its image is gone), found while planning.
        public var blocker: String?
        /// For a repair: the ID of the image its containers are recreated from.
        public var imageID: String?
        /// Containers of a legacy session that ccorc did not make, removed with it because the
        /// selection includes them (`includeLegacy`); also in `containers`.
        public var legacyContainers: [ContainerSummary] = []

        /// The session's name.
        public var name: SessionName { status.record.name }
        /// How many of its containers are up.
        public var runningCount: Int { containers.filter { $0.state.isUp }.count }
        /// Bytes in its containers' writable layers, when the plan measured them.
        public var diskBytes: Int64? {
            let sizes = containers.compactMap(\.sizeRw)
            return sizes.isEmpty && !containers.isEmpty ? nil : sizes.reduce(0, +)
        }
    }

    /// The selected sessions, in name order.
    public var items: [Item]
    /// Labelled containers that no registered session claims (with `orphans`).
    public var orphanContainers: [ContainerSummary]
    /// Labelled volumes that no registered session claims (with `orphans`).
    public var orphanVolumes: [Volume]
    /// Names given outright that are not registered.
    public var unknownNames: [SessionName]
    /// Selected sessions left alone, with the reason.
    public var skipped: [(name: SessionName, reason: String)]
    /// Whether container sizes were measured (`diskBytes` is meaningful).
    public var measuredDisk: Bool
    /// Registry rows that could not be decoded: never selected, and their containers and volumes
    /// are not orphans (drop a row with `ccorc forget`, then clean up its leftovers as orphans).
    public var damaged: [DamagedRegistryRow] = []
    /// The engines that did not answer, with the reason: nothing is planned on them.
    public var unreachable: [String: String] = [:]

    /// Only the items at `indices` (an interactive pick), without the strays.
    public func restricted(to indices: [Int]) -> CleanupPlan {
        var plan = self
        plan.items = indices.filter { items.indices.contains($0) }.map { items[$0] }
        plan.orphanContainers = []
        plan.orphanVolumes = []
        plan.skipped = []
        return plan
    }

    /// Parses a pick from a numbered list: `1 3-7`, `2,4`, or `all`, numbered from 1 up to
    /// `count`. Returns zero-based indices in ascending order.
    public static func parsePicks(_ text: String, count: Int) throws -> [Int] {
        let words = text.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "\t" }).map(String.init)
        if words.map({ $0.lowercased() }) == ["all"] { return Array(0..<count) }
        var picked = Set<Int>()
        for word in words {
            let bounds = word.split(separator: "-", omittingEmptySubsequences: false).map { Int($0) }
            guard (1...2).contains(bounds.count), let low = bounds.first ?? nil, let high = bounds.last ?? nil,
                low >= 1, low <= high, high <= count
            else {
                throw SessionError(
                    .invalidArgument,
                    "invalid choice \"\(word)\": give numbers from 1 to \(count), ranges like 3-7, or all")
            }
            picked.formUnion((low - 1)...(high - 1))
        }
        return picked.sorted()
    }

    /// Whether there is nothing to do.
    public var isEmpty: Bool { items.isEmpty && orphanContainers.isEmpty && orphanVolumes.isEmpty }
    /// Containers that go (removed sessions' and orphans).
    public var containersToRemove: Int {
        items.filter { $0.action == .remove }.reduce(orphanContainers.count) { $0 + $1.containers.count }
    }
    /// Bytes freed by the containers that go, when measured.
    public var diskBytes: Int64? {
        guard measuredDisk else { return nil }
        let sessions = items.filter { $0.action == .remove }.compactMap(\.diskBytes).reduce(0, +)
        return orphanContainers.compactMap(\.sizeRw).reduce(sessions, +)
    }
}

/// Asks a running cleanup to stop issuing new work (Ctrl-C); work in flight finishes.
public typealias CleanupControl = StopControl

/// The outcome for one session, or for one orphaned container or volume.
public struct CleanupResult: Sendable {
    /// What the result is about.
    public enum Subject: String, Sendable { case session, container, volume }
    /// What happened.
    public enum Outcome: Sendable {
        /// Everything it pointed to is gone, and so is its registry row.
        case removed
        /// Its missing containers exist again; the notes say what state was lost.
        case repaired(notes: [String])
        /// Left alone, with the reason.
        case skipped(String)
        /// Not done, with the engine's, tmux's or the registry's message.
        case failed(String)
    }

    /// Session, orphaned container, or orphaned volume.
    public var subject: Subject
    /// The session, container or volume name.
    public var name: String
    /// What happened.
    public var outcome: Outcome
    /// Containers this result removed (already-gone ones count).
    public var containersRemoved = 0
    /// Volumes this result removed (already-gone ones count).
    public var volumesRemoved = 0
}

/// How far a cleanup has come, for a progress display.
public struct CleanupProgress: Sendable {
    /// The result just finished.
    public var latest: CleanupResult
    /// Results finished so far, and in all.
    public var finished: Int, total: Int
    /// Containers removed so far.
    public var containersRemoved: Int
    /// Seconds since the cleanup started.
    public var elapsed: TimeInterval
}

/// Everything a cleanup did.
public struct CleanupReport: Sendable {
    /// One result per planned session and stray, in the order they finished.
    public var results: [CleanupResult]
    /// Whether it was stopped before the end; unstarted work is `skipped`.
    public var interrupted: Bool
    /// Seconds it took.
    public var elapsed: TimeInterval

    /// The report of a cleanup that had nothing to do.
    public static let empty = CleanupReport(results: [], interrupted: false, elapsed: 0)

    /// How many results have an outcome of each kind.
    public var counts: (removed: Int, repaired: Int, skipped: Int, failed: Int) {
        results.reduce(into: (0, 0, 0, 0)) { counts, result in
            switch result.outcome {
            case .removed: counts.0 += 1
            case .repaired: counts.1 += 1
            case .skipped: counts.2 += 1
            case .failed: counts.3 += 1
            }
        }
    }
    /// Containers removed in all.
    public var containersRemoved: Int { results.reduce(0) { $0 + $1.containersRemoved } }
    /// Volumes removed in all.
    public var volumesRemoved: Int { results.reduce(0) { $0 + $1.volumesRemoved } }
    /// Whether anything failed.
    public var hasFailures: Bool { counts.failed > 0 }
}
