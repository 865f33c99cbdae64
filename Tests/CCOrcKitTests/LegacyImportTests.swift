import Foundation
import Testing

@testable import CCOrcKit

/// The pure part of `import --legacy`: entries of the Python tool's two registry formats, as it
/// writes them, turned into rows against recorded engine listings.
struct LegacyImportTests {
    /// `~/.claude-orc/team_contexts.json` as the tool's current version writes it
    /// (`json.dump(asdict(context), indent=2)`, `datetime.now().isoformat()`).
    static let teamContexts = """
        {
          "alpha": {
            "context_name": "alpha",
            "tmux_session": "alpha",
            "created_at": "2025-08-10T14:03:12.123456",
            "agents": [
              {
                "name": "Leader",
                "role": "leader",
                "model": "opus",
                "pane_index": 0,
                "session_id": "5b0f7f5e-0d3c-4a8e-9c57-1f0e7d2b9a10",
                "fork_history": []
              },
              {
                "name": "Developer",
                "role": "Developer",
                "model": "sonnet",
                "pane_index": 1,
                "session_id": null,
                "fork_history": []
              }
            ],
            "working_dir": "/home/user/project",
            "updated_at": "2025-08-11T09:30:00.654321",
            "orchestrator_config": {
              "team_name": "devops-team"
            }
          },
          "beta": {
            "context_name": "beta",
            "tmux_session": "beta",
            "created_at": "2025-08-12T08:00:00",
            "agents": [
              {
                "name": "Architect",
                "role": "System Architect",
                "model": "sonnet",
                "pane_index": 0,
                "session_id": "c1d2e3f4-0000-4000-8000-000000000001",
                "fork_history": []
              }
            ],
            "working_dir": null,
            "updated_at": null,
            "orchestrator_config": {}
          }
        }
        """

    /// `GET /containers/json?all=1` with the tool's containers of `alpha`: the leader running,
    /// the developer stopped, and an unlabelled container that merely shares the context label.
    static let listing = """
        [
          {"Id": "aa11", "Names": ["/ccbox-alpha-leader"], "Image": "ccbox:latest", "Command": "claude", "Created": 1754827392,
           "State": "running", "Status": "Up 5 minutes",
           "Labels": {"xyz.texot.ccbox.context": "alpha", "xyz.texot.ccbox.role": "leader",
                      "xyz.texot.ccbox.agent_name": "ccbox-alpha-leader", "xyz.texot.ccbox.schema_version": "1.0"}},
          {"Id": "bb22", "Names": ["/ccbox-alpha-developer"], "Image": "ccbox:latest", "Command": "claude", "Created": 1754827393,
           "State": "exited", "Status": "Exited (0) 1 minute ago",
           "Labels": {"xyz.texot.ccbox.context": "Alpha", "xyz.texot.ccbox.role": "developer", "xyz.texot.ccbox.schema_version": "1.0"}},
          {"Id": "cc33", "Names": ["/someone-else"], "Image": "busybox", "Command": "sh", "Created": 1754827394,
           "State": "running", "Status": "Up", "Labels": {"xyz.texot.ccbox.context": "beta", "xyz.texot.ccbox.role": "architect"}}
        ]
        """

    private static let image = AgentImage(
        reference: "ccorc-agent:latest", id: "sha256:0123",
        config: ImageConfig(user: "agent", environment: ["HOME=/home/agent"]),
        stateDirectory: "/home/agent/.claude", volumeTargets: [])

    private func view(
        _ listing: String = LegacyImportTests.listing,
        image: Result<AgentImage, SessionError>? = .success(LegacyImportTests.image)
    ) throws -> LegacyRegistry.EngineView {
        let containers = try JSONValue.parse(listing).array!.map(ContainerSummary.init(json:))
        return LegacyRegistry.EngineView(
            containers: containers, recreateImage: image, networkMode: "none", agentCommand: "claude")
    }

    /// Why `body` refused its entry; nil when it made a row.
    private func reason(_ body: () throws(EntryError) -> SessionRecord) -> String? {
        do {
            _ = try body()
            return nil
        } catch {
            return error.reason
        }
    }

