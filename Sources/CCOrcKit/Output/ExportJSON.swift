import FoundationEssentials

// The JSON shapes of an export file (see `SessionExportFormat`): the document, one session, and
// the masking of the values that may hold secrets.

extension SessionExportFormat {
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

    /// `{"name","registry","containers","volumes","tmux"}`: one SESSION of the export file, the
    /// registry row exactly, each agent's container as the engine has it (`details`, by ID), the
    /// state volumes (`volumes`, by name) and the tmux session, masked unless `includeSecrets`.
    static func session(
        _ status: SessionStatus, details: [String: ContainerDetails], volumes: [String: Volume], includeSecrets: Bool
    ) -> JSONValue {
        let record = status.record
        let registry: JSONValue = [
            "name": .string(record.name.rawValue), "tmuxSession": .string(record.tmuxSession),
            "createdAt": .double(record.createdAt.timeIntervalSince1970),
            "updatedAt": .double(record.updatedAt.timeIntervalSince1970),
            "lastResumedAt": record.lastResumedAt.map { .double($0.timeIntervalSince1970) } ?? .null,
            "image": .string(record.image),
            "agentCommand": SessionExportFormat.command(record.agentCommand, includeSecrets: includeSecrets),
            "memoryBytes": JSONValue(record.memoryBytes), "nanoCpus": JSONValue(record.nanoCPUs),
            "networkMode": record.networkMode.map { .string($0) } ?? .null, "mounts": JSONValue(strings: record.mounts),
            "environment": SessionExportFormat.environment(record.environment, includeSecrets: includeSecrets),
            "workingDirectory": record.workingDirectory.map { .string($0) } ?? .null, "config": record.config,
            "status": .string(record.status.rawValue),
            "agents": .array(
                record.agents.map { agent in
                    [
                        "role": .string(agent.role.rawValue), "containerName": .string(agent.containerName),
                        "containerId": agent.containerID.map { .string($0) } ?? .null,
                        "stateVolume": .string(agent.stateVolume),
                        "model": agent.model.map { .string($0) } ?? .null,
                        "tmuxWindow": agent.tmuxWindow.map { .string($0) } ?? .null,
                        "position": .int(Int64(agent.position)),
                    ]
                }),
        ]
        let containers: [JSONValue] = status.agents.map { agent in
            var entry: [String: JSONValue] = [
                "role": .string(agent.record.role.rawValue), "name": .string(agent.record.containerName),
            ]
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
                "image": .string(detail.imageName),
                "cmd": SessionExportFormat.arguments(config["Cmd"], includeSecrets: includeSecrets),
                "entrypoint": SessionExportFormat.arguments(config["Entrypoint"], includeSecrets: includeSecrets),
                "env": SessionExportFormat.environment(detail.environment, includeSecrets: includeSecrets),
                "labels": SessionExportFormat.labels(detail.labels, includeSecrets: includeSecrets),
                "workingDir": .string(detail.workingDirectory),
                "user": config["User"] ?? "", "tty": .bool(detail.tty), "openStdin": config["OpenStdin"] ?? false,
                "stdinOnce": config["StdinOnce"] ?? false, "memory": .int(detail.memory),
                "memorySwap": .int(detail.memorySwap),
                "nanoCpus": .int(detail.nanoCPUs), "networkMode": .string(detail.networkMode),
                "binds": host["Binds"] ?? .null,
                "mounts": .array(
                    (host["Mounts"]?.array ?? []).map { mount in
                        [
                            "type": mount["Type"] ?? "volume", "source": mount["Source"] ?? "",
                            "target": mount["Target"] ?? "",
                            "readOnly": mount["ReadOnly"] ?? false,
                        ]
                    }),
                "restartPolicy": [
                    "name": host["RestartPolicy"]?["Name"] ?? "",
                    "maximumRetryCount": host["RestartPolicy"]?["MaximumRetryCount"] ?? 0,
                ],
            ]
            entry["live"] = [
                "state": .string(detail.state.rawValue), "exitCode": .int(Int64(detail.exitCode)),
                "oomKilled": .bool(detail.oomKilled),
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
            "name": .string(record.name.rawValue), "registry": registry, "containers": .array(containers),
            "volumes": .array(volumeEntries),
            "tmux": status.tmux.map {
                ["session": .string($0.name), "id": .string($0.id), "windows": .int(Int64($0.windows))]
            } ?? .null,
        ]
    }
}
