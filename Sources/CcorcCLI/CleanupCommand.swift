import ArgumentParser
import CCOrcKit
import CLISupport
import Dispatch
import FoundationEssentials
import Glibc
import Synchronization

struct Cleanup: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Remove sessions (containers, volumes, tmux session, registry entry) or repair broken ones.",
        discussion: """
            Selectors: --remove (or names), --pattern, --stopped-only, --older-than, --fix-broken, \
            --orphans, --interactive. Names and --pattern set the scope; --stopped-only and --older-than \
            narrow it. The plan is printed first and confirmed on a terminal (--yes skips the question).
            """)
    @Argument(help: "Sessions in scope (the same as --remove).") var sessions: [String] = []
    @Option(name: .customLong("remove"), parsing: .upToNextOption, help: "Sessions to remove.") var names: [String] = []
    @Option(help: "Shell-style pattern on session names, e.g. \"feature-*\" (repeatable).") var pattern: [String] = []
    @Flag(help: "Only sessions none of whose containers is running.") var stoppedOnly = false
    @Option(help: "Only sessions not launched or resumed for this long: 90m, 36h, 7d.") var olderThan: String?
    @Flag(help: "Repair sessions with missing containers (recreate them from the registry).") var fixBroken = false
    @Flag(help: "With --fix-broken: remove the broken sessions instead.") var drop = false
    @Flag(help: "Containers and volumes labelled by ccorc that no session claims.") var orphans = false
    @Flag(help: "Pick sessions from a numbered list.") var interactive = false
    @Flag(help: "Also remove the containers of imported legacy sessions, which ccorc did not make.") var includeLegacy =
        false
    @Flag(help: "Keep the sessions' named state volumes.") var keepVolumes = false
    @Flag(help: "Print the plan and change nothing.") var dryRun = false
    @Flag(name: .shortAndLong, help: "Do not ask for confirmation.") var yes = false
    @Flag(help: "Print JSON (the plan with --dry-run, else the summary).") var json = false
    // Text, not Int, and taken whatever it looks like: a bad value (`-1`, `abc`) then gets our
    // one-line error instead of ArgumentParser's usage screen or "missing value".
    @Option(parsing: .unconditional, help: "Engine requests in flight (a whole number, at least 1).")
    var jobs = String(SessionManager.defaultCleanupJobs)
    @Option(
        help:
            "Comma-separated docker contexts to look for orphans on besides the current engine and those sessions live on (default: $CCORC_ENGINES)."
    )
    var engines: String?

    func run() async throws {
        guard let jobs = Int(jobs), jobs >= 1 else {
            throw CommandLineFailure("--jobs must be a whole number of at least 1, not \"\(self.jobs)\"")
        }
        let selection = try makeSelection()
        let manager = try await Environment.manager()
        // Writable-layer sizes cost the engine a walk of every layer: only for a plan someone reads.
        var plan = try await manager.planCleanup(
            selection, measureDisk: interactive || (!json && (dryRun || !yes)),
            engines: engines.map(Environment.engineList) ?? Environment.defaultEngines())
        // A mistyped name changes nothing, not even for the names given with it.
        if let unknown = plan.unknownNames.first {
            throw CommandLineFailure(SessionError.sessionNotFound(unknown), adding: "; nothing changed")
        }
        // A damaged row named outright cannot be cleaned up: say so rather than skip it quietly.
        let named = Set(sessions + names)
        if let row = plan.damaged.first(where: { named.contains($0.key) }) {
            throw CommandLineFailure(
                "the registry row \"\(row.key)\" is damaged (\(row.reason)); drop it with `\(row.forgetCommand)`; nothing changed",
                code: "registry")
        }
        // With --json --dry-run the warnings are in the plan's "warnings" array.
        if !(json && dryRun) { warnAboutDamagedRows(plan.damaged) }
        if interactive {
            plan = try pick(from: plan)
        }
        if json && dryRun {
            printJSON(plan.jsonValue)
            try Environment.failForUnreachable(plan.unreachable)
            return
        }
        if !json { printPlan(plan) }
        if plan.isEmpty {
            if !json { print("nothing to clean up") } else { printJSON(CleanupReport.empty.jsonValue) }
            try Environment.failForUnreachable(plan.unreachable)
            return
        }
        if dryRun { return try Environment.failForUnreachable(plan.unreachable) }
        if !yes { try confirm(plan) }

        let interrupts = InterruptWatch(saying: "stopping: letting requests in flight finish")
        let control = interrupts.control
        let display = ProgressDisplay(json: json)
        let report = await manager.cleanup(plan, keepVolumes: keepVolumes, jobs: jobs, control: control) {
            display.show($0)
        }
        interrupts.cancel()
        display.end()
        if json {
            printJSON(report.jsonValue)
        } else {
            printSummary(report)
        }
        if report.interrupted { throw ExitStatus(130) }
        try Environment.failForUnreachable(plan.unreachable)
        if report.hasFailures { throw ExitStatus(1) }
    }

    private func makeSelection() throws -> CleanupSelection {
        var selection = CleanupSelection()
        selection.names = try parseNames(sessions + names)
        selection.patterns = try pattern.map { text in
            do { return try GlobPattern(text) } catch {
                throw CommandLineFailure("invalid --pattern \"\(text)\": \(error)")
            }
        }
        selection.stoppedOnly = stoppedOnly
        selection.olderThan = try olderThan.map(CleanupSelection.parseDuration)
        selection.fixBroken = fixBroken
        selection.dropBroken = drop
        selection.orphans = orphans
        selection.allSessions = interactive
        selection.includeLegacy = includeLegacy
        if drop && !fixBroken { throw CommandLineFailure("--drop goes with --fix-broken") }
        if json && interactive {
            throw CommandLineFailure("--interactive prints a table and asks: it does not go with --json")
        }
        if json && !(yes || dryRun) {
            throw CommandLineFailure("--json cannot ask for confirmation: add --yes, or --dry-run for the plan")
        }
        if selection.isEmpty {
            throw CommandLineFailure(
                "choose what to clean up: --remove NAME, --pattern GLOB, --stopped-only, --older-than DURATION, --fix-broken, --orphans or --interactive"
            )
        }
        if interactive && !(LocalTerminal.isTerminal(STDIN_FILENO) && LocalTerminal.isTerminal(STDOUT_FILENO)) {
            throw CommandLineFailure(
                "--interactive needs a terminal; select sessions with --remove, --pattern or --stopped-only instead")
        }
        return selection
    }

    /// Shows the sessions in scope as a numbered list and narrows the plan to the user's pick.
    private func pick(from plan: CleanupPlan) throws -> CleanupPlan {
        guard !plan.items.isEmpty else { return plan }
        var table = TextTable(headers: ["#", "NAME", "CONTAINERS", "TMUX", "CREATED", "LAST USED", "DISK"])
        for (index, item) in plan.items.enumerated() {
            let record = item.status.record
            table.append([
                String(index + 1), record.name.rawValue, "\(item.runningCount)/\(item.containers.count) running",
                item.status.tmux == nil ? "✗" : "✓", age(record.createdAt),
                age(record.lastResumedAt ?? record.createdAt),
                item.diskBytes.map(ResourceLimits.formatBytes) ?? "-",
            ])
        }
        print(table.render())
        print("Sessions to clean up (e.g. 1 3-7, or all; empty to cancel): ", terminator: "")
        fflush(nil)
        guard let answer = readLine(), !answer.trimmingWhitespace().isEmpty else {
            throw CommandLineFailure("nothing chosen; nothing changed")
        }
        return plan.restricted(to: try CleanupPlan.parsePicks(answer, count: plan.items.count))
    }

    private func confirm(_ plan: CleanupPlan) throws {
        guard LocalTerminal.isTerminal(STDIN_FILENO) else {
            throw CommandLineFailure(
                "not a terminal: refusing to clean up without confirmation (pass --yes, or --dry-run to see the plan)")
        }
        print("Proceed? [y/N] ", terminator: "")
        fflush(nil)
        guard let answer = readLine()?.trimmingWhitespace().lowercased(), answer == "y" || answer == "yes" else {
            throw CommandLineFailure("cancelled; nothing changed")
        }
    }

    private func printPlan(_ plan: CleanupPlan) {
        let removals = plan.items.filter { $0.action == .remove }
        let repairs = plan.items.filter { $0.action == .repair }
        if !removals.isEmpty {
            let volumes = keepVolumes ? 0 : removals.reduce(0) { $0 + $1.volumes.count }
            let disk = plan.diskBytes.map { ", frees \(ResourceLimits.formatBytes($0)) of writable layers" } ?? ""
            print(
                "Remove \(removals.count) session(s): \(removals.reduce(0) { $0 + $1.containers.count }) containers "
                    + "(\(removals.reduce(0) { $0 + $1.runningCount }) running), \(volumes) volumes, "
                    + "\(removals.filter { $0.status.tmux != nil }.count) tmux sessions\(disk)")
            var table = TextTable(headers: ["NAME", "CONTAINERS", "VOLUMES", "TMUX", "DISK"])
            for item in removals {
                table.append([
                    item.name.rawValue, "\(item.containers.count) (\(item.runningCount) running)",
                    keepVolumes ? "kept" : String(item.volumes.count),
                    item.status.tmux == nil ? "-" : "✓", item.diskBytes.map(ResourceLimits.formatBytes) ?? "-",
                ])
            }
            print(table.render())
            for item in removals where !item.legacyContainers.isEmpty {
                print(
                    "Remove containers ccorc did not make (--include-legacy): \(item.name): \(item.legacyContainers.map(\.name).joined(separator: ", "))"
                )
            }
        }
        if !repairs.isEmpty {
            print("Repair \(repairs.count) broken session(s): recreate their missing containers")
            var table = TextTable(headers: ["NAME", "MISSING", "NOTE"])
            for item in repairs {
                table.append([
                    item.name.rawValue, item.status.missingAgents.map(\.record.containerName).joined(separator: ", "),
                    item.blocker.map { "cannot repair: \($0)" } ?? "state volumes reattached",
                ])
            }
            print(table.render())
        }
        if !plan.orphanContainers.isEmpty || !plan.orphanVolumes.isEmpty {
            print(
                "Remove orphans (labelled by ccorc, claimed by no session): \(plan.orphanContainers.count) containers, \(plan.orphanVolumes.count) volumes"
            )
            for container in plan.orphanContainers {
                print("  container \(container.name) (\(container.state.rawValue))")
            }
            for volume in plan.orphanVolumes { print("  volume \(volume.name)") }
        }
        for (name, reason) in plan.skipped { print("Skip \(name): \(reason)") }
    }

    private func printSummary(_ report: CleanupReport) {
        let counts = report.counts
        let rate = report.elapsed > 0 ? Double(report.containersRemoved) / report.elapsed : 0
        print(
            "removed \(counts.removed), repaired \(counts.repaired), skipped \(counts.skipped), failed \(counts.failed) "
                + "(\(report.containersRemoved) containers, \(report.volumesRemoved) volumes) "
                + "in \(NumberFormatting.fixed(report.elapsed, digits: 1)) s, \(NumberFormatting.fixed(rate, digits: 0)) containers/s"
                + (report.interrupted ? "; interrupted: run the same command again to finish" : ""))
    }
}

