import CCOrcKit
import Foundation

/// `ccorc list` over many registered sessions beside its floor, and bulk launch and stop.
func runSessionBenchmark(binDirectory: String, sessionCount: Int) async throws {
    try await withBenchSessions(binDirectory: binDirectory) { manager, environment, tag in
        try await measureSessions(
            manager, environment: environment, binDirectory: binDirectory, tag: tag, sessionCount: sessionCount)
    }
}

/// Runs `body` with a session manager on a private registry and tmux server (and the environment
/// that points `ccorc` at them), then removes every container, volume, tmux session and file made.
func withBenchSessions(
    binDirectory: String, _ body: (SessionManager, [String: String], String) async throws -> Void
) async throws {
    let engine = try EngineClient()
    let image = "ccorc-busybox:latest"
    if !(try await engine.imageExists(image)) { _ = try await BusyboxImage.importImage(into: engine, reference: image) }
    let tag = "bench\(getpid())"
    let home = NSTemporaryDirectory() + "ccorc-bench-\(tag)"
    let tmuxName = "ccorc-bench-\(tag)"
    let environment = [
        "CCORC_HOME": home, "CCORC_TMUX_SERVER": tmuxName, "CCORC_NETWORK": "none", "CCORC_IMAGE": image,
        "CCORC_AGENT_COMMAND": "sh", "TMUX": "",
    ]
    // Registered before anything is made: containers and volumes (sessions are named TAG-...), the
    // registry's directory and the tmux server.
    let resources = BenchResources.shared
    resources.registerNamePrefix(tag + "-")
    resources.registerPath(home)
    let tmux = TmuxControlClient(server: .named(tmuxName))
    try tmux.server.prepareSocketDirectory()
    resources.registerTmuxServer(onSocket: tmux.socketPath)
    resources.registerClient(tmux)
    // The lock file ccorc keeps beside a server's socket (TmuxServerLock) outlives the server.
    resources.registerPath(tmux.socketPath + ".ccorc-lock")
    let registry = try SessionRegistry(home: home)
    let manager = SessionManager(engine: engine, tmux: tmux, registry: registry, shellProgram: binDirectory + "/ccdk")
    do {
        try await body(manager, environment, tag)
    } catch {
        await removeBenchSessions(manager, tag: tag, home: home)
        throw error
    }
    await removeBenchSessions(manager, tag: tag, home: home)
}

/// What `withBenchSessions` made, removed when its body ends; after an interruption the run's
/// cleanup does this instead.
private func removeBenchSessions(_ manager: SessionManager, tag: String, home: String) async {
    guard BenchResources.shared.stopSignal == nil else { return }
    await removeBenchLeftovers(manager.engine, tag: tag)
    manager.tmux.close()
    BenchResources.shared.killTmuxServer(onSocket: manager.tmux.socketPath)
    try? FileManager.default.removeItem(atPath: manager.tmux.socketPath + ".ccorc-lock")
    try? FileManager.default.removeItem(atPath: home)
}

private func measureSessions(
    _ manager: SessionManager, environment: [String: String], binDirectory: String, tag: String, sessionCount: Int
) async throws {
    Report.section(
        "ccorc list over \(sessionCount) registered sessions (\(sessionCount * 3) containers), median of 10, runs alternating"
    )
    try await registerBenchSessions(manager, tag: tag, count: sessionCount)
    let engine = manager.engine
    let ccorc = binDirectory + "/ccorc"
    let version = try await engine.apiVersion()
    let filter = "%7B%22label%22%3A%5B%22ccorc.session%22%5D%7D"  // {"label":["ccorc.session"]}
    // The engine's list time drifts with its load, so the three take turns.
    var list: [Double] = []
    var verbose: [Double] = []
    var floor: [Double] = []
    for _ in 0..<10 {
        list += try timeEach(1) { try runQuietly(ccorc, ["list", "--json"], environment: environment) }
        verbose += try timeEach(1) { try runQuietly(ccorc, ["list", "--verbose"], environment: environment) }
        floor += try timeEach(1) {
            try runQuietly(
                "/usr/bin/curl",
                [
                    "-s", "-o", "/dev/null", "--unix-socket", engine.host.socketPath!,
                    "http://localhost/v\(version)/containers/json?all=1&filters=\(filter)",
                ])
            try runQuietly("/usr/bin/tmux", ["-L", environment["CCORC_TMUX_SERVER"]!, "list-sessions"])
        }
    }
    Report.line(
        Comparison(
            name: "ccorc list --json (process)", ours: median(list), peerName: "floor: curl list + tmux ls",
            peer: median(floor), unit: "s"))
    Report.line(
        Comparison(
            name: "ccorc list --verbose (process)", ours: median(verbose), peerName: "floor: curl list + tmux ls",
            peer: median(floor), unit: "s"))
    Report.note(
        String(format: "ccorc list / floor = %.2f (target at most 2, and under 250 ms)", median(list) / median(floor)))

    Report.section("Launch and stop 20 sessions")
    let batch = (0..<20).map { "\(tag)-l\($0)" }
    let sequentialNames = (0..<20).map { "\(tag)-q\($0)" }
    let together = try timeEach(1) { try runQuietly(ccorc, ["launch", "--detach"] + batch, environment: environment) }[
        0]
    let oneByOne = try timeEach(1) {
        for name in sequentialNames { try runQuietly(ccorc, ["launch", "--detach", name], environment: environment) }
    }[0]
    Report.line(
        Comparison(
            name: "ccorc launch of 20 in one call", ours: together, peerName: "20 launches one after another",
            peer: oneByOne, unit: "s"))
    let stop = try timeEach(1) { try runQuietly(ccorc, ["stop", "--time", "10"] + batch, environment: environment) }[0]
    Report.line(
        Comparison(
            name: "ccorc stop of 20 running sessions in one call", ours: stop, peerName: "one grace period", peer: 10,
            unit: "s"))
}

/// Registers `count` sessions the way launch leaves them, `TAG-sN`: every agent's container is
/// created, a tenth of the sessions run, and twenty have a tmux session.
func registerBenchSessions(_ manager: SessionManager, tag: String, count sessionCount: Int) async throws {
    let start = Date()
    let names = try (0..<sessionCount).map { try SessionName("\(tag)-s\($0)") }
    let running = try await plantBenchSessions(manager, names: names, tag: tag, runningCount: sessionCount / 10)
    for name in running.prefix(20) {
        try await newBenchSession(manager, TmuxNewSessionOptions(name: name.rawValue, command: ["sleep", "3600"]))
    }
    Report.note(
        String(
            format: "set up %d sessions (%d running) in %.1f s", sessionCount, running.count,
            Date().timeIntervalSince(start)))
}
