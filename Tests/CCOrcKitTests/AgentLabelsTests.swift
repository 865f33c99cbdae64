import Foundation
import Testing

@testable import CCOrcKit

/// The labels `AgentLabels` gives an agent's container and volumes.
@Suite struct AgentLabelsTests {
    static let record = SessionRecord(
        name: SessionName(rawValue: "team")!, createdAt: Date(timeIntervalSince1970: 1_732_000_000), image: "agent:1",
        agentCommand: "ANTHROPIC_API_KEY=sk-secret claude", environment: ["A=1"])
    static let agent = AgentRecord(
        role: AgentRole(rawValue: "leader")!, containerName: "team-leader", stateVolume: "team-leader-state",
        position: 0)

    @Test func containerLabelsCarryOwnershipAndRecovery() {
        let now = Date(timeIntervalSince1970: 1_732_000_100.7)
        let labels = AgentLabels.labels(Self.record, Self.agent, now: now)
        #expect(labels[OwnershipLabels.managed] == "true" && labels[OwnershipLabels.session] == "team")
        #expect(
            labels[OwnershipLabels.role] == "leader" && labels[OwnershipLabels.schema] == SessionManager.labelSchema)
        #expect(
            labels[RecoveryLabels.image] == "agent:1" && labels[RecoveryLabels.tmuxSession] == Self.record.tmuxSession)
        #expect(labels[RecoveryLabels.createdSeconds] == "1732000100" && labels[RecoveryLabels.workingDirectory] == "")
        #expect(labels[RecoveryLabels.agentCommand] == SecretMasking.maskCommand(Self.record.agentCommand))
        #expect(labels[RecoveryLabels.agentCommand]?.contains("sk-secret") == false)
        #expect(labels[RecoveryLabels.volumeTarget] == nil)
        #expect(labels.keys.allSatisfy { $0.hasPrefix("ccorc.") })
    }

    @Test func anImageVolumeAlsoNamesItsPath() {
        let now = Date()
        let state = AgentLabels.labels(Self.record, Self.agent, now: now)
        let cache = AgentLabels.labels(Self.record, Self.agent, imageVolumeTarget: "/var/cache/agent", now: now)
        #expect(cache[RecoveryLabels.volumeTarget] == "/var/cache/agent")
        #expect(cache.filter { $0.key != RecoveryLabels.volumeTarget } == state)
    }
}