/// Per-result lines, or on a terminal a progress bar on stderr with count, rate and ETA.
private final class ProgressDisplay: Sendable {
    private struct State {
        var lastDraw = Date.distantPast
        var drawn = false
    }
    private let state = Mutex(State())
    private let bar: Bool
    private let json: Bool

    init(json: Bool) {
        self.json = json
        bar = !json && LocalTerminal.isTerminal(STDERR_FILENO)
    }

    /// Called for each finished result, one at a time.
    func show(_ progress: CleanupProgress) {
        let line = Self.describe(progress.latest)
        state.withLock { state in
            if !bar {
                if !json, let line {
                    if case .failed = progress.latest.outcome { printError(line) } else { print(line) }
                }
                return
            }
            if let line, progress.latest.isNoteworthy {
                printError("\r\u{1B}[K" + line)
                state.drawn = false
            }
            let now = Date()
            guard progress.finished == progress.total || now.timeIntervalSince(state.lastDraw) >= 0.1 else { return }
            state.lastDraw = now
            state.drawn = true
            let fraction = Double(progress.finished) / Double(max(1, progress.total))
            let width = 30
            let filled = Int(fraction * Double(width))
            let rate = progress.elapsed > 0 ? Double(progress.finished) / progress.elapsed : 0
            let eta = rate > 0 ? Double(progress.total - progress.finished) / rate : 0
            let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
            StandardStream.error.write(
                "\r\u{1B}[K[\(bar)] \(progress.finished)/\(progress.total)  "
                    + "\(NumberFormatting.fixed(rate, digits: 1))/s  \(progress.containersRemoved) containers  "
                    + "ETA \(NumberFormatting.fixed(eta, digits: 0))s")
        }
    }

    /// Ends the bar's line.
    func end() {
        state.withLock { state in
            if state.drawn { StandardStream.error.write("\n") }
        }
    }

    private static func describe(_ result: CleanupResult) -> String? {
        let what = result.subject == .session ? result.name : "\(result.subject.rawValue) \(result.name)"
        switch result.outcome {
        case .removed: return "removed \(what)"
        case .repaired(let notes): return "repaired \(what): " + notes.joined(separator: "; ")
        case .skipped(let reason): return "skipped \(what): \(reason)"
        case .failed(let message): return "failed \(what): \(message)"
        }
    }
}

extension CleanupResult {
    /// Whether a progress bar should also print it as a line.
    fileprivate var isNoteworthy: Bool {
        if case .removed = outcome { return false }
        if case .skipped = outcome { return false }
        return true
    }
}
