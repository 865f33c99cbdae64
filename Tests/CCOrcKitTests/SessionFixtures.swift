import Foundation

@testable import CCOrcKit

/// Registry rows, engine list entries and tmux sessions as the stores report them, for the pure
/// decisions (reconciliation, cleanup planning, health assessment).
enum Fixture {
    /// The moment the tests take as now.
    static let now = Date(timeIntervalSince1970: 1_764_000_000)

    static func name(_ text: String) -> SessionName { SessionName(rawValue: text)! }

    /// A registered session whose agents have containers `NAME-ROLE` with IDs `id-NAME-ROLE`.
    static func record(
        _ name: String, roles: [String] = ["lead", "dev"], status: SessionRecord.Status = .ready,
        createdAt: Date = now.addingTimeInterval(-3600),
        lastResumedAt: Date? = nil, image: String = "agent:1", agentCommand: String = "claude", legacy: Bool = false,
        config: JSONValue? = nil
    ) -> SessionRecord {
        let agents = roles.enumerated().map { index, role in
            AgentRecord(
                role: AgentRole(rawValue: role)!, containerName: "\(name)-\(role)", containerID: "id-\(name)-\(role)",
                stateVolume: legacy ? "" : "\(name)-\(role)-state", position: index)
        }
        return SessionRecord(
            name: self.name(name), createdAt: createdAt, lastResumedAt: lastResumedAt, image: image,
            agentCommand: agentCommand,
            config: config ?? (legacy ? ["origin": .string(LegacyRegistry.origin)] : [:]), status: status,
            agents: agents)
    }

    /// A `GET /containers/json` entry; labelled with `session` unless that is nil, with ID `id-NAME` unless given.
    static func container(
        _ name: String, id: String? = nil, state: String = "running", status: String? = nil, session: String?,
        sizeRw: Int? = nil
    ) -> ContainerSummary {
        var json: [String: JSONValue] = [
            "Id": .string(id ?? "id-\(name)"), "Names": .array([.string("/\(name)")]), "Image": "agent:1",
            "State": .string(state),
            "Status": .string(status ?? (state == "running" ? "Up 2 hours" : "Exited (0) 3 minutes ago")),
            "Labels": session.map { ["ccorc.session": .string($0)] } ?? [:],
        ]
        if let sizeRw {
            json["SizeRw"] = .int(Int64(sizeRw))
            json["SizeRootFs"] = 0
        }
        return try! ContainerSummary(json: .object(json))
    }

    /// Every agent container of `record`, in `state`.
    static func containers(of record: SessionRecord, state: String = "running") -> [ContainerSummary] {
        record.agents.map {
            container($0.containerName, state: state, session: record.isLegacy ? nil : record.name.rawValue)
        }
    }

    /// A `GET /volumes` entry, labelled with `session` unless that is nil.
    static func volume(_ name: String, session: String?) -> Volume {
        try! Volume(json: [
            "Name": .string(name), "Driver": "local", "Labels": session.map { ["ccorc.session": .string($0)] } ?? [:],
        ])
    }

    /// A tmux session as `list-sessions` reports it.
    static func tmux(_ name: String, windows: Int = 2, attached: Int = 0) -> TmuxSession {
        TmuxSession(
            id: "$\(abs(name.hashValue) % 100)", name: name, windows: windows, attached: attached,
            attachedIncludingControlClients: attached + 1,
            created: now, activity: now)
    }
}
