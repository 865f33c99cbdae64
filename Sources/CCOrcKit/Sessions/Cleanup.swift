import FoundationEssentials
import Synchronization

/// Which sessions, and which strays, `cleanup` acts on.
///
/// `names` and `patterns` set the scope (all sessions when both are empty); `stoppedOnly` and
/// `olderThan` narrow it. `fixBroken` turns the selection into the sessions with missing
/// containers, repaired (or with `dropBroken`, removed). `orphans` adds what ccorc labelled but no
/// session claims (within the scope, by the session label, when names or patterns are given).
public struct CleanupSelection: Sendable {
    /// Sessions named outright.
    public var names: [SessionName] = []
    /// Shell-style patterns on session names.
    public var patterns: [GlobPattern] = []
    /// Only sessions none of whose containers is running.
    public var stoppedOnly = false
    /// Only sessions neither launched nor resumed for at least this many seconds.
    public var olderThan: TimeInterval?
    /// Sessions with missing containers, to repair.
    public var fixBroken = false
    /// With `fixBroken`: remove the broken sessions instead of repairing them.
    public var dropBroken = false
    /// Containers and volumes labelled by ccorc that no registered session claims.
    public var orphans = false
    /// Every session in scope, for a selection the user narrows down afterwards (`--interactive`).
    public var allSessions = false
    /// Also remove the unlabelled containers of sessions imported from the legacy registry
    /// (which are otherwise skipped: ccorc did not make them). Selects nothing by itself.
    public var includeLegacy = false

    /// An empty selection.
    public init() {}

    /// Whether nothing at all is selected.
    public var isEmpty: Bool {
        names.isEmpty && patterns.isEmpty && !stoppedOnly && olderThan == nil && !fixBroken && !orphans && !allSessions
    }

