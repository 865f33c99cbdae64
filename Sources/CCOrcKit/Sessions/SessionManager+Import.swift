import FoundationEssentials

/// An export file that cannot be imported; nothing was changed.
public struct ExportFileError: Error, CustomStringConvertible, Sendable {
    /// The one-line message, naming the file.
    public var description: String

    init(_ source: String, _ message: String) {
        description = "\(source): \(message)"
    }
}

/// One session read back from an export file.
public struct ExportedSession: Sendable {
    /// The file it came from.
    public var source: String
    /// The registry row, exactly as exported.
    public var record: SessionRecord
    /// The container of each agent as the engine had it, by role; absent for a container that was
    /// already missing at export (import then recreates it from the row).
    public var containers: [AgentRole: ContainerSpec]
    /// The state volumes: name, driver and labels.
    public var volumes: [(name: String, driver: String, labels: [String: String])]
    /// Variables whose values were masked, by container name (and `""` for the row's
    /// environment); a container's list also names what was masked in its cmd or entrypoint.
    public var maskedVariables: [String: [String]]
    /// What was masked in the row's agent command (inline assignments by name, else `a value`).
    public var maskedInAgentCommand: [String] = []
}

extension ExportedSession {
    /// What was masked in the agent command, for messages: `NAME in the agent command`.
    var agentCommandMaskNotes: [String] { maskedInAgentCommand.map { "\($0) in the agent command" } }
}

/// What `import` did for one session.
public struct ImportedSession: Sendable {
    /// The session.
    public var name: SessionName
    /// Whether an existing row was replaced (`--force`).
    public var replaced: Bool
    /// Containers and volumes created (`--create`).
    public var createdContainers: [String]
    public var createdVolumes: [String]
    /// Things the user should know (masked values kept in the row).
    public var warnings: [String]
}

extension SessionManager {
    // MARK: - Reading an export

    /// Reads an export file's bytes, checking everything an import needs before anything changes.
    /// - Parameter source: the file's name, for messages.
    public static func parseExport(_ bytes: [UInt8], source: String) throws(ExportFileError) -> [ExportedSession] {
        let document: JSONValue
        do {
            document = try JSONValue.parse(bytes)
        } catch {
            throw ExportFileError(source, "not a ccorc export: the JSON is truncated or damaged (\(error.message))")
        }
        guard document["format"]?.string == SessionExportFormat.format else {
            throw ExportFileError(source, "not a ccorc export (no \"format\": \"\(SessionExportFormat.format)\")")
        }
        guard let version = document["schemaVersion"]?.int else {
            throw ExportFileError(source, "not a ccorc export (no schemaVersion)")
        }
        guard version == SessionExportFormat.schemaVersion else {
            throw ExportFileError(
                source,
                "export schema version \(version) is not supported; this ccorc reads version \(SessionExportFormat.schemaVersion)"
            )
        }
        guard let sessions = document["sessions"]?.array else {
            throw ExportFileError(source, "export without a \"sessions\" list")
        }
        var result: [ExportedSession] = []
        for (index, session) in sessions.enumerated() {
            do {
                result.append(try exportedSession(session, source: source))
            } catch {
                throw ExportFileError(
                    source, "session \(index + 1) (\(session["name"]?.string ?? "unnamed")): \(error.reason)")
            }
        }
        return result
    }

