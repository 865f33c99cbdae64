import ArgumentParser
import CCOrcKit
import CLISupport
import FoundationEssentials
import Glibc

struct Health: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check sessions: containers, agent processes, state, memory and CPU, tmux windows.",
        discussion: """
            Exit status 0 only when every checked session is healthy or stopped (by `ccorc stop`: \
            every container stopped, no tmux session). Named sessions are checked in full \
            (every container inspected); --all costs two engine list calls, one tmux round trip and one \
            inspect per running container. --watch redraws as sessions change, fed by the engine's and \
            tmux's events (`ccorc watch`), and checks nothing while nothing changes; --watch SECONDS \
            also redraws every SECONDS for the memory and CPU figures, which no event reports.
            """)
    @Argument(help: "Session names.") var names: [String] = []
    @Flag(help: "Check every registered session.") var all = false
    @Flag(help: "Print JSON (with --watch, one report per line).") var json = false
    @Flag(help: "Redraw as sessions change: --watch [SECONDS].") var watch = false

    func run() async throws {
        var names = self.names
        var interval: Double?
        // `--watch SECONDS`: a number right after --watch is the interval, not a session name.
        let raw = CommandLine.arguments
        if watch, let flag = raw.firstIndex(of: "--watch"), flag + 1 < raw.count, let seconds = Double(raw[flag + 1]),
            let index = names.firstIndex(of: raw[flag + 1])
        {
            guard seconds.isFinite, seconds > 0, seconds <= 86_400 else {
                throw ValidationError("--watch needs a number of seconds between 0 and 86400")
            }
            interval = seconds
            names.remove(at: index)
        }
        guard all != !names.isEmpty else {
            throw ValidationError(
                all ? "name sessions or pass --all, not both" : "name sessions to check, or pass --all")
        }
        let sessions = all ? nil : try parseNames(names)
        let depth: HealthCheckDepth = all ? .bounded : .full
        let manager = try await Environment.manager()
        if watch {
            try await watchHealth(manager, sessions, depth: depth, interval: interval)
        }
        let report: HealthReport
        if let sessions {
            report = try await manager.health(of: sessions, depth: depth)
        } else {
            report = try await manager.healthOfAll(depth: depth)
        }
        if !json { warnAboutDamagedRows(report.damaged) }
        if json {
            printJSON(report.jsonValue)
        } else {
            print(HealthText.render(report, cpuPercent: [:]))
        }
        if !report.isSound { throw ExitStatus(1) }
    }

    private func watchHealth(
        _ manager: SessionManager, _ sessions: [SessionName]?, depth: HealthCheckDepth, interval: Double?
    ) async throws -> Never {
        let onTerminal = LocalTerminal.isTerminal(STDOUT_FILENO)
        var previous: HealthReport?
        for try await report in manager.healthUpdates(
            of: sessions, depth: depth, interval: interval.map { .milliseconds(Int($0 * 1000)) })
        {
            var output: String
            if json {
                output = report.jsonValue.serialized() + "\n"
            } else {
                let text = HealthText.render(report, cpuPercent: previous.map { report.cpuPercent(since: $0) } ?? [:])
                let every = interval.map { "on change and every \($0)s" } ?? "on change"
                output = "ccorc health, \(every): \(report.checkedAt.formatted(.iso8601))\n\n" + text + "\n"
                output = onTerminal ? "\u{1B}[H\u{1B}[2J" + output : output + "\n"
            }
            // Unbuffered, so that each report shows at once on a pipe too.
            StandardStream.output.write(output)
            previous = report
        }
        throw ExitStatus(1)
    }
}

/// The human form of a health report: one table per session, then its issues.
enum HealthText {
    static func render(_ report: HealthReport, cpuPercent: [String: Double]) -> String {
        if report.sessions.isEmpty { return "no sessions" }
        var blocks: [String] = []
        for session in report.sessions {
            var lines = ["\(session.name): \(session.verdict.rawValue)"]
            var table = TextTable(headers: [
                "ROLE", "CONTAINER", "STATE", "MEMORY", "CPU", "AGENT", "STATE DIR", "EXIT", "RESTARTS",
            ])
            for container in session.containers {
                let memory =
                    container.usage.map { usage in
                        ResourceLimits.formatBytes(usage.memoryUsage)
                            + (usage.memoryLimit.map { " / " + ResourceLimits.formatBytes($0) } ?? "")
                    } ?? "-"
                let cpu =
                    cpuPercent[container.name].map { NumberFormatting.fixed($0, digits: 1) + "%" }
                    ?? container.usage.map {
                        NumberFormatting.fixed(Double($0.cpuUsageNanoseconds) / 1e9, digits: 2) + "s"
                    } ?? "-"
                var exit = container.exitCode.map(String.init) ?? "-"
                if container.oomKilled == true || (container.oomKills ?? 0) > 0 {
                    exit += " (OOM\(container.oomKills.map { $0 > 0 ? " ×\($0)" : "" } ?? ""))"
                }
                table.append([
                    container.role.rawValue, container.name, container.state, memory, cpu, mark(container.agentRunning),
                    mark(container.stateDirectoryExists ?? container.volumeExists), exit,
                    container.restartCount.map(String.init) ?? "-",
                ])
            }
            lines.append(table.render())
            let tmux = session.tmux
            lines.append(
                tmux.present
                    ? "tmux: ✓ \(tmux.session) (\(tmux.windowCount) windows, \(tmux.attachedClients) attached)"
                        + (tmux.windows.isEmpty
                            ? ""
                            : ": "
                                + tmux.windows.map {
                                    "\($0.window) \($0.present && $0.paneDead != true && $0.runsAgentShell != false ? "✓" : "✗")"
                                }.joined(separator: ", "))
                        + (tmux.extraWindows.isEmpty ? "" : "; extra: " + tmux.extraWindows.joined(separator: ", "))
                    : "tmux: ✗ \(tmux.session)")
            for issue in session.issues {
                lines.append(
                    "  \(issue.severity == .broken ? "✗" : "!") \(issue.subject): \(issue.message)"
                        + (issue.fix.map { "; fix: \($0)" } ?? ""))
            }
            blocks.append(lines.joined(separator: "\n"))
        }
        return blocks.joined(separator: "\n\n")
    }

    private static func mark(_ value: Bool?) -> String {
        value.map { $0 ? "✓" : "✗" } ?? "-"
    }
}
