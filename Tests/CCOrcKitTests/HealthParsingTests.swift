import Foundation
import Testing

@testable import CCOrcKit

/// The pure parts of health, export and legacy import: no engine, no tmux.
struct HealthParsingTests {
    private func process(_ pid: Int32, _ parent: Int32, _ command: String...) -> ContainerProcess {
        ContainerProcess(pid: pid, parentPID: parent, commandLine: command)
    }

    @Test func agentProcessesLeaveOutTheKeepAliveTree() {
        let processes = [
            process(100, 90, "sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"),
            process(101, 100, "sleep", "3600"),
            process(102, 100, "sh"),  // a child of the keep-alive is never the agent
            process(200, 90, "sh"),  // `sh -c sh` exec'd into sh
            process(300, 90, "sh", "-c", "claude --resume"),
            process(301, 300, "node", "/usr/bin/claude"),
        ]
        #expect(HealthAssessment.agentProcesses(processes, mainPID: 100, agentCommand: "sh").map(\.pid) == [200, 300])
        // Inline assignments before the program are not the program.
        #expect(
            HealthAssessment.agentProcesses(
                processes, mainPID: 100, agentCommand: "ANTHROPIC_API_KEY=sk-x A_B=1 node x"
            ).map(\.pid) == [301])
        #expect(
            HealthAssessment.agentProcesses(processes, mainPID: 100, agentCommand: "claude --resume").map(\.pid) == [
                300
            ])
        #expect(HealthAssessment.agentProcesses(Array(processes.prefix(3)), mainPID: 100, agentCommand: "sh").isEmpty)
    }

    @Test func verdictsOrderBySeverity() {
        #expect(HealthVerdict.healthy < .degraded && HealthVerdict.degraded < .broken)
        #expect([HealthVerdict.degraded, .broken, .healthy].max() == .broken)
    }

    @Test func exportMasksUnlessSecretsAreIncluded() {
        #expect(
            SessionExportFormat.environment(["A_KEY=v=w", "B=c"], includeSecrets: false) == ["A_KEY=<masked>", "B=c"])
        #expect(SessionExportFormat.environment(["A_KEY=v"], includeSecrets: true) == ["A_KEY=v"])
    }

    @Test func exportFilesAreCheckedBeforeUse() throws {
        func refusal(_ text: String) -> String {
            do {
                _ = try SessionManager.parseExport(Array(text.utf8), source: "f.json")
                return "accepted"
            } catch {
                return error.description
            }
        }
        #expect(refusal("[1,2").hasPrefix("f.json: not a ccorc export: the JSON is truncated or damaged"))
        #expect(refusal("{\"format\": \"other\"}") == "f.json: not a ccorc export (no \"format\": \"ccorc-export\")")
        #expect(
            refusal("{\"format\": \"ccorc-export\", \"schemaVersion\": 2, \"sessions\": []}")
                == "f.json: export schema version 2 is not supported; this ccorc reads version 1")
        #expect(
            refusal(
                "{\"format\": \"ccorc-export\", \"schemaVersion\": 1, \"sessions\": [{\"name\": \"a\", \"registry\": {\"name\": \"a.b\"}}]}"
            )
                == "f.json: session 1 (a): invalid session name \"a.b\"")
        #expect(refusal("{\"format\": \"ccorc-export\", \"schemaVersion\": 1, \"sessions\": []}") == "accepted")
    }

    @Test func legacyDates() {
        #expect(LegacyRegistry.date(1_700_000_000) == Date(timeIntervalSince1970: 1_700_000_000))
        #expect(LegacyRegistry.date("2024-03-01T09:15:00Z") == Date(timeIntervalSince1970: 1_709_284_500))
        let local = LegacyRegistry.date("2024-03-01T09:15:00.5")
        let offset = Double(TimeZone.current.secondsFromGMT(for: Date(timeIntervalSince1970: 1_709_284_500)))
        #expect(local == Date(timeIntervalSince1970: 1_709_284_500.5 - offset))
        #expect(LegacyRegistry.date("yesterday") == nil && LegacyRegistry.date(nil) == nil)
    }

    @Test func recoveryLabelsRoundTripTheCreationTime() {
        let created = Date(timeIntervalSince1970: 1_732_000_123.456789)
        let record = SessionRecord(
            name: SessionName(rawValue: "s")!, createdAt: created, image: "img", agentCommand: "sh",
            environment: ["A=1", "B=2=3"])
        let agent = AgentRecord(
            role: AgentRole(rawValue: "r")!, containerName: "s-r", stateVolume: "s-r-state", position: 2)
        let labels = AgentLabels.labels(record, agent)
        #expect(labels[RecoveryLabels.createdAt].flatMap(Double.init) == created.timeIntervalSince1970)
        #expect(labels[RecoveryLabels.environmentKeys] == "A,B" && labels[RecoveryLabels.position] == "2")
    }
}