    private static func exportedSession(_ value: JSONValue, source: String) throws(EntryError) -> ExportedSession {
        guard let row = value["registry"], row.object != nil else { throw EntryError("no registry entry") }
        func string(_ object: JSONValue, _ key: String) throws(EntryError) -> String {
            guard let text = object[key]?.string else { throw EntryError("\(key) missing or not a string") }
            return text
        }
        func optionalString(_ object: JSONValue, _ key: String) -> String? { object[key]?.string }
        func strings(_ object: JSONValue, _ key: String) throws(EntryError) -> [String] {
            guard let items = object[key]?.array, items.allSatisfy({ $0.string != nil }) else {
                throw EntryError("\(key) missing or not a list of strings")
            }
            return items.map { $0.string! }
        }
        let rawName = try string(row, "name")
        guard let name = SessionName(rawValue: rawName) else {
            throw EntryError("invalid session name \(rawName.debugDescription)")
        }
        guard let status = SessionRecord.Status(rawValue: try string(row, "status")) else {
            throw EntryError("unknown status")
        }
        guard let created = row["createdAt"]?.double, let updated = row["updatedAt"]?.double else {
            throw EntryError("createdAt or updatedAt missing")
        }
        guard let agentValues = row["agents"]?.array else { throw EntryError("agents missing") }
        var agents: [AgentRecord] = []
        for agent in agentValues {
            let rawRole = try string(agent, "role")
            guard let role = AgentRole(rawValue: rawRole) else {
                throw EntryError("invalid agent role \(rawRole.debugDescription)")
            }
            guard !agents.contains(where: { $0.role == role }) else { throw EntryError("agent \(role) listed twice") }
            agents.append(
                AgentRecord(
                    role: role, containerName: try string(agent, "containerName"),
                    containerID: optionalString(agent, "containerId"),
                    stateVolume: try string(agent, "stateVolume"), model: optionalString(agent, "model"),
                    tmuxWindow: optionalString(agent, "tmuxWindow"),
                    position: Int(agent["position"]?.int ?? Int64(agents.count))))
        }
        let environment = try strings(row, "environment")
        let record = SessionRecord(
            name: name, tmuxSession: try string(row, "tmuxSession"), createdAt: Date(timeIntervalSince1970: created),
            updatedAt: Date(timeIntervalSince1970: updated),
            lastResumedAt: row["lastResumedAt"]?.double.map(Date.init(timeIntervalSince1970:)),
            image: try string(row, "image"), agentCommand: try string(row, "agentCommand"),
            memoryBytes: row["memoryBytes"]?.int,
            nanoCPUs: row["nanoCpus"]?.int, networkMode: optionalString(row, "networkMode"),
            mounts: try strings(row, "mounts"),
            environment: environment, workingDirectory: optionalString(row, "workingDirectory"),
            config: row["config"] ?? [:],
            status: status, agents: agents)

        var masked: [String: [String]] = [:]
        let maskedInRow = SecretMasking.maskedNames(inEnvironment: environment)
        if !maskedInRow.isEmpty { masked[""] = maskedInRow }
        var containers: [AgentRole: ContainerSpec] = [:]
        for entry in value["containers"]?.array ?? [] {
            guard entry["missing"]?.bool == false, let config = entry["config"] else { continue }
            let rawRole = try string(entry, "role")
            guard let role = AgentRole(rawValue: rawRole), agents.contains(where: { $0.role == role }) else {
                throw EntryError("container of unknown agent \(rawRole.debugDescription)")
            }
            var spec = ContainerSpec(image: try string(config, "image"), name: try string(entry, "name"))
            spec.command = config["cmd"]?.stringArray
            spec.entrypoint = config["entrypoint"]?.stringArray
            spec.environment = try strings(config, "env")
            spec.labels = config["labels"]?.stringMap ?? [:]
            spec.workingDirectory = optionalString(config, "workingDir").flatMap { $0.isEmpty ? nil : $0 }
            spec.user = optionalString(config, "user").flatMap { $0.isEmpty ? nil : $0 }
            spec.tty = config["tty"]?.bool ?? false
            spec.openStdin = config["openStdin"]?.bool ?? false
            spec.stdinOnce = config["stdinOnce"]?.bool ?? false
            spec.memory = config["memory"]?.int.flatMap { $0 > 0 ? $0 : nil }
            spec.memorySwap = config["memorySwap"]?.int.flatMap { $0 != 0 ? $0 : nil }
            spec.nanoCPUs = config["nanoCpus"]?.int.flatMap { $0 > 0 ? $0 : nil }
            spec.networkMode = optionalString(config, "networkMode").flatMap { $0.isEmpty ? nil : $0 }
            spec.binds = config["binds"]?.stringArray ?? []
            spec.mounts = try (config["mounts"]?.array ?? []).map { mount throws(EntryError) in
                guard let kind = MountSpec.Kind(rawValue: try string(mount, "type")) else {
                    throw EntryError("unsupported mount type")
                }
                return MountSpec(
                    kind: kind, source: try string(mount, "source"), target: try string(mount, "target"),
                    readOnly: mount["readOnly"]?.bool ?? false)
            }
            switch config["restartPolicy"]?["name"]?.string ?? "" {
            case "always": spec.restartPolicy = .always
            case "unless-stopped": spec.restartPolicy = .unlessStopped
            case "on-failure":
                spec.restartPolicy = .onFailure(
                    maximumRetries: Int(config["restartPolicy"]?["maximumRetryCount"]?.int ?? 0))
            case "no": spec.restartPolicy = .no
            default: spec.restartPolicy = nil
            }
            let inCommand = ((spec.entrypoint ?? []) + (spec.command ?? [])).flatMap(
                SecretMasking.maskedNames(inCommand:))
            let maskedInContainer =
                SecretMasking.maskedNames(inEnvironment: spec.environment) + inCommand.map { "\($0) in the command" }
            if !maskedInContainer.isEmpty { masked[spec.name ?? ""] = maskedInContainer }
            containers[role] = spec
        }
        let volumes = (value["volumes"]?.array ?? []).compactMap { volume -> (String, String, [String: String])? in
            guard volume["missing"]?.bool == false, let volumeName = volume["name"]?.string else { return nil }
            return (volumeName, volume["driver"]?.string ?? "local", volume["labels"]?.stringMap ?? [:])
        }
        return ExportedSession(
            source: source, record: record, containers: containers, volumes: volumes, maskedVariables: masked,
            maskedInAgentCommand: SecretMasking.maskedNames(inCommand: record.agentCommand))
    }

