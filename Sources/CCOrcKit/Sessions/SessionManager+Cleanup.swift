import FoundationEssentials
import Synchronization

// Carrying out a cleanup: gathering what `CleanupPlanner` decides from, then removing and
// repairing, with progress. The options and results are in `CleanupOptions.swift` and
// `CleanupResults.swift`.

extension SessionManager {
    /// Engine requests a cleanup keeps in flight by default: removal throughput of dockerd 20.10
    /// on two cores stopped growing past about this many.
    public static let defaultCleanupJobs = 16

    /// Works out what `cleanup` would do for `selection`; changes nothing. Every engine a
    /// session lives on is asked, with the current one and `extra`, all at once.
    /// - Parameters:
    ///   - measureDisk: also ask the engine for the containers' writable-layer sizes (slower:
    ///     the engine walks each layer).
    ///   - extra: more engines to look for orphans on, by docker context name.
    public func planCleanup(
        _ selection: CleanupSelection, measureDisk: Bool = false, now: Date = Date(), engines extra: [String] = []
    ) async throws -> CleanupPlan {
        var rows = try registry.rows()
        rows.sessions = placedOnEngines(rows.sessions)
        async let tmuxList = tmux.listSessions()
        let held = await holdings(
            of: engineNames(of: rows.sessions, extra: extra), records: rows.sessions, volumes: true, size: measureDisk)
        try held.throwIfNoneAnswered(preferring: engines.currentName)
        var helpers: [ContainerSummary] = []
        if selection.orphans {
            let listed = await holdings(
                of: Array(held.answered).sorted(), records: [],
                filters: { _ in ["label": [EngineTransfer.helperLabel]] })
            helpers = listed.containers.filter { EngineTransfer.isAbandoned($0, now: now) }
        }
        let inputs = CleanupInputs(
            rows: rows, containers: held.containers, volumes: held.volumes, tmuxSessions: try await tmuxList,
            launchesUnderWay: Set(rows.sessions.filter { $0.launchIsUnderWay(now: now) }.map(\.name)), now: now,
            measuredDisk: measureDisk, unreachable: held.unreachable, abandonedHelpers: helpers)
        let plan = CleanupPlanner.plan(selection, from: inputs)
        var imageIDs: [String: String] = [:]
        for key in CleanupPlanner.imagesToLookUp(plan) {
            let (engineName, image) = CleanupPlanner.splitImageKey(key)
            imageIDs[key] = try await engines.client(named: engineName).imageID(image)
        }
        return CleanupPlanner.resolvingImages(plan, imageIDs: imageIDs)
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
        let run = CleanupRun(
            total: plan.items.count + plan.orphanContainers.count + plan.orphanVolumes.count, progress: progress)
        let requests = EngineRequests(limiter: AsyncLimiter(width: jobs), control: control)
        let finisher = SessionFinisher(registry: registry, run: run)
        let removals = plan.items.filter { $0.action == .remove && $0.status.tmux != nil }
        let tmuxFailures =
            control.isStopped || removals.isEmpty
            ? [:] : await closeTmuxFirst(removals.map(\.status.record.tmuxSession))

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
                    return run.finish(
                        CleanupResult(
                            subject: .session, name: item.name.rawValue,
                            outcome: .failed("closing tmux session \(tmuxSession): \(message)")))
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
        typealias Stray = (id: String, name: String, labels: [String: String], engine: String?)
        var orphanContainers: [Stray] = plan.orphanContainers.map { ($0.id, $0.name, $0.labels, $0.engine) }
        var orphanVolumes: [Stray] = plan.orphanVolumes.map { ($0.name, $0.name, $0.labels, $0.engine) }
        if !control.isStopped && !(orphanContainers.isEmpty && orphanVolumes.isEmpty) {
            do {
                let records = placedOnEngines(try registry.allSessions())
                // Only the sessions on a stray's own engine claim it.
                var claimsByEngine: [String: SessionClaims] = [:]
                for name in engineNames(of: records) {
                    claimsByEngine[name] = SessionClaims(records.filter { $0.engine == name })
                }
                let everywhere = SessionClaims(records)
                func isOrphan(_ subject: CleanupResult.Subject, _ stray: Stray) -> Bool {
                    // A copy's helper was judged by its process, not by a session's claims.
                    if stray.labels[EngineTransfer.helperLabel] != nil { return true }
                    let claims =
                        stray.engine.map { claimsByEngine[$0] ?? SessionClaims([]) } ?? everywhere
                    return subject == .container
                        ? claims.isOrphan(stray.labels, container: stray.name)
                        : claims.isOrphan(stray.labels, volume: stray.name)
                }
                for (subject, strays) in [
                    (CleanupResult.Subject.container, orphanContainers), (.volume, orphanVolumes),
                ] {
                    for stray in strays where !isOrphan(subject, stray) {
                        let owner = stray.labels[OwnershipLabels.session] ?? ""
                        run.finish(
                            CleanupResult(
                                subject: subject, name: stray.name,
                                outcome: .skipped("session \(owner) was registered after the plan was made")))
                    }
                }
                orphanContainers.removeAll { !isOrphan(.container, $0) }
                orphanVolumes.removeAll { !isOrphan(.volume, $0) }
            } catch {
                for (subject, strays) in [
                    (CleanupResult.Subject.container, orphanContainers), (.volume, orphanVolumes),
                ] {
                    for stray in strays {
                        run.finish(
                            CleanupResult(
                                subject: subject, name: stray.name,
                                outcome: .failed("reading the registry before removing orphans: \(error)")))
                    }
                }
                orphanContainers = []
                orphanVolumes = []
            }
        }
        await removeStrays(
            orphanContainers.map { ($0.id, $0.name, $0.engine) }, as: .container, jobs: jobs, requests: requests,
            run: run
        ) {
            try await self.engines.client(named: $1).removeContainer($0, force: true, volumes: true)
        }
        await removeStrays(
            orphanVolumes.map { ($0.name, $0.name, $0.engine) }, as: .volume, jobs: jobs, requests: requests, run: run
        ) {
            try await self.engines.client(named: $1).removeVolume($0, force: true)
        }
        return run.report(interrupted: control.isStopped && run.hasSkips)
    }

