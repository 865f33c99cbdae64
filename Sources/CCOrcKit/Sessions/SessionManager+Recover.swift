import FoundationEssentials
import Synchronization

// Rebuilding registry rows from the labels of the containers and volumes ccorc created: the
// lost- or corrupted-registry case, and sessions another machine's ccorc made on a shared engine.
// The labels are `RecoveryLabels`, written by launch through `AgentLabels`.

/// What `recover` found for one session.
public struct RecoveredSession: Sendable {
    /// The rebuilt row.
    public var record: SessionRecord
    /// Whether the row was written (false for `--dry-run`, or when another process registered
    /// the name meanwhile).
    public var added: Bool
    /// What could not be rebuilt (e.g. the environment of a session whose containers are gone).
    public var notes: [String]
}

/// The outcome of `recover`.
public struct RecoveryReport: Sendable {
    /// Sessions found on the engine that the registry lacked.
    public var sessions: [RecoveredSession]
    /// Labelled sessions left alone because the registry already has them.
    public var alreadyRegistered: [SessionName]
    /// Labels that could not be turned into a row, with the reason.
    public var skipped: [(label: String, reason: String)]
    /// Registry rows that could not be decoded; their labels count as registered.
    public var damaged: [DamagedRegistryRow] = []
    /// The engines that did not answer, with the reason: nothing was recovered from them.
    public var unreachable: [String: String] = [:]
}

extension SessionManager {
    /// Rebuilds the rows of every session whose containers or volumes carry ccorc's labels and
    /// that the registry lacks; an existing row is never overwritten.
    ///
    /// Searches the current engine, every engine a registered session lives on, and `engines`,
    /// all at once; an engine that does not answer is reported and the others are searched. A
    /// session found on several engines is rebuilt from the first by name and reported skipped
    /// on the others. Costs two engine list calls per engine plus one inspect per session rebuilt.
    /// - Parameters:
    ///   - dryRun: report what would be added without writing anything.
    ///   - engines: more engines to search, by docker context name.
    public func recoverRegistry(dryRun: Bool = false, engines extra: [String] = []) async throws -> RecoveryReport {
        // A damaged row keeps its name: recovery rebuilds it only once `ccorc forget` dropped it.
        let rows = try registry.rows()
        let registered = Set(rows.sessions.map(\.name.rawValue)).union(rows.damaged.map(\.key))
        let held = await holdings(
            of: engineNames(of: rows.sessions, extra: extra), records: [], volumes: true,
            filters: { _ in SessionReconciliation.sessionLabelFilter })
        try held.throwIfNoneAnswered(preferring: engines.currentName)

        // By session label, then by engine.
        var containersBySession: [String: [String: [ContainerSummary]]] = [:]
        var volumesBySession: [String: [String: [Volume]]] = [:]
        for container in held.containers {
            guard let session = container.labels[OwnershipLabels.session] else { continue }
            containersBySession[session, default: [:]][container.engine ?? "", default: []].append(container)
        }
        for volume in held.volumes {
            volumesBySession[volume.labels[OwnershipLabels.session] ?? "", default: [:]][
                volume.engine ?? "", default: []
            ].append(volume)
        }

        var report = RecoveryReport(
            sessions: [], alreadyRegistered: [], skipped: [], damaged: rows.damaged, unreachable: held.unreachable)
        var candidates: [(SessionName, [ContainerSummary], [Volume], String)] = []
        for label in Set(containersBySession.keys).union(volumesBySession.keys).sorted() {
            let holders = Set((containersBySession[label] ?? [:]).keys).union((volumesBySession[label] ?? [:]).keys)
                .sorted()
            let home = holders[0]
            let owned = containersBySession[label]?[home] ?? []
            let ownedVolumes = volumesBySession[label]?[home] ?? []
            guard let name = SessionName(rawValue: label) else {
                report.skipped.append((label, "not a valid session name (\(SessionName.rule))"))
                continue
            }
            if registered.contains(label) {
                report.alreadyRegistered.append(name)
                continue
            }
            let schemas = Set(
                (owned.map(\.labels) + ownedVolumes.map(\.labels)).compactMap { $0[OwnershipLabels.schema] })
            guard schemas == [SessionManager.labelSchema] else {
                report.skipped.append(
                    (
                        label,
                        "label schema \(schemas.sorted().joined(separator: ", ")) is not \(SessionManager.labelSchema); recover it with the ccorc that made it"
                    ))
                continue
            }
            for other in holders.dropFirst() {
                report.skipped.append(
                    (label, "also on engine \(other); rebuilt from engine \(home), the copy on \(other) is left alone"))
            }
            candidates.append((name, owned, ownedVolumes, home))
        }

        // One inspect per session, for what only the engine holds (environment, limits, mounts).
        let details = Mutex<[SessionName: ContainerDetails]>([:])
        _ = await forEachConcurrently(candidates.filter { !$0.1.isEmpty }, width: 32) { name, owned, _, home in
            let detail = try await self.engines.client(named: home).inspectContainer(owned[0].id)
            details.withLock { $0[name] = detail }
        }
        let inspected = details.withLock { $0 }
        for (name, owned, ownedVolumes, home) in candidates {
            var (record, notes) = Self.rebuild(name, containers: owned, volumes: ownedVolumes, details: inspected[name])
            record.engine = home
            if record.agents.isEmpty {
                report.skipped.append((name.rawValue, "no container or volume names a valid agent role"))
                continue
            }
            var added = false
            if !dryRun {
                record.status = .ready
                added = try registry.insertIfAbsent(record)
                if !added { notes.append("registered by another process meanwhile; left as it is") }
            }
            report.sessions.append(RecoveredSession(record: record, added: added, notes: notes))
        }
        return report
    }