    // MARK: - Import

    /// Registers exported sessions and, with `create`, creates their missing containers and
    /// volumes exactly as exported (a container missing at export is made from the row, as
    /// launch would). Everything is checked first: an existing name without `force`, a name taken
    /// twice, a container to create whose secrets were masked, or a container name held by
    /// something else fails the whole import with nothing changed. A session whose creation
    /// fails is rolled back completely, and so are the sessions imported before it: all or nothing.
    public func importSessions(
        _ sessions: [ExportedSession], create: Bool, force: Bool
    ) async throws -> [ImportedSession] {
        var seen: [SessionName: String] = [:]
        for session in sessions {
            if let other = seen[session.record.name] {
                throw SessionError(
                    .alreadyExists, "session \(session.record.name) is in both \(other) and \(session.source)")
            }
            seen[session.record.name] = session.source
        }
        let registered = Set(try registry.allSessions().map(\.name))
        if !force, let taken = sessions.first(where: { registered.contains($0.record.name) }) {
            throw SessionError(
                .alreadyExists,
                "session \(taken.record.name) already exists (from \(taken.source)); pass --force to replace its registry entry"
            )
        }
        var existingContainers: [String: ContainerSummary] = [:]
        var existingVolumes = Set<String>()
        if create {
            async let volumeList = engine.listVolumes()
            for container in try await engine.listContainers(all: true) {
                existingContainers[container.name] = container
            }
            existingVolumes = Set(try await volumeList.map(\.name))
            for session in sessions {
                for agent in session.record.agents {
                    if let holder = existingContainers[agent.containerName],
                        holder.labels[OwnershipLabels.session] != session.record.name.rawValue, !session.record.isLegacy
                    {
                        throw SessionError(
                            .alreadyExists,
                            "container \(agent.containerName) of session \(session.record.name) exists but belongs to \(holder.labels[OwnershipLabels.session].map { "session \($0)" } ?? "no ccorc session"); remove or rename it first"
                        )
                    }
                    let spec = session.containers[agent.role]
                    // A container made from its exported config gets that config's values; one
                    // made from the row, the row's environment. Either way the agent command
                    // runs in it.
                    let masked =
                        (spec.map { session.maskedVariables[$0.name ?? ""] ?? [] } ?? session.maskedVariables[""] ?? [])
                        + session.agentCommandMaskNotes
                    if existingContainers[agent.containerName] == nil, !masked.isEmpty {
                        throw SessionError(
                            .stepFailed,
                            "\(session.source): session \(session.record.name) was exported with its secrets masked (\(masked.joined(separator: ", "))); export it again with --include-secrets to recreate container \(agent.containerName)"
                        )
                    }
                }
            }
        }

        var imported: [ImportedSession] = []
        // The rows that imported sessions replaced, to put back if a later session fails.
        var replacedRows: [SessionName: SessionRecord] = [:]
        do {
            for session in sessions {
                if registered.contains(session.record.name), let row = try registry.session(named: session.record.name)
                {
                    replacedRows[session.record.name] = row
                }
                imported.append(
                    try await importOne(
                        session, create: create, replacing: registered.contains(session.record.name),
                        existingContainers: existingContainers, existingVolumes: existingVolumes))
            }
        } catch {
            // All or nothing: undo the sessions imported before the one that failed.
            for result in imported.reversed() {
                _ = await forEachConcurrently(result.createdContainers) {
                    try await self.engine.removeContainer($0, force: true, volumes: true)
                }
                _ = await forEachConcurrently(result.createdVolumes) {
                    try await self.engine.removeVolume($0, force: true)
                }
                if let row = replacedRows[result.name] {
                    try? registry.commit(row)
                } else {
                    _ = try? registry.remove([result.name])
                }
            }
            throw error
        }
        return imported
    }

