import ArgumentParser
import CCOrcKit
import CLISupport
import Foundation

extension SessionStatus {
    /// The documented `--json` shape of a session.
    var jsonValue: JSONValue {
        [
            "name": .string(record.name.rawValue), "status": .string(record.status.rawValue),
            "created": JSONValue(date: record.createdAt), "updated": JSONValue(date: record.updatedAt),
            "lastResumed": JSONValue(date: record.lastResumedAt), "image": .string(record.image),
            "agentCommand": .string(record.agentCommand), "memory": JSONValue(record.memoryBytes),
            "nanoCpus": JSONValue(record.nanoCPUs), "running": .int(Int64(runningCount)), "total": .int(Int64(agents.count)),
            "tmux": tmux.map { ["id": .string($0.id), "windows": .int(Int64($0.windows)), "attached": .int(Int64($0.attached))] } ?? .null,
            "agents": .array(agents.map { agent in
                [
                    "role": .string(agent.record.role.rawValue), "container": .string(agent.record.containerName),
                    "containerId": agent.container.map { .string($0.id) } ?? .null, "state": .string(agent.state),
                    "volume": .string(agent.record.stateVolume), "window": agent.record.tmuxWindow.map { .string($0) } ?? .null,
                ]
            }),
        ]
    }
}

func age(_ date: Date) -> String {
    let seconds = Int(Date().timeIntervalSince(date))
    switch seconds {
    case ..<60: return "\(max(0, seconds))s ago"
    case ..<3600: return "\(seconds / 60)m ago"
    case ..<86400: return "\(seconds / 3600)h ago"
    default: return "\(seconds / 86400)d ago"
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List registered team sessions (see `ccdk list` for every container).")
    @Flag(name: .shortAndLong, help: "Show each agent's container.") var verbose = false
    @Flag(help: "Also show containers labelled by ccorc that no session claims.") var all = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let manager = try Environment.manager()
        async let statuses = manager.list()
        async let orphanList = all ? manager.orphans() : []
        let sessions = try await statuses
        let orphans = try await orphanList
        if json {
            var output: [String: JSONValue] = ["sessions": .array(sessions.map(\.jsonValue))]
            if all { output["orphans"] = .array(orphans.map(\.jsonValue)) }
            printJSON(.object(output))
            return
        }
        var table = TextTable(headers: ["NAME", "CREATED", "CONTAINERS", "TMUX", "STATUS"])
        for session in sessions {
            let health = session.record.status == .launching ? "launching" : (session.missingAgents.isEmpty ? "ok" : "broken")
            table.append([
                session.record.name.rawValue, age(session.record.createdAt), "\(session.runningCount)/\(session.agents.count) running",
                session.tmux == nil ? "✗" : "✓", health,
            ])
            if verbose {
                for agent in session.agents {
                    let limits = [
                        session.record.memoryBytes.map { ResourceLimits.formatBytes($0) },
                        session.record.nanoCPUs.map { ResourceLimits.formatCPUs($0) + " cpus" },
                    ].compactMap { $0 }.joined(separator: ", ")
                    table.append([
                        "  " + agent.record.role.rawValue, agent.record.containerName, agent.state,
                        agent.container?.status ?? "-", session.record.image + (limits.isEmpty ? "" : " (\(limits))"),
                    ])
                }
            }
        }
        print(table.render())
        if all && !orphans.isEmpty {
            print("\nORPHANS (labelled by ccorc, claimed by no session)")
            var orphanTable = TextTable(headers: ["CONTAINER", "SESSION LABEL", "STATE"])
            for orphan in orphans {
                orphanTable.append([orphan.name, orphan.labels[OwnershipLabels.session] ?? "-", orphan.state.rawValue])
            }
            print(orphanTable.render())
        }
    }
}

struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one session in detail.")
    @Argument(help: "Session name.") var name: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let session = try parseNames([name])[0]
        let manager = try Environment.manager()
        let status = try await manager.status(of: session)
        let panes = status.tmux == nil ? [] : try await manager.tmux.listPanes(session: status.record.tmuxSession)
        if json {
            var object = status.jsonValue.object ?? [:]
            object["panes"] = .array(panes.map { pane in
                [
                    "id": .string(pane.id), "window": .string(pane.windowName), "pid": .int(Int64(pane.pid)),
                    "dead": .bool(pane.isDead), "exitStatus": pane.exitStatus.map { .int(Int64($0)) } ?? .null,
                    "command": .string(pane.currentCommand),
                ]
            })
            object["volumes"] = JSONValue(strings: status.agents.map(\.record.stateVolume))
            printJSON(.object(object))
            return
        }
        let record = status.record
        print("Session:   \(record.name) (\(record.status.rawValue))")
        print("Created:   \(record.createdAt)   Last resumed: \(record.lastResumedAt.map { "\($0)" } ?? "never")")
        print("Image:     \(record.image)   Agent command: \(record.agentCommand)")
        print("Limits:    memory \(record.memoryBytes.map(ResourceLimits.formatBytes) ?? "unlimited"), cpus \(record.nanoCPUs.map(ResourceLimits.formatCPUs) ?? "unlimited")")
        print("tmux:      \(status.tmux.map { "\($0.name) (\($0.windows) windows, \($0.attached) attached)" } ?? "✗ (bring it back with `ccorc resume \(record.name)`)")")
        var table = TextTable(headers: ["ROLE", "CONTAINER", "STATE", "VOLUME", "WINDOW"])
        for agent in status.agents {
            table.append([agent.record.role.rawValue, agent.record.containerName, agent.state, agent.record.stateVolume, agent.record.tmuxWindow ?? "-"])
        }
        print(table.render())
        if !panes.isEmpty {
            var paneTable = TextTable(headers: ["WINDOW", "PANE", "PID", "COMMAND", "STATE"])
            for pane in panes {
                let state = pane.isDead ? "dead" + (pane.exitStatus.map { " (exit \($0))" } ?? "") : "alive"
                paneTable.append([pane.windowName, pane.id, String(pane.pid), pane.currentCommand, state])
            }
            print("")
            print(paneTable.render())
        }
    }
}