    /// Removes orphaned containers or volumes, each `(id, name)` a result of its own.
    /// Each stray names the engine it was listed from (nil: the current one).
    private func removeStrays(
        _ strays: [(id: String, name: String, engine: String?)], as subject: CleanupResult.Subject, jobs: Int,
        requests: EngineRequests, run: CleanupRun,
        _ remove: @escaping @Sendable (String, String?) async throws -> Void
    ) async {
        _ = await forEachConcurrently(strays, width: jobs) { stray in
            do {
                try await requests.run { try await remove(stray.id, stray.engine) }
                run.finish(
                    CleanupResult(
                        subject: subject, name: stray.name, outcome: .removed,
                        containersRemoved: subject == .container ? 1 : 0, volumesRemoved: subject == .volume ? 1 : 0))
            } catch {
                run.finish(CleanupResult(subject: subject, name: stray.name, outcome: CleanupResult.Outcome(error)))
            }
        }
    }

    /// Removes a session's containers, then its volumes. `.removed` means both are gone and the
    /// tmux session and registry row may go.
    private func dismantle(
        _ item: CleanupPlan.Item, index: Int, keepVolumes: Bool, requests: EngineRequests
    ) async -> CleanupResult {
        let name = item.name.rawValue
        let engine: EngineClient
        do { engine = try engines.client(for: item.status.record) } catch {
            return CleanupResult(subject: .session, name: name, outcome: CleanupResult.Outcome(error))
        }
        let session = SessionRequests()
        let containerErrors = await forEachConcurrently(item.containers, width: item.containers.count) { container in
            try await requests.run(for: index, of: session) {
                try await engine.removeContainer(container.id, force: true, volumes: true)
            }
        }
        let removedContainers = containerErrors.filter { $0.error == nil }.count
        if let failure = containerErrors.first(where: { $0.error != nil }) {
            return CleanupResult(
                subject: .session, name: name,
                outcome: CleanupResult.Outcome(failure.error!, doing: "removing container \(failure.item.name)"),
                containersRemoved: removedContainers)
        }
        var removedVolumes = 0
        if !keepVolumes {
            let volumeErrors = await forEachConcurrently(item.volumes, width: max(1, item.volumes.count)) { volume in
                try await requests.run(for: index, of: session) { try await engine.removeVolume(volume, force: true) }
            }
            removedVolumes = volumeErrors.filter { $0.error == nil }.count
            if let failure = volumeErrors.first(where: { $0.error != nil }) {
                return CleanupResult(
                    subject: .session, name: name,
                    outcome: CleanupResult.Outcome(failure.error!, doing: "removing volume \(failure.item)"),
                    containersRemoved: removedContainers, volumesRemoved: removedVolumes)
            }
        }
        return CleanupResult(
            subject: .session, name: name, outcome: .removed, containersRemoved: removedContainers,
            volumesRemoved: removedVolumes)
    }

