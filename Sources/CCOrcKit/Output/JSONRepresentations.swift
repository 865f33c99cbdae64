import FoundationEssentials

// The documented `--json` shapes of the driver's values, shared by both CLIs and the C ABI so
// that they cannot drift apart. Keys are lowerCamelCase; times are RFC 3339 strings.

extension JSONValue {
    /// An RFC 3339 time, or null.
    public init(date: Date?) {
        guard let date else {
            self = .null
            return
        }
        self = .string(RFC3339.format(date))
    }

    /// An optional integer, or null.
    public init(_ number: Int64?) {
        self = number.map { .int($0) } ?? .null
    }
}

extension ContainerSummary {
    /// `{"id","name","image","state","status","created","labels","session","role"}`; `image` by name
    /// (see `imageName`), label values masked by `SecretMasking` (containers labelled before
    /// labels were masked carry the agent command whole).
    public var jsonValue: JSONValue {
        [
            "id": .string(id), "name": .string(name), "image": .string(imageName), "state": .string(state.rawValue),
            "status": .string(status), "created": JSONValue(date: created),
            "labels": JSONValue(strings: SecretMasking.maskLabels(labels)),
            "session": labels[OwnershipLabels.session].map { .string($0) } ?? .null,
            "role": labels[OwnershipLabels.role].map { .string($0) } ?? .null,
        ]
    }
}

extension ContainerDetails {
    /// The container's state, config and limits; command, environment and labels masked by
    /// `SecretMasking` (the engine's own inspect has them whole).
    public var jsonValue: JSONValue {
        [
            "id": .string(id), "name": .string(name), "image": .string(imageName), "imageId": .string(imageID),
            "created": JSONValue(date: created), "state": .string(state.rawValue), "pid": .int(Int64(pid)),
            "exitCode": .int(Int64(exitCode)), "oomKilled": .bool(oomKilled), "error": .string(error),
            "startedAt": JSONValue(date: startedAt), "finishedAt": JSONValue(date: finishedAt),
            "restartCount": .int(Int64(restartCount)),
            "command": JSONValue(strings: SecretMasking.maskArguments(command)),
            "env": JSONValue(strings: SecretMasking.maskEnvironment(environment)),
            "labels": JSONValue(strings: SecretMasking.maskLabels(labels)),
            "workingDir": .string(workingDirectory), "tty": .bool(tty),
            "memory": memory > 0 ? .int(memory) : .null, "memorySwap": .int(memorySwap),
            "nanoCpus": nanoCPUs > 0 ? .int(nanoCPUs) : .null, "networkMode": .string(networkMode),
            "mounts": .array(
                mounts.map {
                    [
                        "type": .string($0.type), "source": .string($0.source), "destination": .string($0.destination),
                        "readWrite": .bool($0.readWrite),
                    ]
                }),
        ]
    }
}

extension ResourceUsage {
    /// `{"memoryUsage","memoryLimit","cpuUsageNanoseconds","nanoCpus","pids","source"}`.
    public var jsonValue: JSONValue {
        [
            "memoryUsage": .int(memoryUsage), "memoryLimit": JSONValue(memoryLimit),
            "cpuUsageNanoseconds": .int(Int64(clamping: cpuUsageNanoseconds)), "nanoCpus": JSONValue(cpuQuotaNanoCPUs),
            "pids": .array(pids.map { .int(Int64($0)) }), "source": .string(source.rawValue),
        ]
    }
}

extension ImageSummary {
    /// `{"id","tags","size","created"}`.
    public var jsonValue: JSONValue {
        ["id": .string(id), "tags": JSONValue(strings: repoTags), "size": .int(size), "created": .int(created)]
    }
}
