import CCOrcKit
import Foundation

/// `ccorc cleanup` of many sessions beside the engine's floor (curl DELETEs under `xargs -P 16`) and
/// `docker rm -f`, each on a population of the same size (10% running).
func runCleanupBenchmark(binDirectory: String, sessionCount: Int, jobsSweep: Bool) async throws {
    let engine = try EngineClient()
    let image = "ccorc-busybox:latest"
    if !(try await engine.imageExists(image)) { _ = try await BusyboxImage.importImage(into: engine, reference: image) }
    let tag = "benchc\(getpid())"
    let home = NSTemporaryDirectory() + "ccorc-bench-\(tag)"
    let tmuxName = "ccorc-bench-\(tag)"
    let environment = [
        "CCORC_HOME": home, "CCORC_TMUX_SERVER": tmuxName, "CCORC_NETWORK": "none", "CCORC_IMAGE": image, "CCORC_AGENT_COMMAND": "sh", "TMUX": "",
    ]
    let tmux = TmuxControlClient(server: .named(tmuxName))
    let manager = SessionManager(engine: engine, tmux: tmux, registry: try SessionRegistry(home: home), shellProgram: binDirectory + "/ccdk")
    defer { try? FileManager.default.removeItem(atPath: home) }
    do {
        if jobsSweep {
            try await sweepJobs(manager, environment: environment, binDirectory: binDirectory, tag: tag, sessionCount: sessionCount)
        } else {
            try await measureCleanup(manager, environment: environment, binDirectory: binDirectory, tag: tag, sessionCount: sessionCount)
        }
    } catch {
        await removeBenchLeftovers(engine, tag: tag)
        try? await tmux.killServer()
        throw error
    }
    await removeBenchLeftovers(engine, tag: tag)
    try? await tmux.killServer()
}

/// Plants `count` sessions named `TAG-ROUND-N`, 10% running, the first 100 of those with a tmux session.
private func plant(_ manager: SessionManager, tag: String, round: String, count: Int) async throws -> Double {
    let start = Date()
    let names = try (0..<count).map { try SessionName("\(tag)-\(round)-\($0)") }
    let running = try await plantBenchSessions(manager, names: names, tag: tag, runningCount: count / 10)
    for name in running.prefix(100) {
        _ = try await manager.tmux.newSession(TmuxNewSessionOptions(name: name.rawValue, command: ["sleep", "3600"]))
    }
    return Date().timeIntervalSince(start)
}

private func measureCleanup(_ manager: SessionManager, environment: [String: String], binDirectory: String, tag: String, sessionCount: Int) async throws {
    let engine = manager.engine
    let containerCount = sessionCount * 3
    let ccorc = binDirectory + "/ccorc"
    Report.section("ccorc cleanup of \(sessionCount) sessions (\(containerCount) containers, 10% running)")
    let setup = try await plant(manager, tag: tag, round: "c", count: sessionCount)
    Report.note(String(format: "set up %d sessions in %.1f s", sessionCount, setup))

    let selectJSON = try timeEach(5) { try runQuietly(ccorc, ["cleanup", "--stopped-only", "--dry-run", "--json"], environment: environment) }
    let selectText = try timeEach(3) { try runQuietly(ccorc, ["cleanup", "--stopped-only", "--dry-run"], environment: environment) }
    let version = try await engine.apiVersion()
    let listFloor = try timeEach(5) {
        try runQuietly("/usr/bin/curl", ["-s", "-o", "/dev/null", "--unix-socket", engine.host.socketPath,
                                         "http://localhost/v\(version)/containers/json?all=1&filters=%7B%22label%22%3A%5B%22ccorc.session%22%5D%7D"])
    }
    Report.line(Comparison(name: "--stopped-only --dry-run --json (selection)", ours: median(selectJSON), peerName: "curl list", peer: median(listFloor), unit: "s"))
    Report.line(Comparison(name: "--stopped-only --dry-run (with disk sizes)", ours: median(selectText), peerName: "curl list", peer: median(listFloor), unit: "s"))

    let ours = try timeEach(1) { try runQuietly(ccorc, ["cleanup", "--pattern", "\(tag)-c-*", "--yes"], environment: environment) }[0]
    let left = try await engine.listContainers(all: true, filters: ["label": ["ccorc.bench=\(tag)"]]).count
    let rows = try manager.registry.allSessions().count
    guard left == 0, rows == 0 else { throw CommandFailed(description: "cleanup left \(left) containers and \(rows) registry rows") }

    let floorSetup = Date()
    let floorIDs = try await plantBenchContainers(engine, prefix: "\(tag)-f", tag: tag, count: containerCount, runningCount: containerCount / 10)
    Report.note(String(format: "set up %d plain containers in %.1f s", containerCount, Date().timeIntervalSince(floorSetup)))
    let idFile = NSTemporaryDirectory() + "\(tag)-ids"
    try floorIDs.joined(separator: "\n").write(toFile: idFile, atomically: true, encoding: .utf8)
    defer { unlink(idFile) }
    let floor = try timeEach(1) {
        try runQuietly("/bin/sh", ["-c", "xargs -P 16 -I{} curl -s -o /dev/null -X DELETE --unix-socket \(engine.host.socketPath) "
                                          + "'http://localhost/v\(version)/containers/{}?force=1' < \(idFile)"])
    }[0]
    let ourRate = Double(containerCount) / ours
    let floorRate = Double(containerCount) / floor
    Report.line(Comparison(name: "cleanup --pattern --yes (\(containerCount) containers)", ours: ours, peerName: "floor: curl DELETE, xargs -P16", peer: floor, unit: "s"))
    Report.note(String(format: "throughput: ccorc %.0f containers/s, floor %.0f containers/s: %.0f%% of the floor (target at least 90%%)",
                       ourRate, floorRate, 100 * ourRate / floorRate))

    if let docker = ["/usr/local/bin/docker", "/usr/bin/docker"].first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
        let dockerIDs = try await plantBenchContainers(engine, prefix: "\(tag)-d", tag: tag, count: containerCount, runningCount: containerCount / 10)
        let cli = try timeEach(1) { try runQuietly(docker, ["rm", "-f"] + dockerIDs) }[0]
        Report.line(Comparison(name: "cleanup --pattern --yes (\(containerCount) containers)", ours: ours, peerName: "\(docker) rm -f", peer: cli, unit: "s"))
    } else {
        Report.note("no docker CLI installed: the docker rm -f peer is skipped")
    }
}

/// Cleanup throughput at several `--jobs` widths, each on a fresh population: how the default was chosen.
private func sweepJobs(_ manager: SessionManager, environment: [String: String], binDirectory: String, tag: String, sessionCount: Int) async throws {
    Report.section("ccorc cleanup --jobs sweep, \(sessionCount) sessions (\(sessionCount * 3) containers, 10% running) a round")
    for jobs in [4, 8, 16, 32, 64] {
        _ = try await plant(manager, tag: tag, round: "j\(jobs)", count: sessionCount)
        let time = try timeEach(1) {
            try runQuietly(binDirectory + "/ccorc", ["cleanup", "--pattern", "\(tag)-j\(jobs)-*", "--yes", "--jobs", String(jobs)], environment: environment)
        }[0]
        Report.note(String(format: "--jobs %2d: %.2f s, %.0f containers/s", jobs, time, Double(sessionCount * 3) / time))
    }
}
