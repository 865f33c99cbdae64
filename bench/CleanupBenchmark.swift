import CCOrcKit
import Foundation

/// `ccorc cleanup` of many launch-made sessions (containers, state volumes, tmux windows, rows)
/// beside the engine's floor (curl DELETEs of the containers, then of the volumes, under
/// `xargs -P 16`) and `docker rm -f -v` + `docker volume rm -f`, each on a population of the same
/// size (10% running).
func runCleanupBenchmark(binDirectory: String, sessionCount: Int, jobs: Int?, jobsSweep: Bool) async throws {
    try await withBenchSessions(binDirectory: binDirectory) { manager, environment, tag in
        if jobsSweep {
            try await sweepJobs(
                manager, environment: environment, binDirectory: binDirectory, tag: tag, sessionCount: sessionCount)
        } else {
            try await measureCleanup(
                manager, environment: environment, binDirectory: binDirectory, tag: tag, sessionCount: sessionCount,
                jobs: jobs)
        }
    }
}

/// Plants `count` sessions named `TAG-ROUND-N` the way launch makes them, 10% running with their
/// tmux sessions (see `plantLaunchedSessions`).
private func plant(_ manager: SessionManager, tag: String, round: String, count: Int) async throws -> Double {
    let start = Date()
    let names = try (0..<count).map { try SessionName("\(tag)-\(round)-\($0)") }
    _ = try await plantLaunchedSessions(manager, names: names, runningCount: count / 10)
    return Date().timeIntervalSince(start)
}

/// Who removes a population in a round.
private enum Remover: String, CaseIterable {
    /// `ccorc cleanup --pattern`.
    case ccorc
    /// The same DELETEs from one process: this bench's own engine client, 16 in flight.
    case requests
    /// The same DELETEs as curl processes under `xargs -P 16`.
    case floor
    /// The docker CLI.
    case docker
}

