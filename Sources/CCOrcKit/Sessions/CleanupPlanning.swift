import FoundationEssentials

// Which sessions and strays a cleanup selects, and what it does to each: pure, so that every
// selector can be tested on recorded lists. `SessionManager.planCleanup` gathers the lists.

/// What a cleanup plan is worked out from: one read of each store, taken before anything changes.
struct CleanupInputs: Sendable {
    /// The registry's rows, damaged ones included.
    var rows: RegistryRows
    /// The engine's containers: the labelled ones, or all when a legacy session is registered.
    var containers: [ContainerSummary]
    /// The labelled volumes.
    var volumes: [Volume]
    /// The tmux server's sessions.
    var tmuxSessions: [TmuxSession]
    /// The sessions whose launch may still be under way (`SessionRecord.launchIsUnderWay`).
    var launchesUnderWay: Set<SessionName> = []
    /// What "older than" counts back from.
    var now: Date
    /// Whether the containers were listed with their sizes.
    var measuredDisk = false
    /// The engines that did not answer, with the reason: their sessions are left alone.
    var unreachable: [String: String] = [:]
    /// Helper containers of volume copies that are left over (`EngineTransfer.isAbandoned`),
    /// listed when orphans are asked for.
    var abandonedHelpers: [ContainerSummary] = []
}