    /// Parses `90m`, `36h`, `7d`, `2w` or plain seconds into seconds.
    public static func parseDuration(_ text: String) throws -> TimeInterval {
        let units: [Character: TimeInterval] = ["s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604_800]
        let trimmed = text.trimmingWhitespace().lowercased()
        let unit = trimmed.last.flatMap { units[$0] }
        let number = unit == nil ? trimmed : String(trimmed.dropLast())
        guard let value = Double(number), value >= 0, value.isFinite else {
            throw SessionError(.invalidArgument, "invalid duration \"\(text)\": expected a number and a unit, e.g. 90m, 36h, 7d")
        }
        return value * (unit ?? 1)
    }
}

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
                  low >= 1, low <= high, high <= count else {
                throw SessionError(.invalidArgument, "invalid choice \"\(word)\": give numbers from 1 to \(count), ranges like 3-7, or all")
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

extension SessionManager {
    /// Engine requests a cleanup keeps in flight by default: removal throughput of dockerd 20.10
    /// on two cores stopped growing past about this many.
    public static let defaultCleanupJobs = 16

    /// Works out what `cleanup` would do for `selection`; changes nothing.
    /// - Parameter measureDisk: also ask the engine for the containers' writable-layer sizes
    ///   (slower: the engine walks each layer).
    public func planCleanup(_ selection: CleanupSelection, measureDisk: Bool = false, now: Date = Date()) async throws -> CleanupPlan {
        let filters = ["label": [OwnershipLabels.session]]
        let rows = try registry.rows()
        let records = rows.sessions
        // Sessions imported from the legacy registry run in containers ccorc never labelled.
        let hasLegacy = records.contains(where: \.isLegacy)
        async let containerList = engine.listContainers(all: true, filters: hasLegacy ? [:] : filters, size: measureDisk)
        async let volumeList = engine.listVolumes(filters: filters)
        async let tmuxList = tmux.listSessions()
        let containers = try await containerList
        let volumes = try await volumeList
        let statuses = Self.reconcile(records, containers: containers, tmuxSessions: try await tmuxList)

        // A damaged row still owns its containers and volumes: they must not look orphaned.
        let registered = Set(records.map(\.name.rawValue)).union(rows.damaged.map(\.key))
        // A session's containers: those labelled with its name, and those the registry recorded by ID.
        var sessionByContainerID: [String: String] = [:]
        for record in records {
            for agent in record.agents { if let id = agent.containerID { sessionByContainerID[id] = record.name.rawValue } }
        }
        var containersBySession: [String: [ContainerSummary]] = [:]
        for container in containers {
            let label = container.labels[OwnershipLabels.session].flatMap { registered.contains($0) ? $0 : nil }
            if let owner = label ?? sessionByContainerID[container.id] {
                containersBySession[owner, default: []].append(container)
            }
        }
        var volumesBySession: [String: [String]] = [:]
        for volume in volumes {
            if let session = volume.labels[OwnershipLabels.session], registered.contains(session) {
                volumesBySession[session, default: []].append(volume.name)
            }
        }

        let named = Set(selection.names.map(\.rawValue))
        let scoped = named.isEmpty && selection.patterns.isEmpty
        func inScope(_ session: String) -> Bool {
            scoped || named.contains(session) || selection.patterns.contains { $0.matches(session) }
        }
        var items: [CleanupPlan.Item] = []
        var skipped: [(name: SessionName, reason: String)] = []
        let picksSessions = selection.allSessions || !scoped || selection.stoppedOnly || selection.olderThan != nil || selection.fixBroken
        for status in statuses.sorted(by: { $0.record.name.rawValue < $1.record.name.rawValue }) where picksSessions {
            let record = status.record
            guard inScope(record.name.rawValue) else { continue }
            let owned = containersBySession[record.name.rawValue] ?? []
            let running = owned.contains { $0.state.isUp } || status.agents.contains { $0.container?.state.isUp == true }
            if selection.stoppedOnly && running { continue }
            if let age = selection.olderThan, now.timeIntervalSince(max(record.createdAt, record.lastResumedAt ?? record.createdAt)) < age { continue }
            if selection.fixBroken && ((status.missingAgents.isEmpty && status.staleContainerIDs.isEmpty) || record.isLegacy) { continue }
            if record.launchIsUnderWay(now: now) {
                skipped.append((record.name, "it is being launched"))
                continue
            }
            let action: CleanupPlan.Action = selection.fixBroken && !selection.dropBroken ? .repair : .remove
            let foreign = status.agents.compactMap(\.container).filter { !owned.map(\.id).contains($0.id) }
            var legacyContainers: [ContainerSummary] = []
            if action == .remove && !foreign.isEmpty {
                // Imported from the earlier tool: its containers are not ccorc's to remove unless
                // the user says so, and dropping the row alone would leave them untracked.
                guard selection.includeLegacy && record.isLegacy else {
                    skipped.append((record.name, "its containers were not made by ccorc (\(foreign.map(\.name).joined(separator: ", "))): remove them with `ccdk rm -f`, or add --include-legacy, then run this again"))
                    continue
                }
                legacyContainers = foreign
            }
            var item = CleanupPlan.Item(status: status, action: action, containers: owned + legacyContainers, volumes: volumesBySession[record.name.rawValue] ?? [])
            item.legacyContainers = legacyContainers
            items.append(item)
        }
        for image in Set(items.filter { $0.action == .repair }.map(\.status.record.image)) {
            let imageID = try await engine.imageID(image)
            for index in items.indices where items[index].action == .repair && items[index].status.record.image == image {
                items[index].imageID = imageID
                if imageID == nil {
                    items[index].blocker = "its image \(image) no longer exists; remove the session with `ccorc cleanup --fix-broken --drop --remove \(items[index].name)`"
                }
            }
        }

        var orphanContainers: [ContainerSummary] = []
        var orphanVolumes: [Volume] = []
        if selection.orphans {
            let claimed = Set(records.flatMap { $0.agents.map(\.containerName) })
            orphanContainers = containers.filter {
                Self.isOrphan($0.labels, name: $0.name, registered: registered, claimed: claimed) && inScope($0.labels[OwnershipLabels.session]!)
            }
            let claimedVolumes = Set(records.flatMap { record in record.agents.flatMap { Self.volumeNames(record, $0) } })
            orphanVolumes = volumes.filter {
                Self.isOrphan($0.labels, name: $0.name, registered: registered, claimed: claimedVolumes) && inScope($0.labels[OwnershipLabels.session]!)
            }
        }
        return CleanupPlan(
            items: items, orphanContainers: orphanContainers, orphanVolumes: orphanVolumes,
            unknownNames: selection.names.filter { !registered.contains($0.rawValue) }, skipped: skipped, measuredDisk: measureDisk,
            damaged: rows.damaged)
    }

    /// Whether a labelled container or volume belongs to no registered session.
    static func isOrphan(_ labels: [String: String], name: String, registered: Set<String>, claimed: Set<String>) -> Bool {
        guard let session = labels[OwnershipLabels.session] else { return false }
        return !registered.contains(session) && !claimed.contains(name)
    }

    /// Carries out `plan` with at most `jobs` engine requests in flight, shared by all sessions.
    /// A removed session loses its tmux session (first: see `closeTmuxFirst`), its containers
    /// (forced), its volumes (unless `keepVolumes`) and only then its registry row, so an
    /// interrupted cleanup leaves nothing untracked and running it again finishes the job. tmux
    /// kills and row deletions go in batches (one pipelined tmux round trip, one transaction). A
    /// session whose tmux session cannot be closed keeps its containers. After `control.stop()` no
    /// new engine request is issued; those in flight finish. A failure is reported and does not
    /// stop the others.
    public func cleanup(
        _ plan: CleanupPlan, keepVolumes: Bool = false, jobs: Int = SessionManager.defaultCleanupJobs,
        control: CleanupControl = CleanupControl(), progress: (@Sendable (CleanupProgress) -> Void)? = nil
    ) async -> CleanupReport {
        let run = CleanupRun(total: plan.items.count + plan.orphanContainers.count + plan.orphanVolumes.count, progress: progress)
        let requests = EngineRequests(limiter: AsyncLimiter(width: jobs), control: control)
        let finisher = SessionFinisher(registry: registry, run: run)
        let removals = plan.items.filter { $0.action == .remove && $0.status.tmux != nil }
        let tmuxFailures = control.isStopped || removals.isEmpty ? [:] : await closeTmuxFirst(removals.map(\.status.record.tmuxSession))

        // Enough sessions under way that the limiter, not a slow session, sets the pace (and no
        // overflow for an absurd `jobs`).
        _ = await forEachConcurrently(Array(plan.items.indices), width: min(max(1, jobs), Int.max / 4) * 4) { index in
            let item = plan.items[index]
            if control.isStopped { return run.skipInterrupted(.session, item.name.rawValue) }
            switch item.action {
            case .repair:
                run.finish(await self.repair(item, requests: requests))
            case .remove:
                let tmuxSession = item.status.record.tmuxSession
                if item.status.tmux != nil, let message = tmuxFailures[tmuxSession] {
                    return run.finish(CleanupResult(
                        subject: .session, name: item.name.rawValue, outcome: .failed("closing tmux session \(tmuxSession): \(message)")))
                }
                let result = await self.dismantle(item, index: index, keepVolumes: keepVolumes, requests: requests)
                if case .removed = result.outcome {
                    await finisher.add(result)
                } else {
                    run.finish(result)
                }
            }
        }
        await finisher.flush()
        // The plan read the registry before it listed the engine, so a launch that claimed its
        // name in between had its new containers and volumes planned as orphans. The registry is
        // read again just before they go, and what a session registered since then claims is
        // left to it.
        var orphanContainers = plan.orphanContainers.map { (id: $0.id, name: $0.name, labels: $0.labels) }
        var orphanVolumes = plan.orphanVolumes.map { (id: $0.name, name: $0.name, labels: $0.labels) }
        if !control.isStopped && !(orphanContainers.isEmpty && orphanVolumes.isEmpty) {
            do {
                let records = try registry.allSessions()
                let registered = Set(records.map(\.name.rawValue))
                let claimed = Set(records.flatMap { $0.agents.map(\.containerName) })
                let claimedVolumes = Set(records.flatMap { record in record.agents.flatMap { Self.volumeNames(record, $0) } })
                for (subject, strays, claimedNames) in [(CleanupResult.Subject.container, orphanContainers, claimed), (.volume, orphanVolumes, claimedVolumes)] {
                    for stray in strays where !Self.isOrphan(stray.labels, name: stray.name, registered: registered, claimed: claimedNames) {
                        let owner = stray.labels[OwnershipLabels.session] ?? ""
                        run.finish(CleanupResult(subject: subject, name: stray.name, outcome: .skipped("session \(owner) was registered after the plan was made")))
                    }
                }
                orphanContainers.removeAll { !Self.isOrphan($0.labels, name: $0.name, registered: registered, claimed: claimed) }
                orphanVolumes.removeAll { !Self.isOrphan($0.labels, name: $0.name, registered: registered, claimed: claimedVolumes) }
            } catch {
                for (subject, strays) in [(CleanupResult.Subject.container, orphanContainers), (.volume, orphanVolumes)] {
                    for stray in strays {
                        run.finish(CleanupResult(subject: subject, name: stray.name, outcome: .failed("reading the registry before removing orphans: \(error)")))
                    }
                }
                orphanContainers = []
                orphanVolumes = []
            }
        }
        await removeStrays(orphanContainers.map { ($0.id, $0.name) }, as: .container, jobs: jobs, requests: requests, run: run) {
            try await self.engine.removeContainer($0, force: true, volumes: true)
        }
        await removeStrays(orphanVolumes.map { ($0.id, $0.name) }, as: .volume, jobs: jobs, requests: requests, run: run) {
            try await self.engine.removeVolume($0, force: true)
        }
        return run.report(interrupted: control.isStopped && run.hasSkips)
    }

    /// Removes orphaned containers or volumes, each `(id, name)` a result of its own.
    private func removeStrays(
        _ strays: [(id: String, name: String)], as subject: CleanupResult.Subject, jobs: Int, requests: EngineRequests, run: CleanupRun,
        _ remove: @escaping @Sendable (String) async throws -> Void
    ) async {
        _ = await forEachConcurrently(strays, width: jobs) { stray in
            do {
                try await requests.run { try await remove(stray.id) }
                run.finish(CleanupResult(
                    subject: subject, name: stray.name, outcome: .removed,
                    containersRemoved: subject == .container ? 1 : 0, volumesRemoved: subject == .volume ? 1 : 0))
            } catch {
                run.finish(CleanupResult(subject: subject, name: stray.name, outcome: CleanupResult.Outcome(error)))
            }
        }
    }

    /// Removes a session's containers, then its volumes. `.removed` means both are gone and the
    /// tmux session and registry row may go.
    private func dismantle(_ item: CleanupPlan.Item, index: Int, keepVolumes: Bool, requests: EngineRequests) async -> CleanupResult {
        let name = item.name.rawValue
        let containerErrors = await forEachConcurrently(item.containers, width: item.containers.count) { container in
            try await requests.run(for: index) { try await self.engine.removeContainer(container.id, force: true, volumes: true) }
        }
        let removedContainers = containerErrors.filter { $0.error == nil }.count
        if let failure = containerErrors.first(where: { $0.error != nil }) {
            return CleanupResult(subject: .session, name: name, outcome: CleanupResult.Outcome(failure.error!, doing: "removing container \(failure.item.name)"),
                                 containersRemoved: removedContainers)
        }
        var removedVolumes = 0
        if !keepVolumes {
            let volumeErrors = await forEachConcurrently(item.volumes, width: max(1, item.volumes.count)) { volume in
                try await requests.run(for: index) { try await self.engine.removeVolume(volume, force: true) }
            }
            removedVolumes = volumeErrors.filter { $0.error == nil }.count
            if let failure = volumeErrors.first(where: { $0.error != nil }) {
                return CleanupResult(subject: .session, name: name, outcome: CleanupResult.Outcome(failure.error!, doing: "removing volume \(failure.item)"),
                                     containersRemoved: removedContainers, volumesRemoved: removedVolumes)
            }
        }
        return CleanupResult(subject: .session, name: name, outcome: .removed, containersRemoved: removedContainers, volumesRemoved: removedVolumes)
    }

    /// Recreates a broken session's missing containers from its registry entry, each with its
    /// named state volume (created again if that is gone too), and records their IDs.
    private func repair(_ item: CleanupPlan.Item, requests: EngineRequests) async -> CleanupResult {
        let record = item.status.record
        func failed(_ message: String) -> CleanupResult { CleanupResult(subject: .session, name: record.name.rawValue, outcome: .failed(message)) }
        if let blocker = item.blocker { return failed("cannot repair: \(blocker)") }
        let mounts: [MountSpec]
        do { mounts = try record.mounts.map(MountSpec.init(parsing:)) } catch { return failed("cannot repair: \(error)") }
        let stateDirectory = record.stateDirectory
        let notes = Mutex<[String]>([])
        let recreated = Mutex<[String: String]>([:])
        let missing = item.status.missingAgents.map(\.record)
        let existingVolumes = Set(item.volumes)
        let outcomes = await forEachConcurrently(missing, width: max(1, missing.count)) { agent in
            let kept = ([stateDirectory] + record.imageVolumeTargets).joined(separator: ", ")
            var note = "\(agent.containerName) recreated: files outside \(kept) are lost"
            // The state volume and the image's volumes: each made again (empty) if it is gone
            // too, so that the engine does not make it unlabelled.
            for volume in self.agentVolumes(record, agent) where !existingVolumes.contains(volume.name) {
                let created = try await requests.run(absentIsDone: false) { try await self.createVolumeIfAbsent(volume.name, labels: volume.labels) }
                if created == true, volume.name == agent.stateVolume {
                    note = "\(agent.containerName) recreated with a new, empty state volume: its \(stateDirectory) is lost"
                } else if created == true {
                    note += "; its volume \(volume.name) was gone and is new and empty"
                }
            }
            let spec = self.containerSpec(record, agent, mounts: mounts, imageID: item.imageID)
            let id = try await requests.run(absentIsDone: false) { try await self.engine.createContainer(spec) }
            recreated.withLock { $0[agent.containerName] = id }
            notes.withLock { $0.append(note) }
        }
        // Containers that exist under IDs the registry does not have (a repair that died before
        // recording them) are recorded with the new ones.
        let stale = item.status.staleContainerIDs
        notes.withLock { $0 += stale.keys.map { "\($0): its container's ID recorded" } }
        let ids = recreated.withLock { $0 }.merging(stale) { new, _ in new }
        if !ids.isEmpty {
            let agents = record.agents.map { agent in
                var agent = agent
                if let id = ids[agent.containerName] { agent.containerID = id }
                return agent
            }
            var repaired = record
            repaired.agents = agents
            // A commit, not just the agents: a launch that died left its row `launching`.
            do { try registry.commit(repaired) } catch { return failed("recording the new containers: \(error)") }
        }
        if let failure = outcomes.first(where: { $0.error != nil }) {
            return CleanupResult(
                subject: .session, name: record.name.rawValue,
                outcome: CleanupResult.Outcome(failure.error!, doing: "recreating \(failure.item.containerName)"))
        }
        return CleanupResult(subject: .session, name: record.name.rawValue, outcome: .repaired(notes: notes.withLock { $0 }.sorted()))
    }
}

/// The engine requests of one cleanup: a fixed number in flight, none started once the cleanup is
/// stopped, "no such container/volume" counted as done, and a removal the engine already has
/// under way waited out.
struct EngineRequests: Sendable {
    /// Thrown instead of issuing a request after the cleanup was stopped.
    struct Stopped: Error {}

    let limiter: AsyncLimiter
    let control: CleanupControl
    /// How long to wait before asking again about a removal in progress.
    var removalPoll: Duration = .milliseconds(100)
    /// How long to keep asking before reporting the removal in progress as a failure.
    var removalPatience: Duration = .seconds(60)

    /// Runs one request of the `item`th session in a slot (earlier sessions first). With
    /// `absentIsDone` (a removal), a "no such container/volume" reply is success (nil), and so is
    /// one that only says the same removal is already in progress (left over from an interrupted
    /// cleanup, say): the request is repeated, outside the slot, until it finds the thing gone.
    func run<Result: Sendable>(for item: Int = 0, absentIsDone: Bool = true, _ body: () async throws -> Result) async throws -> Result? {
        // Counted from the first "in progress" reply, not from the wait for a slot.
        var deadline: ContinuousClock.Instant?
        while true {
            do {
                return try await limiter.run(priority: item) {
                    if control.isStopped { throw Stopped() }
                    do {
                        return try await body()
                    } catch let error as EngineError where error.code == .notFound && absentIsDone {
                        return nil
                    }
                }
            } catch let error as EngineError where error.isRemovalInProgress && absentIsDone {
                let giveUp = deadline ?? ContinuousClock.now + removalPatience
                guard ContinuousClock.now < giveUp else { throw error }
                deadline = giveUp
                try await Task.sleep(for: removalPoll)
            }
        }
    }
}

extension CleanupResult.Outcome {
    /// The outcome of an error: skipped when the cleanup was stopped first, else failed.
    fileprivate init(_ error: Error, doing step: String? = nil) {
        if error is EngineRequests.Stopped {
            self = .skipped("interrupted")
        } else {
            self = .failed(step.map { "\($0): \(error)" } ?? "\(error)")
        }
    }
}

/// The results of a cleanup as they come in, and the progress reports they trigger.
private final class CleanupRun: Sendable {
    private struct State {
        var results: [CleanupResult] = []
        var containersRemoved = 0
        var skipped = false
    }
    private let state = Mutex(State())
    private let total: Int
    private let started = Date()
    private let progress: (@Sendable (CleanupProgress) -> Void)?

    init(total: Int, progress: (@Sendable (CleanupProgress) -> Void)?) {
        self.total = total
        self.progress = progress
    }

    /// Records a finished result and reports progress (serialized: one report at a time).
    func finish(_ result: CleanupResult) {
        state.withLock { state in
            state.results.append(result)
            state.containersRemoved += result.containersRemoved
            if case .skipped = result.outcome { state.skipped = true }
            progress?(CleanupProgress(
                latest: result, finished: state.results.count, total: total, containersRemoved: state.containersRemoved,
                elapsed: Date().timeIntervalSince(started)))
        }
    }

    /// Records work left undone because the cleanup was stopped.
    func skipInterrupted(_ subject: CleanupResult.Subject, _ name: String) {
        finish(CleanupResult(subject: subject, name: name, outcome: .skipped("interrupted")))
    }

    /// Whether any work was skipped.
    var hasSkips: Bool { state.withLock { $0.skipped } }

    func report(interrupted: Bool) -> CleanupReport {
        CleanupReport(results: state.withLock { $0.results }, interrupted: interrupted, elapsed: Date().timeIntervalSince(started))
    }
}

/// The last step of removing sessions whose tmux sessions, containers and volumes are gone: their
/// registry rows are deleted in one transaction, a batch at a time. A session counts as removed
/// only once its row is gone.
private final class SessionFinisher: Sendable {
    private static let batchSize = 64
    private let pending = Mutex<[CleanupResult]>([])
    /// One batch at a time.
    private let serial = AsyncLimiter(width: 1)
    private let registry: SessionRegistry
    private let run: CleanupRun

    init(registry: SessionRegistry, run: CleanupRun) {
        self.registry = registry
        self.run = run
    }

    /// Queues a dismantled session; finishes a batch when one is full.
    func add(_ result: CleanupResult) async {
        let full = pending.withLock { pending -> Bool in
            pending.append(result)
            return pending.count >= Self.batchSize
        }
        if full { await flush() }
    }

    /// Finishes everything queued.
    func flush() async {
        await serial.run {
            let batch = pending.withLock { pending in
                defer { pending.removeAll() }
                return pending
            }
            guard !batch.isEmpty else { return }
            do {
                // A row already gone (removed by another ccorc meanwhile) is as good as removed.
                try registry.remove(batch.map { try SessionName($0.name) })
                batch.forEach(run.finish)
            } catch {
                for var result in batch {
                    result.outcome = .failed("removing the registry row: \(error)")
                    run.finish(result)
                }
            }
        }
    }
}