    /// Builds a row from the labels of a session's containers and volumes and one container's details.
    static func rebuild(
        _ name: SessionName, containers: [ContainerSummary], volumes: [Volume], details: ContainerDetails?
    ) -> (SessionRecord, [String]) {
        var notes: [String] = []
        let allLabels = containers.map(\.labels) + volumes.map(\.labels)
        func label(_ key: String) -> String? { allLabels.lazy.compactMap { $0[key] }.first }

        var roles: [AgentRole: (position: Int?, container: ContainerSummary?, volume: Volume?)] = [:]
        for container in containers {
            guard let role = container.labels[OwnershipLabels.role].flatMap(AgentRole.init(rawValue:)) else {
                notes.append("container \(container.name) has no valid role label; left out")
                continue
            }
            roles[role, default: (nil, nil, nil)].container = container
            roles[role]!.position =
                container.labels[RecoveryLabels.position].flatMap { Int($0) } ?? roles[role]!.position
        }
        // Volumes at the image's VOLUME paths name their path; the rest are state volumes.
        let imageVolumeTargets = Set(volumes.compactMap { $0.labels[RecoveryLabels.volumeTarget] }).sorted()
        for volume in volumes where volume.labels[RecoveryLabels.volumeTarget] == nil {
            guard let role = volume.labels[OwnershipLabels.role].flatMap(AgentRole.init(rawValue:)) else { continue }
            roles[role, default: (nil, nil, nil)].volume = volume
            roles[role]!.position = roles[role]!.position ?? volume.labels[RecoveryLabels.position].flatMap { Int($0) }
        }
        let ordered = roles.sorted { ($0.value.position ?? Int.max, $0.key) < ($1.value.position ?? Int.max, $1.key) }
        let agents = ordered.enumerated().map { index, entry in
            AgentRecord(
                role: entry.key,
                containerName: entry.value.container?.name ?? SessionManager.containerName(name, entry.key),
                containerID: entry.value.container?.id,
                stateVolume: entry.value.volume?.name ?? SessionManager.volumeName(name, entry.key),
                model: nil, tmuxWindow: entry.key.rawValue, position: entry.value.position ?? index)
        }

        let createdAt =
            label(RecoveryLabels.createdAt).flatMap(Double.init)
            ?? label(RecoveryLabels.createdSeconds).flatMap(Double.init)
            ?? containers.map(\.created.timeIntervalSince1970).min() ?? Date().timeIntervalSince1970
        let created = Date(timeIntervalSince1970: createdAt)
        let stateDirectory = label(RecoveryLabels.stateDirectory) ?? SessionRecord.defaultStateDirectory
        var record = SessionRecord(
            name: name, tmuxSession: label(RecoveryLabels.tmuxSession) ?? name.rawValue, createdAt: created,
            updatedAt: created, image: label(RecoveryLabels.image) ?? details?.image ?? containers.first?.image ?? "",
            agentCommand: label(RecoveryLabels.agentCommand) ?? "claude",
            config: imageVolumeTargets.isEmpty
                ? ["stateDirectory": .string(stateDirectory)]
                : ["stateDirectory": .string(stateDirectory), "imageVolumes": JSONValue(strings: imageVolumeTargets)],
            status: .ready, agents: agents)
        let lostToMasking = SecretMasking.maskedNames(inCommand: record.agentCommand)
        if !lostToMasking.isEmpty {
            notes.append(
                "the agent command was labelled with \(lostToMasking.joined(separator: ", ")) masked, so the record holds \(SecretMasking.marker) in place of the secret; put the real command back with `ccorc export \(name) --include-secrets --output FILE`, editing registry.agentCommand in FILE, then `ccorc import --force FILE`"
            )
        }
        if let details {
            record.memoryBytes = details.memory > 0 ? details.memory : nil
            record.nanoCPUs = details.nanoCPUs > 0 ? details.nanoCPUs : nil
            record.networkMode = ["", "default"].contains(details.networkMode) ? nil : details.networkMode
            let workingDirectory = details.labels[RecoveryLabels.workingDirectory] ?? details.workingDirectory
            record.workingDirectory = workingDirectory.isEmpty ? nil : workingDirectory
            let keys = Set(
                (details.labels[RecoveryLabels.environmentKeys] ?? "").split(separator: ",").map(String.init))
            record.environment = details.environment.filter {
                keys.contains(String($0.split(separator: "=", maxSplits: 1).first ?? ""))
            }
            let stateVolumes = Set(
                agents.map(\.stateVolume) + volumes.filter { $0.labels[RecoveryLabels.volumeTarget] != nil }.map(\.name)
            )
            record.mounts = (details.raw["HostConfig"]?["Mounts"]?.array ?? []).compactMap { mount in
                guard let source = mount["Source"]?.string, let target = mount["Target"]?.string,
                    !stateVolumes.contains(source)
                else { return nil }
                return source + ":" + target + (mount["ReadOnly"]?.bool == true ? ":ro" : "")
            }
        } else {
            notes.append(
                "no container is left, so the environment, limits and mounts are unknown; the record holds the defaults"
            )
        }
        return (record, notes)
    }
}
