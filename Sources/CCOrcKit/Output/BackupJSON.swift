// The JSON shapes of an import's outcome and of a registry recovery (`ccorc_import` and
// `ccorc_recover` in the C interface).

extension ImportedSession {
    /// `{"name","replaced","createdContainers","createdVolumes","warnings"}`.
    public var jsonValue: JSONValue {
        [
            "name": .string(name.rawValue), "replaced": .bool(replaced),
            "createdContainers": JSONValue(strings: createdContainers),
            "createdVolumes": JSONValue(strings: createdVolumes), "warnings": JSONValue(strings: warnings),
        ]
    }

    /// `{"imported":[...]}` for the sessions of one import.
    public static func jsonValue(_ sessions: [ImportedSession]) -> JSONValue {
        ["imported": .array(sessions.map(\.jsonValue))]
    }
}

extension RecoveredSession {
    /// `{"name","added","image","tmuxSession","agents":[{"role","container","volume"}],"notes"}`.
    public var jsonValue: JSONValue {
        [
            "name": .string(record.name.rawValue), "added": .bool(added), "image": .string(record.image),
            "tmuxSession": .string(record.tmuxSession),
            "agents": .array(
                record.agents.map { agent in
                    [
                        "role": .string(agent.role.rawValue), "container": .string(agent.containerName),
                        "volume": .string(agent.stateVolume),
                    ]
                }),
            "notes": JSONValue(strings: notes),
        ]
    }
}

extension RecoveryReport {
    /// `{"sessions":[...],"alreadyRegistered":[NAME],"skipped":[{"label","reason"}]}`, and
    /// `"warnings":[{"row","reason","message","fix"}]` when damaged registry rows were found.
    public var jsonValue: JSONValue {
        var output: [String: JSONValue] = [
            "sessions": .array(sessions.map(\.jsonValue)),
            "alreadyRegistered": JSONValue(strings: alreadyRegistered.map(\.rawValue)),
            "skipped": .array(skipped.map { ["label": .string($0.label), "reason": .string($0.reason)] }),
        ]
        if !damaged.isEmpty { output["warnings"] = .array(damaged.map(\.jsonValue)) }
        return .object(output)
    }
}
