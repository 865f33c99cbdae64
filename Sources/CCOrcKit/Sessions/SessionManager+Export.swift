import FoundationEssentials
import Synchronization

/// The export file: `{"format": "ccorc-export", "schemaVersion": 1, "exportedAt", "secretsMasked",
/// "sessions": [SESSION...]}`, where a SESSION holds the registry row exactly (`registry`), each
/// agent's container as the engine has it (`containers`: config and live state), the state
/// volumes (`volumes`) and the tmux session at export time (`tmux`).
public enum SessionExportFormat {
    /// The value of `format` that marks a file as ours.
    public static let format = "ccorc-export"
    /// The schema this ccorc writes and reads.
    public static let schemaVersion: Int64 = 1
    /// What a masked value, or the masked part of one, is replaced with (`SecretMasking.marker`).
    public static let maskedValue = SecretMasking.marker

    /// `K=V` entries masked by `SecretMasking` unless `includeSecrets`.
    static func environment(_ entries: [String], includeSecrets: Bool) -> JSONValue {
        JSONValue(strings: includeSecrets ? entries : SecretMasking.maskEnvironment(entries))
    }

    /// A command line (the agent command) masked by `SecretMasking` unless `includeSecrets`.
    static func command(_ command: String, includeSecrets: Bool) -> JSONValue {
        .string(includeSecrets ? command : SecretMasking.maskCommand(command))
    }

    /// A container's cmd or entrypoint as the engine has it (a list, or null), masked unless
    /// `includeSecrets`.
    static func arguments(_ value: JSONValue?, includeSecrets: Bool) -> JSONValue {
        guard let arguments = value?.stringArray else { return value ?? .null }
        return JSONValue(strings: includeSecrets ? arguments : SecretMasking.maskArguments(arguments))
    }

    /// Labels (`K=V` in the export) masked unless `includeSecrets`.
    static func labels(_ labels: [String: String], includeSecrets: Bool) -> JSONValue {
        JSONValue(strings: includeSecrets ? labels : SecretMasking.maskLabels(labels))
    }

    /// A whole export file around `sessions` (as `SessionManager.export` returns them).
    public static func document(_ sessions: [JSONValue], includeSecrets: Bool, at date: Date = Date()) -> JSONValue {
        [
            "format": .string(format), "schemaVersion": .int(schemaVersion), "exportedAt": JSONValue(date: date),
            "secretsMasked": .bool(!includeSecrets), "sessions": .array(sessions),
        ]
    }
}

extension SessionManager {
    // MARK: - Export

    /// The export of `names` (every session for nil): each registry row with its containers as
    /// the engine has them, its volumes and its live state. One registry read, one engine list
    /// call each for containers and volumes, one inspect per existing container.
    public func export(_ names: [SessionName]?, includeSecrets: Bool = false) async throws -> [JSONValue] {
        try await exportWithDamage(names, includeSecrets: includeSecrets).sessions
    }

    /// `export(_:includeSecrets:)`, and the damaged registry rows left out of an export of every
    /// session (always empty for named sessions: a damaged named row is an error).
    public func exportWithDamage(
        _ names: [SessionName]?, includeSecrets: Bool = false
    ) async throws -> (sessions: [JSONValue], damaged: [DamagedRegistryRow]) {
        var records: [SessionRecord]
        var damaged: [DamagedRegistryRow] = []
        if let names {
            records = []
            for name in names {
                guard let record = try registry.session(named: name) else {
                    throw SessionError.sessionNotFound(name)
                }
                records.append(record)
            }
        } else {
            let rows = try registry.rows()
            records = rows.sessions
            damaged = rows.damaged
        }
        async let volumeList = engine.listVolumes(filters: ["label": [OwnershipLabels.session]])
        let statuses = try await status(of: records)
        var volumes: [String: Volume] = [:]
        for volume in try await volumeList { volumes[volume.name] = volume }
        let details = Mutex<[String: ContainerDetails]>([:])
        let failures = await forEachConcurrently(statuses.flatMap { $0.agents.compactMap(\.container?.id) }, width: 32) { id in
            let detail = try await self.engine.inspectContainer(id)
            details.withLock { $0[id] = detail }
        }
        if let failure = failures.first(where: { $0.error != nil && ($0.error as? EngineError)?.code != .notFound }) {
            throw failure.error!
        }
        let inspected = details.withLock { $0 }
        let sessions = statuses.map { status in
            Self.exportValue(status, details: inspected, volumes: volumes, includeSecrets: includeSecrets)
        }
        return (sessions, damaged)
    }