    @Test func formatIsToldByContent() throws {
        let contexts = try #require(try JSONValue.parse(Self.teamContexts).object)
        #expect(LegacyRegistry.Format.detect(contexts) == .teamContexts)
        let sessions: JSONValue = ["old": ["session_name": "old", "agents": [["name": "lead", "container": "c"]]]]
        #expect(LegacyRegistry.Format.detect(sessions.object!) == .sessions)
        #expect(LegacyRegistry.Format.detect([:]) == .sessions)
    }

    @Test func contextsFindTheirContainersByLabelIgnoringCase() throws {
        let entries = try #require(try JSONValue.parse(Self.teamContexts).object)
        let record = try LegacyRegistry.record(
            key: "alpha", entry: entries["alpha"]!, format: .teamContexts, engine: try view())
        #expect(record.isLegacy)
        #expect(record.agents.map(\.role.rawValue) == ["Leader", "Developer"])
        #expect(record.agents.map(\.containerName) == ["ccbox-alpha-leader", "ccbox-alpha-developer"])
        #expect(record.agents.map(\.model) == ["opus", "sonnet"])
        #expect(record.image == "ccbox:latest")
        #expect(record.agents.allSatisfy { $0.containerID == nil && $0.stateVolume.isEmpty })
        let local = try #require(
            Calendar.current.date(from: DateComponents(year: 2025, month: 8, day: 10, hour: 14, minute: 3, second: 12)))
        #expect(abs(record.createdAt.timeIntervalSince(local) - 0.123456) < 1e-4)
        #expect(record.config["legacy"] == entries["alpha"], "the entry is kept as written")
    }

    @Test func aContextWithoutContainersIsRecordedForARepair() throws {
        let entries = try #require(try JSONValue.parse(Self.teamContexts).object)
        // `beta`'s only labelled container lacks the schema label, so the tool would not count it.
        let record = try LegacyRegistry.record(
            key: "beta", entry: entries["beta"]!, format: .teamContexts, engine: try view())
        #expect(!record.isLegacy && record.config["origin"]?.string == LegacyRegistry.recreatedOrigin)
        #expect(
            record.image == "ccorc-agent:latest" && record.networkMode == "none"
                && record.stateDirectory == "/home/agent/.claude")
        #expect(
            record.agents == [
                AgentRecord(
                    role: try AgentRole("Architect"), containerName: "beta-Architect", containerID: nil,
                    stateVolume: "beta-Architect-state",
                    model: "sonnet", tmuxWindow: "Architect", position: 0)
            ])
        #expect(record.updatedAt == record.createdAt, "a null updated_at")

        let missing = try view(image: .failure(SessionError(.imageMissing, "image ccorc-agent:latest not found")))
        #expect(
            reason { () throws(EntryError) in
                try LegacyRegistry.record(key: "beta", entry: entries["beta"]!, format: .teamContexts, engine: missing)
            }
                == "has no containers left, and the image to recreate them from is missing: image ccorc-agent:latest not found"
        )
    }

    @Test func theOlderFormatStillNeedsContainerNames() throws {
        let entry: JSONValue = ["session_name": "old", "agents": [["name": "lead", "container_mode": "persistent"]]]
        let engine = try view()
        #expect(
            reason { () throws(EntryError) in
                try LegacyRegistry.record(key: "old", entry: entry, format: .sessions, engine: engine)
            }
                == "has agent lead without a container")
    }

    /// The registry that made the import report "0 added, 100 skipped": every context stopped.
    @Test func aHundredStoppedContextsAllBecomeRows() throws {
        let entries = try #require(try JSONValue.parse(Self.teamContexts).object)
        var contexts: [String: JSONValue] = [:]
        for index in 0..<100 {
            guard case .object(var entry) = entries["alpha"]! else { return }
            entry["context_name"] = .string("ctx-\(index)")
            entry["tmux_session"] = .string("ctx-\(index)")
            contexts["ctx-\(index)"] = .object(entry)
        }
        #expect(LegacyRegistry.Format.detect(contexts) == .teamContexts)
        let engine = try view("[]")
        let records = try contexts.keys.sorted().map {
            try LegacyRegistry.record(key: $0, entry: contexts[$0]!, format: .teamContexts, engine: engine)
        }
        #expect(records.count == 100)
        #expect(records.allSatisfy { $0.config["origin"]?.string == LegacyRegistry.recreatedOrigin })
        #expect(records[0].agents.map(\.containerName) == ["ctx-0-Leader", "ctx-0-Developer"])
    }
}
