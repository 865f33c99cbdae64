import CCOrcKit
import Foundation

/// `ccorc health --all --json` beside the engine's one-shot stats for the same running containers,
/// and `ccorc export --all` beside `docker inspect` of the same containers.
///
/// With `--sessions N` (default 1,000): health over N/10 sessions of which a tenth run (100 and 30
/// containers by default), export over N sessions. Health exits 1 for unhealthy sessions, which
/// these are.
func runHealthBenchmark(binDirectory: String, sessionCount: Int) async throws {
    try await withBenchSessions(binDirectory: binDirectory) { manager, environment, tag in
        try await measureHealth(
            manager, environment: environment, binDirectory: binDirectory, tag: tag, sessionCount: sessionCount)
    }
}

private func measureHealth(
    _ manager: SessionManager, environment: [String: String], binDirectory: String, tag: String, sessionCount: Int
) async throws {
    let engine = manager.engine
    let ccorc = binDirectory + "/ccorc"
    let healthCount = max(1, sessionCount / 10)
    let runningCount = max(1, healthCount / 10)
    let names = try (0..<sessionCount).map { try SessionName("\(tag)-s\($0)") }
    let start = Date()
    _ = try await plantBenchSessions(manager, names: Array(names.prefix(healthCount)), tag: tag, runningCount: 0)
    let running = Array(names.prefix(runningCount))
    let runningContainers = running.flatMap { name in
        LaunchOptions().roles.map { SessionManager.containerName(name, $0) }
    }
    let started = await forEachConcurrently(runningContainers, width: 16) {
        try BenchResources.shared.checkpoint()
        try await engine.startContainer($0)
    }
    if let failure = started.first(where: { $0.error != nil })?.error { throw failure }
    for name in running {
        try await newBenchSession(
            manager, TmuxNewSessionOptions(name: name.rawValue, windowName: "leader", command: ["sleep", "3600"]))
        for role in ["researcher", "writer"] {
            _ = try await manager.tmux.newWindow(
                session: name.rawValue, TmuxNewWindowOptions(name: role, command: ["sleep", "3600"]))
        }
    }
    Report.section("ccorc health --all over \(healthCount) sessions, \(runningContainers.count) running containers")
    Report.note(String(format: "set up in %.1f s", Date().timeIntervalSince(start)))

    let health = try timeEach(5) {
        try runQuietly(ccorc, ["health", "--all", "--json"], environment: environment, accepting: 0...1)
    }
    let statsAll = try await timeEachAsync(3) {
        let results = await forEachConcurrently(runningContainers, width: runningContainers.count) {
            _ = try await engine.oneShotStats($0)
        }
        if let failure = results.first(where: { $0.error != nil })?.error { throw failure }
    }
    let statsOne = try await timeEachAsync(3) { _ = try await engine.oneShotStats(runningContainers[0]) }
    Report.line(
        Comparison(
            name: "ccorc health --all --json (process)", ours: median(health),
            peerName: "one-shot stats, \(runningContainers.count) at once", peer: median(statsAll), unit: "s"))
    Report.line(
        Comparison(
            name: "same", ours: median(health), peerName: "one-shot stats, one container", peer: median(statsOne),
            unit: "s"))
    let report = try await manager.healthOfAll()
    Report.note(
        "engine requests per check: \(report.engineRequests) (2 list calls + \(runningContainers.count) inspects)")

    Report.section("ccorc export --all of \(sessionCount) sessions (\(sessionCount * 3) containers), median of 3")
    let more = Date()
    _ = try await plantBenchSessions(manager, names: Array(names.dropFirst(healthCount)), tag: tag, runningCount: 0)
    Report.note(
        String(
            format: "registered %d more sessions in %.1f s", sessionCount - healthCount, Date().timeIntervalSince(more))
    )
    let output = NSTemporaryDirectory() + "ccorc-bench-\(tag)-export.json"
    BenchResources.shared.registerPath(output)
    defer { try? FileManager.default.removeItem(atPath: output) }
    let export = try timeEach(3) {
        try runQuietly(ccorc, ["export", "--all", "--output", output], environment: environment)
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: output)[.size] as? Int) ?? 0
    let containerNames = names.flatMap { name in LaunchOptions().roles.map { SessionManager.containerName(name, $0) } }
    let docker = ["/usr/bin/docker", "/usr/local/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }
    let inspect = try docker.map { docker in
        try timeEach(3) {
            try runQuietly(
                docker, ["inspect"] + containerNames, environment: ["DOCKER_HOST": "unix://" + engine.host.socketPath!])
        }
    }
    Report.line(
        Comparison(
            name: "ccorc export --all (process)", ours: median(export),
            peerName: "docker inspect of the \(containerNames.count)", peer: inspect.map(median), unit: "s"))
    Report.note("\(size / 1024) KiB written; \(docker ?? "no docker CLI") as the peer")
}