private func measureCleanup(
    _ manager: SessionManager, environment: [String: String], binDirectory: String, tag: String, sessionCount: Int,
    jobs: Int?
) async throws {
    let engine = manager.engine
    let containerCount = sessionCount * 3
    let ccorc = binDirectory + "/ccorc"
    let version = try await engine.apiVersion()
    let docker = ["/usr/local/bin/docker", "/usr/bin/docker"].first { FileManager.default.isExecutableFile(atPath: $0) }
    let jobsArguments = jobs.map { ["--jobs", String($0)] } ?? []
    Report.section(
        "ccorc cleanup of \(sessionCount) launch-made sessions (\(containerCount) containers and their \(containerCount) state volumes, 10% running with tmux windows)"
    )
    if docker == nil { Report.note("no docker CLI installed: the docker rm -f peer is skipped") }

    // The engine's removal rate drifts with what it did just before (layer deletions still being
    // written back), so the removers take turns on equal populations, in reverse order the
    // second round, and each figure is the mean of its two rounds.
    var times: [Remover: [Double]] = [:]
    var volumesRemoved: [Remover: Int] = [:]
    var selection: (json: [Double], text: [Double], curl: [Double]) = ([], [], [])
    for round in 0..<2 {
        let order = round == 0 ? Remover.allCases : Remover.allCases.reversed()
        for remover in order where remover != .docker || docker != nil {
            let population = "\(remover.rawValue.prefix(1))\(round)"
            let prefix = "\(tag)-\(population)-"
            let setup = try await plant(manager, tag: tag, round: population, count: sessionCount)
            Report.note(
                String(
                    format: "round %d: set up %d sessions for %@ in %.1f s", round + 1, sessionCount, remover.rawValue,
                    setup))
            try runQuietly("/bin/sync", [])
            if remover == .ccorc && round == 0 {
                selection.json = try timeEach(5) {
                    try runQuietly(
                        ccorc, ["cleanup", "--stopped-only", "--dry-run", "--json"], environment: environment)
                }
                selection.text = try timeEach(3) {
                    try runQuietly(ccorc, ["cleanup", "--stopped-only", "--dry-run"], environment: environment)
                }
                selection.curl = try timeEach(5) {
                    try runQuietly(
                        "/usr/bin/curl",
                        [
                            "-s", "-o", "/dev/null", "--unix-socket", engine.host.socketPath!,
                            "http://localhost/v\(version)/containers/json?all=1&filters=%7B%22label%22%3A%5B%22ccorc.session%22%5D%7D",
                        ])
                }
            }
            let before = try await SessionLeftovers.of(manager, prefix: prefix)
            let ids = before.containers.map(\.id)
            let volumes = before.volumes.map(\.name)
            guard ids.count == containerCount, volumes.count >= containerCount else {
                throw CommandFailed(
                    description:
                        "the population has \(ids.count) containers and \(volumes.count) volumes, not \(containerCount) of each"
                )
            }
            let seconds: Double
            switch remover {
            case .ccorc:
                seconds = try timeEach(1) {
                    try runQuietly(
                        ccorc, ["cleanup", "--pattern", "\(prefix)*", "--yes"] + jobsArguments, environment: environment
                    )
                }[0]
            case .floor:
                // The same engine work as ccorc's: every container (forced, with its anonymous
                // volumes), then every state volume, 16 requests in flight.
                let idFile = NSTemporaryDirectory() + "\(tag)-ids"
                let volumeFile = NSTemporaryDirectory() + "\(tag)-volumes"
                BenchResources.shared.registerPath(idFile)
                BenchResources.shared.registerPath(volumeFile)
                try ids.joined(separator: "\n").write(toFile: idFile, atomically: true, encoding: .utf8)
                try volumes.joined(separator: "\n").write(toFile: volumeFile, atomically: true, encoding: .utf8)
                defer {
                    unlink(idFile)
                    unlink(volumeFile)
                }
                let curl =
                    "xargs -P 16 -I{} curl -s -o /dev/null -X DELETE --unix-socket \(engine.host.socketPath!) 'http://localhost/v\(version)"
                seconds = try timeEach(1) {
                    try runQuietly(
                        "/bin/sh",
                        [
                            "-c",
                            "\(curl)/containers/{}?force=1&v=1' < \(idFile) && \(curl)/volumes/{}?force=1' < \(volumeFile)",
                        ])
                }[0]
            case .requests:
                let start = Date()
                for failure in await forEachConcurrently(
                    ids, width: 16,
                    { id in
                        try await engine.removeContainer(id, force: true, volumes: true)
                    }) where failure.error != nil
                {
                    throw CommandFailed(description: "DELETE /containers/\(failure.item): \(failure.error!)")
                }
                for failure in await forEachConcurrently(
                    volumes, width: 16,
                    { name in
                        try await engine.removeVolume(name, force: true)
                    }) where failure.error != nil
                {
                    throw CommandFailed(description: "DELETE /volumes/\(failure.item): \(failure.error!)")
                }
                seconds = Date().timeIntervalSince(start)
            case .docker:
                seconds = try timeEach(1) {
                    try runQuietly(docker!, ["rm", "-f", "-v"] + ids)
                    try runQuietly(docker!, ["volume", "rm", "-f"] + volumes)
                }[0]
            }
            let after = try await SessionLeftovers.of(manager, prefix: prefix)
            guard after.containers.isEmpty && after.volumes.isEmpty else {
                throw CommandFailed(
                    description:
                        "\(remover.rawValue) left \(after.containers.count) containers and \(after.volumes.count) volumes"
                )
            }
            if remover == .ccorc && !after.isEmpty {
                throw CommandFailed(description: "cleanup left \(after.summary)")
            }
            // The peers leave the registry rows and tmux sessions behind: not part of their time.
            try manager.registry.remove(try manager.registry.allSessions().map(\.name))
            _ = try? await manager.tmux.killSessions(try await manager.tmux.listSessions().map(\.name))
            Report.note(
                String(
                    format: "round %d: %@ removed %d containers and %d volumes in %.2f s (%.0f containers/s)",
                    round + 1, remover.rawValue, ids.count, volumes.count, seconds, Double(ids.count) / seconds))
            times[remover, default: []].append(seconds)
            volumesRemoved[remover, default: 0] += volumes.count
        }
    }

    Report.line(
        Comparison(
            name: "--stopped-only --dry-run --json (selection)", ours: median(selection.json), peerName: "curl list",
            peer: median(selection.curl), unit: "s"))
    Report.line(
        Comparison(
            name: "--stopped-only --dry-run (with disk sizes)", ours: median(selection.text), peerName: "curl list",
            peer: median(selection.curl), unit: "s"))
    func mean(_ remover: Remover) -> Double? { times[remover].map { $0.reduce(0, +) / Double($0.count) } }
    let ours = mean(.ccorc)!
    let floor = mean(.floor)!
    let ourName = "cleanup --pattern --yes" + (jobs.map { " --jobs \($0)" } ?? "")
    Report.line(
        Comparison(
            name: "\(ourName) (\(containerCount) c + \(containerCount) v)", ours: ours,
            peerName: "floor: curl DELETE, xargs -P16", peer: floor, unit: "s"))
    Report.note(
        String(
            format:
                "throughput: ccorc %.0f containers/s (%d volumes removed in 2 rounds), floor %.0f containers/s (%d volumes): %.0f%% of the floor (target at least 90%%)",
            Double(containerCount) / ours, volumesRemoved[.ccorc] ?? 0, Double(containerCount) / floor,
            volumesRemoved[.floor] ?? 0, 100 * floor / ours))
    let requests = mean(.requests)!
    Report.line(
        Comparison(
            name: "\(ourName) (\(containerCount) c + \(containerCount) v)", ours: ours,
            peerName: "floor: DELETEs from one process, 16 in flight", peer: requests, unit: "s"))
    Report.note(
        String(
            format:
                "throughput: ccorc %.0f containers/s, in-process floor %.0f containers/s: %.0f%% of that floor (target at least 90%%)",
            Double(containerCount) / ours, Double(containerCount) / requests, 100 * requests / ours))
    if let docker {
        Report.line(
            Comparison(
                name: "\(ourName) (\(containerCount) c + \(containerCount) v)", ours: ours,
                peerName: "\(docker) rm -f -v, volume rm -f", peer: mean(.docker), unit: "s"))
    }
}

/// Cleanup throughput at several `--jobs` widths, each on a fresh population: how the default was chosen.
private func sweepJobs(
    _ manager: SessionManager, environment: [String: String], binDirectory: String, tag: String, sessionCount: Int
) async throws {
    Report.section(
        "ccorc cleanup --jobs sweep, \(sessionCount) sessions (\(sessionCount * 3) containers, 10% running) a round")
    for jobs in [4, 8, 16, 32, 64] {
        _ = try await plant(manager, tag: tag, round: "j\(jobs)", count: sessionCount)
        let time = try timeEach(1) {
            try runQuietly(
                binDirectory + "/ccorc",
                ["cleanup", "--pattern", "\(tag)-j\(jobs)-*", "--yes", "--jobs", String(jobs)], environment: environment
            )
        }[0]
        Report.note(
            String(format: "--jobs %2d: %.2f s, %.0f containers/s", jobs, time, Double(sessionCount * 3) / time))
    }
}
