// The documented `--json` shapes of team sessions, shared by `ccorc` and the C ABI.

extension SessionStatus {
    /// `{"name","status","condition","created","updated","lastResumed","image","agentCommand","memory",
    /// "nanoCpus","running","total","engine","engineError","tmux","agents"}`: the documented SESSION
    /// shape; `"engine"` is the docker context the session lives on, `"engineError"` why it did
    /// not answer (else null). `"status"` is
    /// the registry row's (`ready`, `launching`), `"condition"` what the session is (see
    /// `SessionCondition`). `"agentCommand"` is masked by `SecretMasking`: the registry keeps it whole.
    public var jsonValue: JSONValue {
        [
            "name": .string(record.name.rawValue), "status": .string(record.status.rawValue),
            "condition": .string(condition.rawValue),
            "created": JSONValue(date: record.createdAt), "updated": JSONValue(date: record.updatedAt),
            "lastResumed": JSONValue(date: record.lastResumedAt), "image": .string(record.image),
            "agentCommand": .string(SecretMasking.maskCommand(record.agentCommand)),
            "memory": JSONValue(record.memoryBytes),
            "nanoCpus": JSONValue(record.nanoCPUs), "running": .int(Int64(runningCount)),
            "total": .int(Int64(agents.count)),
            "engine": record.engine.map { .string($0) } ?? .null,
            "engineError": engineProblem.map { .string($0) } ?? .null,
            "tmux": tmux.map {
                ["id": .string($0.id), "windows": .int(Int64($0.windows)), "attached": .int(Int64($0.attached))]
            } ?? .null,
            "agents": .array(
                agents.map { agent in
                    [
                        "role": .string(agent.record.role.rawValue), "container": .string(agent.record.containerName),
                        "containerId": agent.container.map { .string($0.id) } ?? .null, "state": .string(agent.state),
                        "volume": .string(agent.record.stateVolume),
                        "window": agent.record.tmuxWindow.map { .string($0) } ?? .null,
                    ]
                }),
        ]
    }
}

extension TmuxPane {
    /// `{"id","window","pid","dead","exitStatus","command"}`.
    public var jsonValue: JSONValue {
        [
            "id": .string(id), "window": .string(windowName), "pid": .int(Int64(pid)),
            "dead": .bool(isDead), "exitStatus": exitStatus.map { .int(Int64($0)) } ?? .null,
            "command": .string(currentCommand),
        ]
    }
}

extension SessionDetails {
    /// One SESSION with `"panes"` and `"volumes"` added (`ccorc info --json`).
    public var jsonValue: JSONValue {
        var object = status.jsonValue.object ?? [:]
        object["panes"] = .array(panes.map(\.jsonValue))
        object["volumes"] = JSONValue(strings: status.agents.map(\.record.stateVolume))
        return .object(object)
    }
}

extension SessionListing {
    /// `{"sessions": [SESSION...]}`, and `"orphans": [CONTAINER...]` when they were asked for
    /// (`ccorc list --json [--all]`), `"warnings": [WARNING...]` when damaged registry rows
    /// were skipped, and `"unreachableEngines": {NAME: REASON}` when engines did not answer.
    public var jsonValue: JSONValue {
        var output: [String: JSONValue] = ["sessions": .array(sessions.map(\.jsonValue))]
        if let orphans { output["orphans"] = .array(orphans.map(\.jsonValue)) }
        if !damaged.isEmpty { output["warnings"] = .array(damaged.map(\.jsonValue)) }
        if !unreachable.isEmpty { output["unreachableEngines"] = .object(unreachable.mapValues { .string($0) }) }
        return .object(output)
    }
}

extension DamagedRegistryRow {
    /// `{"row": KEY, "reason": REASON, "message": ONE LINE, "fix": "ccorc forget KEY"}`.
    public var jsonValue: JSONValue {
        .object([
            "row": .string(key), "reason": .string(reason), "message": .string(warning), "fix": .string(forgetCommand),
        ])
    }
}