/// Works out a `CleanupPlan` from a selection and the stores' contents.
enum CleanupPlanner {
    /// The plan for `selection`: the selected sessions in name order, each to remove or repair,
    /// with their containers and volumes; the ones left alone with the reason; and the strays.
    /// A repair's image is not looked up here: see `imagesToLookUp` and `resolvingImages`.
    static func plan(_ selection: CleanupSelection, from inputs: CleanupInputs) -> CleanupPlan {
        let records = inputs.rows.sessions
        let statuses = SessionReconciliation.statuses(
            records, containers: inputs.containers, tmuxSessions: inputs.tmuxSessions, unreachable: inputs.unreachable)

        // A damaged row still owns its containers and volumes: they must not look orphaned.
        let damagedKeys = inputs.rows.damaged.map(\.key)
        let registeredClaims = SessionClaims(records, damagedKeys: damagedKeys, includingVolumes: selection.orphans)
        let registered = registeredClaims.sessions
        // Where several engines were listed, a session's containers and volumes are on its own
        // engine only (one left elsewhere by a move is an orphan there).
        var engineBySession: [String: String] = [:]
        for record in records { engineBySession[record.name.rawValue] = record.engine }
        func onItsEngine(_ session: String, _ engine: String?) -> Bool {
            guard let engine, let home = engineBySession[session] else { return true }
            return engine == home
        }
        // A session's containers: those labelled with its name, and those the registry recorded by ID.
        var sessionByContainerID: [String: String] = [:]
        for record in records {
            for agent in record.agents {
                if let id = agent.containerID { sessionByContainerID[id] = record.name.rawValue }
            }
        }
        var containersBySession: [String: [ContainerSummary]] = [:]
        for container in inputs.containers {
            let label = container.labels[OwnershipLabels.session].flatMap { registered.contains($0) ? $0 : nil }
            if let owner = label ?? sessionByContainerID[container.id], onItsEngine(owner, container.engine) {
                containersBySession[owner, default: []].append(container)
            }
        }
        var volumesBySession: [String: [String]] = [:]
        for volume in inputs.volumes {
            if let session = volume.labels[OwnershipLabels.session], registered.contains(session),
                onItsEngine(session, volume.engine)
            {
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
        let picksSessions =
            selection.allSessions || !scoped || selection.stoppedOnly || selection.olderThan != nil
            || selection.fixBroken
        for status in statuses.sorted(by: { $0.record.name.rawValue < $1.record.name.rawValue }) where picksSessions {
            let record = status.record
            guard inScope(record.name.rawValue) else { continue }
            if let problem = status.engineProblem {
                skipped.append((record.name, problem))
                continue
            }
            let owned = containersBySession[record.name.rawValue] ?? []
            let running =
                owned.contains { $0.state.isUp } || status.agents.contains { $0.container?.state.isUp == true }
            if selection.stoppedOnly && running { continue }
            if let age = selection.olderThan,
                inputs.now.timeIntervalSince(max(record.createdAt, record.lastResumedAt ?? record.createdAt)) < age
            {
                continue
            }
            if selection.fixBroken
                && ((status.missingAgents.isEmpty && status.staleContainerIDs.isEmpty) || record.isLegacy)
            {
                continue
            }
            if inputs.launchesUnderWay.contains(record.name) {
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
                    skipped.append(
                        (
                            record.name,
                            "its containers were not made by ccorc (\(foreign.map(\.name).joined(separator: ", "))): remove them with `ccdk rm -f`, or add --include-legacy, then run this again"
                        ))
                    continue
                }
                legacyContainers = foreign
            }
            var item = CleanupPlan.Item(
                status: status, action: action, containers: owned + legacyContainers,
                volumes: volumesBySession[record.name.rawValue] ?? [])
            item.legacyContainers = legacyContainers
            items.append(item)
        }

        var orphanContainers: [ContainerSummary] = []
        var orphanVolumes: [Volume] = []
        if selection.orphans {
            // Per engine: only the sessions on an engine claim what is there.
            var claimsByEngine: [String: SessionClaims] = [:]
            func claims(on engine: String?) -> SessionClaims {
                guard let engine else { return registeredClaims }
                if let known = claimsByEngine[engine] { return known }
                let own = SessionClaims(
                    records.filter { $0.engine == nil || $0.engine == engine }, damagedKeys: damagedKeys)
                claimsByEngine[engine] = own
                return own
            }
            orphanContainers = inputs.containers.filter {
                claims(on: $0.engine).isOrphan($0.labels, container: $0.name)
                    && inScope($0.labels[OwnershipLabels.session]!)
            }
            orphanVolumes = inputs.volumes.filter {
                claims(on: $0.engine).isOrphan($0.labels, volume: $0.name)
                    && inScope($0.labels[OwnershipLabels.session]!)
            }
            // A copy's helpers belong to no session: only an unscoped cleanup takes them.
            if scoped { orphanContainers += inputs.abandonedHelpers }
        }
        return CleanupPlan(
            items: items, orphanContainers: orphanContainers, orphanVolumes: orphanVolumes,
            unknownNames: selection.names.filter { !registered.contains($0.rawValue) }, skipped: skipped,
            measuredDisk: inputs.measuredDisk,
            damaged: inputs.rows.damaged, unreachable: inputs.unreachable)
    }

    /// The images the plan's repairs recreate containers from, each once, sorted.
    /// On several engines, one entry per engine and image (see `imageKey`).
    static func imagesToLookUp(_ plan: CleanupPlan) -> [String] {
        Set(plan.items.filter { $0.action == .repair }.map { imageKey($0.status.record) }).sorted()
    }

    /// How `imagesToLookUp` and `resolvingImages` name a record's image: the image, with its
    /// engine's name in front when the record names one.
    static func imageKey(_ record: SessionRecord) -> String {
        record.engine.map { "\($0)\u{1F}\(record.image)" } ?? record.image
    }

    /// The engine and image of an `imageKey`.
    static func splitImageKey(_ key: String) -> (engine: String?, image: String) {
        guard let separator = key.firstIndex(of: "\u{1F}") else { return (nil, key) }
        return (String(key[..<separator]), String(key[key.index(after: separator)...]))
    }

    /// The plan with each repair's image ID filled in from `imageIDs` (by image name), and a
    /// blocker on a repair whose image is not there (it no longer exists).
    static func resolvingImages(_ plan: CleanupPlan, imageIDs: [String: String]) -> CleanupPlan {
        var plan = plan
        for index in plan.items.indices where plan.items[index].action == .repair {
            let image = plan.items[index].status.record.image
            let key = imageKey(plan.items[index].status.record)
            plan.items[index].imageID = imageIDs[key]
            if imageIDs[key] == nil {
                plan.items[index].blocker =
                    "its image \(image) no longer exists; remove the session with `ccorc cleanup --fix-broken --drop --remove \(plan.items[index].name)`"
            }
        }
        return plan
    }
}
