// The documented `--json` shapes of a cleanup plan and its report.

extension CleanupPlan {
    /// `{"sessions":[{"name","action","running","containers","volumes","tmux","disk","blocker","legacyContainers"}],
    /// "orphans":{"containers","volumes"},"unknown","skipped":[{"name","reason"}],"totals":{...}}`,
    /// and `"warnings":[{"row","reason","message","fix"}]` when damaged registry rows were skipped.
    public var jsonValue: JSONValue {
        let removals = items.filter { $0.action == .remove }
        var output: JSONValue = [
            "sessions": .array(
                items.map { item in
                    [
                        "name": .string(item.name.rawValue), "action": .string(item.action.rawValue),
                        "running": .int(Int64(item.runningCount)),
                        "containers": JSONValue(strings: item.containers.map(\.name)),
                        "volumes": JSONValue(strings: item.volumes),
                        "tmux": item.status.tmux.map { .string($0.name) } ?? .null,
                        "disk": JSONValue(measuredDisk ? item.diskBytes : nil),
                        "missing": JSONValue(strings: item.status.missingAgents.map(\.record.containerName)),
                        "blocker": item.blocker.map { .string($0) } ?? .null,
                        "legacyContainers": JSONValue(strings: item.legacyContainers.map(\.name)),
                    ]
                }),
            "orphans": [
                "containers": JSONValue(strings: orphanContainers.map(\.name)),
                "volumes": JSONValue(strings: orphanVolumes.map(\.name)),
            ],
            "unknown": JSONValue(strings: unknownNames.map(\.rawValue)),
            "skipped": .array(skipped.map { ["name": .string($0.name.rawValue), "reason": .string($0.reason)] }),
            "totals": [
                "sessions": .int(Int64(items.count)), "containers": .int(Int64(containersToRemove)),
                "volumes": .int(Int64(removals.reduce(orphanVolumes.count) { $0 + $1.volumes.count })),
                "tmux": .int(Int64(removals.filter { $0.status.tmux != nil }.count)), "disk": JSONValue(diskBytes),
            ],
        ]
        if !damaged.isEmpty, case .object(var fields) = output {
            fields["warnings"] = .array(damaged.map(\.jsonValue))
            output = .object(fields)
        }
        return output
    }
}

extension CleanupResult {
    /// `{"subject","name","outcome","detail","containers","volumes"}`; `detail` is the reason,
    /// the error or the repair notes.
    public var jsonValue: JSONValue {
        let (outcome, detail): (String, JSONValue) =
            switch self.outcome {
            case .removed: ("removed", .null)
            case .repaired(let notes): ("repaired", JSONValue(strings: notes))
            case .skipped(let reason): ("skipped", .string(reason))
            case .failed(let message): ("failed", .string(message))
            }
        return [
            "subject": .string(subject.rawValue), "name": .string(name), "outcome": .string(outcome), "detail": detail,
            "containers": .int(Int64(containersRemoved)), "volumes": .int(Int64(volumesRemoved)),
        ]
    }
}

extension CleanupReport {
    /// `{"results":[...],"counts":{"removed","repaired","skipped","failed","containers","volumes"},"interrupted","seconds"}`.
    public var jsonValue: JSONValue {
        let counts = self.counts
        return [
            "results": .array(results.map(\.jsonValue)),
            "counts": [
                "removed": .int(Int64(counts.removed)), "repaired": .int(Int64(counts.repaired)),
                "skipped": .int(Int64(counts.skipped)),
                "failed": .int(Int64(counts.failed)), "containers": .int(Int64(containersRemoved)),
                "volumes": .int(Int64(volumesRemoved)),
            ],
            "interrupted": .bool(interrupted), "seconds": .double(elapsed),
        ]
    }
}