    /// Imports one checked session (see `importSessions`); on failure removes what it made.
    private func importOne(
        _ session: ExportedSession, create: Bool, replacing: Bool, existingContainers: [String: ContainerSummary],
        existingVolumes: Set<String>
    ) async throws -> ImportedSession {
        var record = session.record
        var result = ImportedSession(
            name: record.name, replaced: replacing, createdContainers: [], createdVolumes: [], warnings: [])
        let masked = (session.maskedVariables[""] ?? []) + session.agentCommandMaskNotes
        if !masked.isEmpty {
            result.warnings.append(
                "the registry entry keeps the masked values of \(masked.joined(separator: ", ")); a container or agent window made from it gets \(SessionExportFormat.maskedValue)"
            )
        }
        guard create else {
            if replacing {
                try registry.commit(record)
            } else if !(try registry.insertIfAbsent(record)) {
                throw SessionError(.alreadyExists, "session \(record.name) already exists")
            }
            return result
        }
        if !replacing {
            do {
                try registry.claim(record)
            } catch {
                if error.code == .alreadyExists {
                    throw SessionError(.alreadyExists, "session \(record.name) already exists")
                }
                throw error
            }
        }
        do {
            let mounts = try record.mounts.map(MountSpec.init(parsing:))
            for volume in session.volumes where !existingVolumes.contains(volume.name) {
                // Labels never carry secrets, even from an export of containers labelled before they were masked.
                _ = try await engine.createVolume(
                    name: volume.name, labels: SecretMasking.maskLabels(volume.labels), driver: volume.driver)
                result.createdVolumes.append(volume.name)
            }
            // Each image's ID is looked up once: agents share their session's image.
            var imageIDs: [String: String] = [:]
            for index in record.agents.indices where existingContainers[record.agents[index].containerName] == nil {
                let agent = record.agents[index]
                if !agent.stateVolume.isEmpty, !existingVolumes.contains(agent.stateVolume),
                    !result.createdVolumes.contains(agent.stateVolume)
                {
                    _ = try await engine.createVolume(
                        name: agent.stateVolume, labels: AgentLabels.labels(record, agent))
                    result.createdVolumes.append(agent.stateVolume)
                }
                var spec = session.containers[agent.role] ?? containerSpec(record, agent, mounts: mounts)
                // Created from the image's ID, as launch does; a missing image is the engine's to report.
                if imageIDs[spec.image] == nil {
                    imageIDs[spec.image] = try await engine.imageID(spec.image) ?? spec.image
                }
                spec.image = imageIDs[spec.image]!
                spec.labels = SecretMasking.maskLabels(spec.labels)
                record.agents[index].containerID = try await engine.createContainer(spec)
                result.createdContainers.append(agent.containerName)
            }
            try registry.commit(record)
        } catch {
            _ = await forEachConcurrently(result.createdContainers) {
                try await self.engine.removeContainer($0, force: true, volumes: true)
            }
            _ = await forEachConcurrently(result.createdVolumes) { try await self.engine.removeVolume($0, force: true) }
            if !replacing { _ = try? registry.release(record.name) }
            throw SessionError(.stepFailed, "import \(record.name): creating its containers failed: \(error)")
        }
        return result
    }
}
