import CCOrcKit
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `ccorc cleanup` killed mid-way, at scale: each round plants `sessionCount` launch-made sessions
/// (10% running, with tmux windows), starts `ccorc cleanup --pattern 'PREFIX-*' --yes`, SIGKILLs it
/// after `killAfter` seconds and checks that every container, volume and tmux session of the prefix
/// still has its registry row; then runs the same command again and checks that it exits 0 and
/// leaves nothing of the prefix. Throws when any round found a violation.
func runCleanupCrashCheck(binDirectory: String, sessionCount: Int, rounds: Int, killAfter: Double = 1) async throws {
    try await withBenchSessions(binDirectory: binDirectory) { manager, environment, tag in
        Report.section(
            "ccorc cleanup SIGKILLed after \(killAfter) s, \(sessionCount) launch-made sessions a round, \(rounds) rounds"
        )
        var failures: [String] = []
        for round in 1...rounds {
            let prefix = "\(tag)-k\(round)-"
            let names = try (0..<sessionCount).map { try SessionName("\(prefix)\($0)") }
            let start = Date()
            _ = try await plantLaunchedSessions(manager, names: names, runningCount: sessionCount / 10)
            let planted = try await SessionLeftovers.of(manager, prefix: prefix)
            Report.note(
                String(format: "round %d: set up %@ in %.1f s", round, planted.summary, Date().timeIntervalSince(start))
            )

            let arguments = ["cleanup", "--pattern", "\(prefix)*", "--yes"]
            let killed = try runKilled(binDirectory + "/ccorc", arguments, environment: environment, after: killAfter)
            let left = try await SessionLeftovers.of(manager, prefix: prefix)
            let untracked = left.untracked
            Report.note(
                "round \(round): \(killed ? "killed" : "finished before the kill"); left \(left.summary); untracked: \(untracked.count)"
            )
            for violation in untracked.prefix(20) { Report.note("  VIOLATION: \(violation) has no registry row") }
            if !untracked.isEmpty { failures.append("round \(round): \(untracked.count) untracked after the kill") }

            let status = try runWithStatus(binDirectory + "/ccorc", arguments, environment: environment)
            let final = try await SessionLeftovers.of(manager, prefix: prefix)
            Report.note("round \(round): cleanup again exited \(status); left \(final.summary)")
            if status != 0 { failures.append("round \(round): the second cleanup exited \(status)") }
            if !final.isEmpty {
                failures.append("round \(round): the second cleanup left \(final.summary)")
                await removeBenchLeftovers(manager.engine, tag: tag)
                try manager.registry.remove(try manager.registry.allSessions().map(\.name))
                _ = try? await manager.tmux.killSessions(try await manager.tmux.listSessions().map(\.name))
            }
        }
        Report.note(
            failures.isEmpty
                ? "crash check: \(rounds) of \(rounds) rounds passed"
                : "crash check FAILED: " + failures.joined(separator: "; "))
        if !failures.isEmpty {
            throw CommandFailed(description: "crash check failed: " + failures.joined(separator: "; "))
        }
    }
}

/// Runs a program with its output discarded and SIGKILLs it after `seconds`.
/// - Returns: whether it was still running when killed.
private func runKilled(
    _ path: String, _ arguments: [String], environment: [String: String], after seconds: Double
) throws -> Bool {
    let process = try startQuietly(path, arguments, environment: environment)
    let token = BenchResources.shared.track(pid: process.processIdentifier)
    defer { BenchResources.shared.untrack(token) }
    let deadline = Date().addingTimeInterval(seconds)
    while process.isRunning && Date() < deadline { usleep(5_000) }
    let running = process.isRunning
    if running { kill(process.processIdentifier, SIGKILL) }
    process.waitUntilExit()
    return running && process.terminationReason == .uncaughtSignal && process.terminationStatus == SIGKILL
}