    /// Recreates a broken session's missing containers from its registry entry, each with its
    /// named state volume (created again if that is gone too), and records their IDs.
    private func repair(_ item: CleanupPlan.Item, requests: EngineRequests) async -> CleanupResult {
        let record = item.status.record
        func failed(_ message: String) -> CleanupResult {
            CleanupResult(subject: .session, name: record.name.rawValue, outcome: .failed(message))
        }
        if let blocker = item.blocker { return failed("cannot repair: \(blocker)") }
        let engine: EngineClient
        do { engine = try engines.client(for: record) } catch { return failed("cannot repair: \(error)") }
        let mounts: [MountSpec]
        do { mounts = try record.mounts.map(MountSpec.init(parsing:)) } catch {
            return failed("cannot repair: \(error)")
        }
        let stateDirectory = record.stateDirectory
        let notes = Mutex<[String]>([])
        let recreated = Mutex<[String: String]>([:])
        let missing = item.status.missingAgents.map(\.record)
        let existingVolumes = Set(item.volumes)
        let session = SessionRequests()
        let outcomes = await forEachConcurrently(missing, width: max(1, missing.count)) { agent in
            let kept = ([stateDirectory] + record.imageVolumeTargets).joined(separator: ", ")
            var note = "\(agent.containerName) recreated: files outside \(kept) are lost"
            // The state volume and the image's volumes: each made again (empty) if it is gone
            // too, so that the engine does not make it unlabelled.
            for volume in self.agentVolumes(record, agent) where !existingVolumes.contains(volume.name) {
                let created = try await requests.run(of: session, absentIsDone: false) {
                    try await self.createVolumeIfAbsent(volume.name, labels: volume.labels, on: engine)
                }
                if created == true, volume.name == agent.stateVolume {
                    note =
                        "\(agent.containerName) recreated with a new, empty state volume: its \(stateDirectory) is lost"
                } else if created == true {
                    note += "; its volume \(volume.name) was gone and is new and empty"
                }
            }
            let spec = self.containerSpec(record, agent, mounts: mounts, imageID: item.imageID)
            let id = try await requests.run(of: session, absentIsDone: false) { try await engine.createContainer(spec) }
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
        return CleanupResult(
            subject: .session, name: record.name.rawValue, outcome: .repaired(notes: notes.withLock { $0 }.sorted()))
    }
}

/// The engine requests of one cleanup: a fixed number in flight, none started once the cleanup is
/// stopped (but those of a session already under way), "no such container/volume" counted as
/// done, and a removal the engine already has under way waited out.
struct EngineRequests: Sendable {
    /// Thrown instead of issuing a request after the cleanup was stopped.
    struct Stopped: Error {}

    let limiter: AsyncLimiter
    let control: CleanupControl
    /// How long to wait before asking again about a removal in progress.
    var removalPoll: Duration = .milliseconds(100)
    /// How long to keep asking before reporting the removal in progress as a failure.
    var removalPatience: Duration = .seconds(60)

    /// Runs one request of the `item`th session in a slot (earlier sessions first); once one of
    /// `session`'s requests has gone out, a stop no longer holds back the others. With
    /// `absentIsDone` (a removal), a "no such container/volume" reply is success (nil), and so is
    /// one that only says the same removal is already in progress (left over from an interrupted
    /// cleanup, say): the request is repeated, outside the slot, until it finds the thing gone.
    func run<Result: Sendable>(
        for item: Int = 0, of session: SessionRequests? = nil, absentIsDone: Bool = true,
        _ body: () async throws -> Result
    ) async throws -> Result? {
        // Counted from the first "in progress" reply, not from the wait for a slot.
        var deadline: ContinuousClock.Instant?
        while true {
            do {
                return try await limiter.run(priority: item) {
                    guard session?.mayGoOut(stopped: control.isStopped) ?? !control.isStopped else {
                        throw Stopped()
                    }
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

/// One session's requests in a cleanup. A stop holds back a session that has not begun; one whose
/// first request has gone out is finished, so that it is not left half-removed.
final class SessionRequests: Sendable {
    private let begun = Mutex(false)

    /// Whether a request may go out now, marking the session begun if so.
    func mayGoOut(stopped: Bool) -> Bool {
        begun.withLock { begun in
            if !begun && stopped { return false }
            begun = true
            return true
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
            progress?(
                CleanupProgress(
                    latest: result, finished: state.results.count, total: total,
                    containersRemoved: state.containersRemoved,
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
        CleanupReport(
            results: state.withLock { $0.results }, interrupted: interrupted, elapsed: Date().timeIntervalSince(started)
        )
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
