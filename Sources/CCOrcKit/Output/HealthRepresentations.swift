// The documented `ccorc health --json` shape, shared with the C ABI.

extension HealthIssue {
    /// `{"severity","subject","message","fix"}`.
    public var jsonValue: JSONValue {
        [
            "severity": .string(severity.rawValue), "subject": .string(subject), "message": .string(message),
            "fix": fix.map { .string($0) } ?? .null,
        ]
    }
}

extension ContainerProcess {
    /// `{"pid","ppid","command"}`, the command line masked by `SecretMasking` (`sh -c AGENT_COMMAND`
    /// carries the agent command's inline assignments).
    public var jsonValue: JSONValue {
        [
            "pid": .int(Int64(pid)), "ppid": .int(Int64(parentPID)),
            "command": JSONValue(strings: SecretMasking.maskArguments(commandLine)),
        ]
    }
}

extension ContainerHealth {
    /// `{"role","name","id","state","exitCode","oomKilled","oomKills","restartCount","startedAt","finishedAt",
    /// "memoryUsage","memoryLimit","cpuSeconds","usageSource","agentRunning","agentProcesses","stateDirectory",
    /// "stateDirectoryExists","volume","volumeExists"}`; unknown values are null.
    public var jsonValue: JSONValue {
        func optional(_ value: Bool?) -> JSONValue { value.map { .bool($0) } ?? .null }
        return [
            "role": .string(role.rawValue), "name": .string(name), "id": id.map { .string($0) } ?? .null,
            "state": .string(state),
            "exitCode": JSONValue(exitCode.map(Int64.init)), "oomKilled": optional(oomKilled),
            "oomKills": JSONValue(oomKills),
            "restartCount": JSONValue(restartCount.map(Int64.init)), "startedAt": JSONValue(date: startedAt),
            "finishedAt": JSONValue(date: finishedAt), "memoryUsage": JSONValue(usage?.memoryUsage),
            "memoryLimit": JSONValue(usage?.memoryLimit),
            "cpuSeconds": usage.map { .double(Double($0.cpuUsageNanoseconds) / 1e9) } ?? .null,
            "usageSource": usage.map { .string($0.source.rawValue) } ?? .null,
            "agentRunning": optional(agentRunning), "agentProcesses": .array(agentProcesses.map(\.jsonValue)),
            "stateDirectory": stateDirectory.map { .string($0) } ?? .null,
            "stateDirectoryExists": optional(stateDirectoryExists),
            "volume": volume.isEmpty ? .null : .string(volume), "volumeExists": optional(volumeExists),
        ]
    }
}

extension WindowHealth {
    /// `{"role","window","present","paneId","dead","exitStatus","command","runsAgentShell"}`.
    public var jsonValue: JSONValue {
        [
            "role": .string(role.rawValue), "window": .string(window), "present": .bool(present),
            "paneId": paneID.map { .string($0) } ?? .null, "dead": paneDead.map { .bool($0) } ?? .null,
            "exitStatus": JSONValue(exitStatus.map(Int64.init)), "command": currentCommand.map { .string($0) } ?? .null,
            "runsAgentShell": runsAgentShell.map { .bool($0) } ?? .null,
        ]
    }
}

extension TmuxHealth {
    /// `{"session","present","id","windowCount","attachedClients","windows","extraWindows"}`.
    public var jsonValue: JSONValue {
        [
            "session": .string(session), "present": .bool(present), "id": id.map { .string($0) } ?? .null,
            "windowCount": .int(Int64(windowCount)), "attachedClients": .int(Int64(attachedClients)),
            "windows": .array(windows.map(\.jsonValue)), "extraWindows": JSONValue(strings: extraWindows),
        ]
    }
}

extension SessionHealth {
    /// `{"name","verdict","condition","issues","containers","tmux"}`.
    public var jsonValue: JSONValue {
        [
            "name": .string(name.rawValue), "verdict": .string(verdict.rawValue),
            "condition": .string(condition.rawValue),
            "issues": .array(issues.map(\.jsonValue)),
            "containers": .array(containers.map(\.jsonValue)), "tmux": tmux.jsonValue,
        ]
    }
}

extension HealthReport {
    /// `{"checkedAt","verdict","engineRequests","sessions"}`, and `"warnings"` when damaged
    /// registry rows were skipped.
    public var jsonValue: JSONValue {
        var output: [String: JSONValue] = [
            "checkedAt": JSONValue(date: checkedAt), "verdict": .string(verdict.rawValue),
            "engineRequests": .int(Int64(engineRequests)), "sessions": .array(sessions.map(\.jsonValue)),
        ]
        if !damaged.isEmpty { output["warnings"] = .array(damaged.map(\.jsonValue)) }
        return .object(output)
    }
}