    private static func exportValue(
        _ status: SessionStatus, details: [String: ContainerDetails], volumes: [String: Volume], includeSecrets: Bool
    ) -> JSONValue {
        let record = status.record
        let registry: JSONValue = [
            "name": .string(record.name.rawValue), "tmuxSession": .string(record.tmuxSession),
            "createdAt": .double(record.createdAt.timeIntervalSince1970), "updatedAt": .double(record.updatedAt.timeIntervalSince1970),
            "lastResumedAt": record.lastResumedAt.map { .double($0.timeIntervalSince1970) } ?? .null,
            "image": .string(record.image), "agentCommand": SessionExportFormat.command(record.agentCommand, includeSecrets: includeSecrets),
            "memoryBytes": JSONValue(record.memoryBytes), "nanoCpus": JSONValue(record.nanoCPUs),
            "networkMode": record.networkMode.map { .string($0) } ?? .null, "mounts": JSONValue(strings: record.mounts),
            "environment": SessionExportFormat.environment(record.environment, includeSecrets: includeSecrets),
            "workingDirectory": record.workingDirectory.map { .string($0) } ?? .null, "config": record.config,
            "status": .string(record.status.rawValue),
            "agents": .array(record.agents.map { agent in
                [
                    "role": .string(agent.role.rawValue), "containerName": .string(agent.containerName),
                    "containerId": agent.containerID.map { .string($0) } ?? .null, "stateVolume": .string(agent.stateVolume),
                    "model": agent.model.map { .string($0) } ?? .null, "tmuxWindow": agent.tmuxWindow.map { .string($0) } ?? .null,
                    "position": .int(Int64(agent.position)),
                ]
            }),
        ]
        let containers: [JSONValue] = status.agents.map { agent in
            var entry: [String: JSONValue] = ["role": .string(agent.record.role.rawValue), "name": .string(agent.record.containerName)]
            guard let id = agent.container?.id, let detail = details[id] else {
                entry["missing"] = true
                return .object(entry)
            }
            let config = detail.raw["Config"] ?? .null
            let host = detail.raw["HostConfig"] ?? .null
            entry["missing"] = false
            entry["id"] = .string(detail.id)
            entry["config"] = [
                // By name: the container itself was created from the image's ID.
                "image": .string(detail.imageName), "cmd": SessionExportFormat.arguments(config["Cmd"], includeSecrets: includeSecrets),
                "entrypoint": SessionExportFormat.arguments(config["Entrypoint"], includeSecrets: includeSecrets),
                "env": SessionExportFormat.environment(detail.environment, includeSecrets: includeSecrets),
                "labels": SessionExportFormat.labels(detail.labels, includeSecrets: includeSecrets),
                "workingDir": .string(detail.workingDirectory),
                "user": config["User"] ?? "", "tty": .bool(detail.tty), "openStdin": config["OpenStdin"] ?? false,
                "stdinOnce": config["StdinOnce"] ?? false, "memory": .int(detail.memory), "memorySwap": .int(detail.memorySwap),
                "nanoCpus": .int(detail.nanoCPUs), "networkMode": .string(detail.networkMode),
                "binds": host["Binds"] ?? .null,
                "mounts": .array((host["Mounts"]?.array ?? []).map { mount in
                    [
                        "type": mount["Type"] ?? "volume", "source": mount["Source"] ?? "", "target": mount["Target"] ?? "",
                        "readOnly": mount["ReadOnly"] ?? false,
                    ]
                }),
                "restartPolicy": [
                    "name": host["RestartPolicy"]?["Name"] ?? "", "maximumRetryCount": host["RestartPolicy"]?["MaximumRetryCount"] ?? 0,
                ],
            ]
            entry["live"] = [
                "state": .string(detail.state.rawValue), "exitCode": .int(Int64(detail.exitCode)), "oomKilled": .bool(detail.oomKilled),
                "startedAt": JSONValue(date: detail.startedAt), "finishedAt": JSONValue(date: detail.finishedAt),
                "restartCount": .int(Int64(detail.restartCount)),
            ]
            return .object(entry)
        }
        let volumeNames = record.agents.flatMap { SessionManager.volumeNames(record, $0) }
        let volumeEntries: [JSONValue] = volumeNames.map { name in
            guard let volume = volumes[name] else { return ["name": .string(name), "missing": true] }
            return [
                "name": .string(volume.name), "driver": .string(volume.driver),
                "labels": SessionExportFormat.labels(volume.labels, includeSecrets: includeSecrets), "missing": false,
            ]
        }
        return [
            "name": .string(record.name.rawValue), "registry": registry, "containers": .array(containers), "volumes": .array(volumeEntries),
            "tmux": status.tmux.map { ["session": .string($0.name), "id": .string($0.id), "windows": .int(Int64($0.windows))] } ?? .null,
        ]
    }
}
