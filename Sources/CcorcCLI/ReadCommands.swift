import ArgumentParser
import CCOrcKit
import CLISupport
import FoundationEssentials

// The JSON shapes printed here are the library's (CCOrcKit/Output), shared with the C ABI.

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
    static let configuration = CommandConfiguration(
        abstract: "List registered team sessions (see `ccdk list` for every container).")
    @Flag(name: .shortAndLong, help: "Show each agent's container.") var verbose = false
    @Flag(help: "Also show containers labelled by ccorc that no session claims.") var all = false
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let listing = try await Environment.manager().listing(includeOrphans: all)
        // With --json the warnings are in the output's "warnings" array, not on stderr.
        if !json { warnAboutDamagedRows(listing.damaged) }
        if json {
            printJSON(listing.jsonValue)
            try Environment.failForUnreachable(listing.unreachable)
            return
        }
        let sessions = listing.sessions
        let orphans = listing.orphans ?? []
        // The ENGINE column once sessions live on more than one engine.
        let engines = Set(sessions.compactMap(\.record.engine))
        let showEngine = engines.count > 1
        var table = TextTable(
            headers: ["NAME", "CREATED", "CONTAINERS", "TMUX", "STATUS"] + (showEngine ? ["ENGINE"] : []))
        // --verbose: each session's agents under headings of their own, indented below it; one
        // table for all agents, so that their columns line up from session to session.
        var agentTable = TextTable(headers: ["ROLE", "CONTAINER", "STATE", "ENGINE STATUS", "WINDOW", "IMAGE"])
        for session in sessions {
            table.append(
                [
                    session.record.name.rawValue, age(session.record.createdAt),
                    "\(session.runningCount)/\(session.agents.count) running",
                    session.tmux == nil ? "✗" : "✓", session.condition.words,
                ] + (showEngine ? [session.record.engine ?? "-"] : []))
            guard verbose else { continue }
            let limits = [
                session.record.memoryBytes.map { ResourceLimits.formatBytes($0) },
                session.record.nanoCPUs.map { ResourceLimits.formatCPUs($0) + " cpus" },
            ].compactMap { $0 }.joined(separator: ", ")
            for agent in session.agents {
                agentTable.append([
                    agent.record.role.rawValue, agent.record.containerName, agent.state, agent.container?.status ?? "-",
                    agent.record.tmuxWindow ?? "-", session.record.image + (limits.isEmpty ? "" : " (\(limits))"),
                ])
            }
        }
        if verbose {
            print(
                Self.interleave(
                    sessions: table.render(), agents: agentTable.render(), counts: sessions.map(\.agents.count)))
        } else {
            print(table.render())
        }
        if all && !orphans.isEmpty {
            print("\nORPHANS (labelled by ccorc, claimed by no session)")
            var orphanTable = TextTable(headers: ["CONTAINER", "SESSION LABEL", "STATE"])
            for orphan in orphans {
                orphanTable.append([orphan.name, orphan.labels[OwnershipLabels.session] ?? "-", orphan.state.rawValue])
            }
            print(orphanTable.render())
        }
        try Environment.failForUnreachable(listing.unreachable)
    }
}

extension List {
    /// The verbose listing: the sessions' header, then each session's row followed by its agents'
    /// header and rows, indented. `sessions` and `agents` are rendered tables (header first);
    /// `counts` says how many agent rows each session has.
    static func interleave(sessions: String, agents: String, counts: [Int]) -> String {
        let sessionLines = sessions.split(separator: "\n", omittingEmptySubsequences: false)
        let agentLines = agents.split(separator: "\n", omittingEmptySubsequences: false)
        var lines = [sessionLines[0]]
        var next = 1
        for (index, count) in counts.enumerated() {
            if index > 0 { lines.append("") }
            lines.append(sessionLines[index + 1])
            guard count > 0 else { continue }
            lines.append("    " + agentLines[0])
            lines += agentLines[next..<next + count].map { "    " + $0 }
            next += count
        }
        return lines.joined(separator: "\n")
    }
}

struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show one session in detail.")
    @Argument(help: "Session name.") var name: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let session = try parseNames([name])[0]
        let details = try await Environment.manager().details(of: session)
        if json {
            printJSON(details.jsonValue)
            return
        }
        let status = details.status
        let panes = details.panes
        let record = status.record
        print("Session:   \(record.name) (\(record.status.rawValue))")
        print("Created:   \(record.createdAt)   Last resumed: \(record.lastResumedAt.map { "\($0)" } ?? "never")")
        print("Image:     \(record.image)   Agent command: \(SecretMasking.maskCommand(record.agentCommand))")
        print("Engine:    \(record.engine ?? "default")")
        print(
            "Limits:    memory \(record.memoryBytes.map(ResourceLimits.formatBytes) ?? "unlimited"), cpus \(record.nanoCPUs.map(ResourceLimits.formatCPUs) ?? "unlimited")"
        )
        print(
            "tmux:      \(status.tmux.map { "\($0.name) (\($0.windows) windows, \($0.attached) attached)" } ?? "✗ (bring it back with `ccorc resume \(record.name)`)")"
        )
        var table = TextTable(headers: ["ROLE", "CONTAINER", "STATE", "VOLUME", "WINDOW"])
        for agent in status.agents {
            table.append([
                agent.record.role.rawValue, agent.record.containerName, agent.state, agent.record.stateVolume,
                agent.record.tmuxWindow ?? "-",
            ])
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
