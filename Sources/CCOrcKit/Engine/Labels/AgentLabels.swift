import FoundationEssentials

/// The labels of one agent's container and volumes, made in one place for launch, `import
/// --create`, `cleanup --fix-broken` and the volumes `recover` reads back.
public enum AgentLabels {
    /// The labels of `agent`'s container and volumes: ownership, and what `recover` needs to
    /// rebuild the registry row, except the agent command's secrets. Labels are readable by anyone
    /// who can list containers and are copied into every export, so the agent command is labelled
    /// masked (`SecretMasking.maskCommand`); the registry keeps it whole.
    /// - Parameters:
    ///   - imageVolumeTarget: for the agent's volume at one of the image's `VOLUME` paths, that
    ///     path (`RecoveryLabels.volumeTarget`); nil for the container and the state volume.
    ///   - now: the creation time labelled in whole seconds (`RecoveryLabels.createdSeconds`).
    public static func labels(
        _ record: SessionRecord, _ agent: AgentRecord, imageVolumeTarget: String? = nil, now: Date = Date()
    ) -> [String: String] {
        let environmentKeys = record.environment.map { entry in
            String(entry.split(separator: "=", maxSplits: 1).first ?? "")
        }
        var labels = [
            OwnershipLabels.managed: "true", OwnershipLabels.session: record.name.rawValue,
            OwnershipLabels.role: agent.role.rawValue,
            OwnershipLabels.schema: SessionManager.labelSchema,
            RecoveryLabels.agentCommand: SecretMasking.maskCommand(record.agentCommand),
            RecoveryLabels.stateDirectory: record.stateDirectory,
            RecoveryLabels.createdSeconds: String(Int(now.timeIntervalSince1970)),
            RecoveryLabels.position: String(agent.position),
            RecoveryLabels.createdAt: String(record.createdAt.timeIntervalSince1970),
            RecoveryLabels.tmuxSession: record.tmuxSession, RecoveryLabels.image: record.image,
            RecoveryLabels.environmentKeys: environmentKeys.joined(separator: ","),
            RecoveryLabels.workingDirectory: record.workingDirectory ?? "",
        ]
        if let imageVolumeTarget { labels[RecoveryLabels.volumeTarget] = imageVolumeTarget }
        return labels
    }
}
