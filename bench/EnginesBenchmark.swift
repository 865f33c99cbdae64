import CCOrcKit
import Foundation

/// `ccorc list` over three engines (the main one and two private dockerds) of `sessionsPerEngine`
/// sessions each, beside each engine's own list call, the slowest of which is the peer.
func runEnginesBenchmark(binDirectory: String, sessionsPerEngine: Int) async throws {
    try await withBenchSessions(binDirectory: binDirectory) { manager, environment, tag in
        try await ExtraBenchEngine.with(2, image: "ccorc-busybox:latest") { extras in
            try await measureEngines(
                manager, extras, environment: environment, binDirectory: binDirectory, tag: tag,
                sessionsPerEngine: sessionsPerEngine)
        }
    }
}

private func measureEngines(
    _ manager: SessionManager, _ extras: [ExtraBenchEngine], environment: [String: String], binDirectory: String,
    tag: String, sessionsPerEngine: Int
) async throws {
    Report.section(
        "ccorc list over 3 engines × \(sessionsPerEngine) sessions (\(sessionsPerEngine * 9) containers), median of 10, runs alternating"
    )
    // The two extra engines as docker contexts, the main one as the default context.
    let config = NSTemporaryDirectory() + "ccorc-bench-\(tag)-docker"
    BenchResources.shared.registerPath(config)
    for (index, extra) in extras.enumerated() {
        let meta = "\(config)/contexts/meta/e\(index + 1)"
        try FileManager.default.createDirectory(atPath: meta, withIntermediateDirectories: true)
        try #"{"Name":"e\#(index + 1)","Metadata":{},"Endpoints":{"docker":{"Host":"\#(extra.dockerHost)"}}}"#
            .write(toFile: meta + "/meta.json", atomically: true, encoding: .utf8)
    }
    var environment = environment
    environment["DOCKER_CONFIG"] = config
    environment["DOCKER_HOST"] = ""

    let names = { (engine: String) in
        (0..<sessionsPerEngine).map { SessionName(rawValue: "\(tag)-\(engine)-\($0)")! }
    }
    _ = try await plantBenchSessions(manager, names: names("m"), tag: tag, runningCount: 0)
    for (index, extra) in extras.enumerated() {
        _ = try await plantBenchSessions(
            manager, names: names("e\(index + 1)"), tag: tag, runningCount: 0, on: (extra.client, "e\(index + 1)"))
    }
    let sockets = [manager.engine.host.socketPath ?? EngineHost.defaultSocketPath] + extras.map(\.socketPath)
    let version = try await manager.engine.apiVersion()
    let filter = "%7B%22label%22%3A%5B%22ccorc.session%22%5D%7D"  // {"label":["ccorc.session"]}
    let ccorc = binDirectory + "/ccorc"
    // Check once, through the library with the same environment, that the listing is whole.
    let pool = try EnginePool(environment: ProcessInfo.processInfo.environment.merging(environment) { $1 })
    let listing = try await SessionManager(
        engines: pool, tmux: manager.tmux, registry: manager.registry, shellProgram: manager.shellProgram
    ).listing(includeOrphans: false)
    let stopped = listing.sessions.filter { $0.condition == .stopped }.count
    guard listing.unreachable.isEmpty, stopped == sessionsPerEngine * 3 else {
        throw CommandFailed(
            description: "the listing over 3 engines showed \(stopped) stopped sessions, not \(sessionsPerEngine * 3)")
    }
    var list: [Double] = []
    var listCPU: [Double] = []
    var text: [Double] = []
    var together: [Double] = []
    var single: [[Double]] = Array(repeating: [], count: sockets.count)
    // Each engine's own CPU time for its list call, read from its threads around the call.
    let engineProcesses = try sockets.map { socket in
        guard let pid = ProcessMeter.serverPID(socketPath: socket) else {
            throw CommandFailed(description: "cannot tell which process serves \(socket)")
        }
        return pid
    }
    var engineCPU: [[Double]] = Array(repeating: [], count: sockets.count)
    let curlArguments = { (socket: String) in
        [
            "-s", "-o", "/dev/null", "--unix-socket", socket,
            "http://localhost/v\(version)/containers/json?all=1&filters=\(filter)",
        ]
    }
    for _ in 0..<10 {
        let run = try MeasuredRun.run([ccorc, "list", "--json"], environment: environment)
        guard run.status == 0 else { throw CommandFailed(description: "ccorc list exited \(run.status)") }
        list.append(run.seconds)
        listCPU.append(run.cpuSeconds)
        text += try timeEach(1) { try runQuietly(ccorc, ["list"], environment: environment) }
        // The three lists at once, as ccorc sends them: on one host the engines share its cores.
        together += try timeEach(1) {
            let curls = try sockets.map { try startQuietly("/usr/bin/curl", curlArguments($0)) }
            for curl in curls { curl.waitUntilExit() }
        }
        for (index, socket) in sockets.enumerated() {
            let before = ProcessMeter.threadCPUSeconds(engineProcesses[index]) ?? .nan
            single[index] += try timeEach(1) { try runQuietly("/usr/bin/curl", curlArguments(socket)) }
            engineCPU[index].append((ProcessMeter.threadCPUSeconds(engineProcesses[index]) ?? .nan) - before)
        }
    }
    // ccorc's own CPU to fetch and read one engine's reply, through the library call `list` makes
    // (the projection, jansson, the summaries), each engine in turn.
    let clients = [manager.engine] + extras.map(\.client)
    var readCPU: [[Double]] = Array(repeating: [], count: clients.count)
    for _ in 0..<10 {
        for (index, client) in clients.enumerated() {
            let before = ownCPUSeconds()
            let containers = try await client.listContainers(
                all: true, filters: ["label": [OwnershipLabels.session]],
                labels: [OwnershipLabels.session, OwnershipLabels.role], brief: true)
            readCPU[index].append(ownCPUSeconds() - before)
            guard containers.count >= sessionsPerEngine * 3 else {
                throw CommandFailed(description: "engine \(index + 1) listed \(containers.count) containers")
            }
        }
    }
    let medians = single.map(median)
    let slowest = medians.max()!
    Report.line(
        Comparison(
            name: "ccorc list, 3 engines (process)", ours: median(text), peerName: "slowest engine's list (curl)",
            peer: slowest, unit: "s"))
    Report.line(
        Comparison(
            name: "ccorc list --json, 3 engines (process)", ours: median(list),
            peerName: "slowest engine's list (curl)", peer: slowest, unit: "s"))
    Report.line(
        Comparison(
            name: "ccorc list --json, 3 engines (process)", ours: median(list),
            peerName: "the 3 lists at once (3 curls)", peer: median(together), unit: "s"))
    Report.note(
        "each engine's own list (curl): "
            + medians.map { Report.format($0, "s") }.joined(separator: ", ")
            + "; ccorc's own CPU per list: " + Report.format(median(listCPU), "s"))
    Report.note(
        String(
            format: "ccorc list over 3 engines / slowest single list = %.2f (target at most 1.3)",
            median(list) / slowest))
    // On one host the engines share its cores with each other and with ccorc: the CPU all of them
    // spend, spread perfectly over the cores, is a floor no listing can beat.
    let cores = Double(ProcessEnvironment.activeProcessorCount)
    let enginesCPU = engineCPU.map(median).reduce(0, +)
    Report.note(
        "each engine's own CPU for its list: "
            + engineCPU.map { Report.format(median($0), "s") }.joined(separator: ", ")
            + "; on \(Int(cores)) cores the three lists alone need at least "
            + Report.format(enginesCPU / cores, "s") + ", and with the CPU of ccorc list --json at least "
            + Report.format((enginesCPU + median(listCPU)) / cores, "s"))
    // What the target leaves ccorc: the CPU the cores have in 1.3 times the slowest list, less
    // the engines' own.
    let budget = 1.3 * slowest * cores - enginesCPU
    let reading = readCPU.map(median)
    Report.note(
        "reading each engine's reply (library call, in process): "
            + reading.map { Report.format($0, "s") }.joined(separator: ", ") + ", together "
            + Report.format(reading.reduce(0, +), "s") + " of CPU; the 1.3 target leaves all of ccorc list "
            + Report.format(budget, "s"))
}

/// This process's CPU time so far (every thread's, user and system), in seconds.
private func ownCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
        + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
