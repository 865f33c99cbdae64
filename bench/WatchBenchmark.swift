import CCOrcKit
import EngineProxy
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// `ccorc watch --json` over `--sessions N` idle launch-made sessions (10% running, with tmux
/// windows) beside the pollers it replaces, each over the same `--watch-seconds` window in turn:
/// peer A runs `ccorc list --json` every second; peer B does what claude-squad does every 500 ms,
/// `tmux list-sessions` and one engine container list (curl, the label filter).
///
/// - Engine requests: every client talks to the engine through a counting proxy
///   (`EngineProxy`, `DOCKER_HOST=unix://PROXY`); the watcher's are counted from two seconds
///   after its snapshot line.
/// - CPU: the watcher's utime + stime (/proc/PID/stat) with its `tmux -C` child's, over the
///   window; a peer's is the wait4 rusage of every process it ran in its window. The tmux server's
///   and dockerd's (/proc/PID/stat) over each window show the servers' share.
/// - Latency: a container killed behind ccorc's back (POST /kill on the engine's own socket) and
///   an agent window closed (`kill-window` on the session's server), each `--watch-rounds` times,
///   until the matching `session-changed` line is read from the watcher's stdout; the container is
///   started and the window made again between rounds, and the next round waits for the restore's
///   own lines and then for quiet.
/// - Memory: the watcher's VmRSS and VmHWM beside `ccorc list --json`'s ru_maxrss.
func runWatchBenchmark(binDirectory: String, sessionCount: Int, seconds: Double, rounds: Int) async throws {
    try await withBenchSessions(binDirectory: binDirectory) { manager, environment, tag in
        try await measureWatch(
            manager, environment: environment, binDirectory: binDirectory, tag: tag, sessionCount: sessionCount,
            seconds: seconds, rounds: rounds)
    }
}

/// The counters the suite reads at the start and end of a window.
private struct Sample {
    var time: UInt64
    var requests: Int
    var eventLines: Int
    var volumeEventLines: Int
    /// CPU seconds of the tmux server and of dockerd, nil when unreadable.
    var tmuxServer: Double?
    var dockerd: Double?

    static func take(_ proxy: EngineProxy, tmuxServer: pid_t?, dockerd: [pid_t]) -> Sample {
        let traffic = proxy.traffic()
        let engineCPU = dockerd.compactMap(ProcessMeter.cpuSeconds)
        return Sample(
            time: DispatchTime.now().uptimeNanoseconds, requests: traffic.requests.count,
            eventLines: traffic.eventLines, volumeEventLines: traffic.volumeEventLines,
            tmuxServer: tmuxServer.flatMap(ProcessMeter.cpuSeconds),
            dockerd: engineCPU.isEmpty ? nil : engineCPU.reduce(0, +))
    }
}

/// What one client cost over one window, and how to put it per minute.
private struct WindowCost {
    var minutes: Double
    var requests: Int
    var eventLines: Int
    var volumeEventLines: Int
    /// The client's CPU seconds (the watcher's from /proc, a peer's from rusage).
    var clientCPU: Double
    var tmuxServerCPU: Double?
    var dockerdCPU: Double?

    init(from before: Sample, to after: Sample, clientCPU: Double) {
        minutes = Double(after.time - before.time) / 60e9
        requests = after.requests - before.requests
        eventLines = after.eventLines - before.eventLines
        volumeEventLines = after.volumeEventLines - before.volumeEventLines
        self.clientCPU = clientCPU
        tmuxServerCPU = zip(after.tmuxServer, before.tmuxServer).map { $0 - $1 }
        dockerdCPU = zip(after.dockerd, before.dockerd).map { $0 - $1 }
    }

    func perMinute(_ value: Double) -> Double { value / minutes }

    /// `client X ms/min, tmux server Y ms/min, dockerd Z ms/min`.
    var cpuSummary: String {
        func milliseconds(_ value: Double?) -> String {
            value.map { String(format: "%.1f ms/min", perMinute($0) * 1000) } ?? "n/a"
        }
        return
            "client \(milliseconds(clientCPU)), tmux server \(milliseconds(tmuxServerCPU)), dockerd \(milliseconds(dockerdCPU))"
    }
}

/// `zip` for two optionals.
private func zip<A, B>(_ a: A?, _ b: B?) -> (A, B)? {
    guard let a, let b else { return nil }
    return (a, b)
}

/// A polling peer's window: its cost, the wall time of each poll and the largest ru_maxrss.
private struct PollingResult {
    var cost: WindowCost
    var polls: [Double]
    var maxRSS: Int
}

private func measureWatch(
    _ manager: SessionManager, environment: [String: String], binDirectory: String, tag: String, sessionCount: Int,
    seconds: Double, rounds: Int
) async throws {
    let engine = manager.engine
    let roles = LaunchOptions().roles
    let ccorc = binDirectory + "/ccorc"
    let names = try (0..<sessionCount).map { try SessionName("\(tag)-w\($0)") }
    let setUp = Date()
    let live = try await plantLaunchedSessions(manager, names: names, runningCount: max(3, sessionCount / 10))
    Report.section(
        "ccorc watch over \(sessionCount) idle sessions (\(sessionCount * roles.count) containers, \(live.count) sessions running with tmux windows), \(Int(seconds)) s windows"
    )
    Report.note(String(format: "set up in %.1f s", Date().timeIntervalSince(setUp)))

    let proxy = try EngineProxy(
        socketPath: NSTemporaryDirectory() + "ccorc-bench-\(tag)-engine.sock", upstream: engine.host.socketPath!)
    BenchResources.shared.registerPath(proxy.socketPath)
    defer { proxy.stop() }
    var proxied = environment
    proxied["DOCKER_HOST"] = "unix://" + proxy.socketPath
    let tmuxServer = try TmuxBenchProcess.run([
        "tmux", "-S", manager.tmux.socketPath, "display-message", "-p", "#{pid}",
    ]).trimmingCharacters(in: .whitespacesAndNewlines)
    let tmuxServerPID = pid_t(tmuxServer)
    let dockerd = ProcessMeter.processes(named: "dockerd")
    if dockerd.isEmpty { Report.note("no dockerd process visible in /proc: the engine's CPU is not shown") }
    if dockerd.count > 1 { Report.note("\(dockerd.count) dockerd processes: their CPU is summed") }

    // The watcher: its snapshot, then an idle window.
    let watcher = try LineReadingProcess([ccorc, "watch", "--json"], environment: proxied)
    defer { watcher.stop() }
    let launched = DispatchTime.now().uptimeNanoseconds
    guard
        let snapshot = watcher.waitForLine(from: 0, timeout: 600, { jsonObject($0)?["type"] as? String == "snapshot" })
    else {
        throw CommandFailed(description: "ccorc watch --json printed no snapshot line within 600 s")
    }
    let snapshotSessions = (jsonObject(snapshot.line.text)?["sessions"] as? [Any])?.count ?? 0
    Report.note(
        String(
            format: "ccorc watch --json: snapshot of %d sessions after %.2f s", snapshotSessions,
            Double(snapshot.line.time - launched) / 1e9))
    guard snapshotSessions == sessionCount else {
        throw CommandFailed(description: "the snapshot has \(snapshotSessions) sessions, not \(sessionCount)")
    }
    try pause(2)
    let startUp = proxy.traffic().requests
    let streaming = startUp.filter { $0.path.contains("/events") && $0.ended == nil }.count
    Report.note(
        "start-up requests (snapshot and event streams): \(startUp.count): \(requestSummary(startUp)); \(streaming) events streams open"
    )
    let watchBefore = Sample.take(proxy, tmuxServer: tmuxServerPID, dockerd: dockerd)
    let watcherBefore = watcherCPU(watcher.pid)
    try pause(seconds)
    let watcherAfter = watcherCPU(watcher.pid)
    let watchAfter = Sample.take(proxy, tmuxServer: tmuxServerPID, dockerd: dockerd)
    let watchCost = WindowCost(
        from: watchBefore, to: watchAfter, clientCPU: watcherAfter - watcherBefore)
    let idleMemory = ProcessMeter.memory(watcher.pid)
    let idleRequests = Array(proxy.traffic().requests.dropFirst(watchBefore.requests))
    Report.note(
        String(
            format:
                "watch window: %d requests%@; %d engine events relayed to it (%d of them volume events; on a shared engine, other clients' containers and volumes); CPU %@",
            watchCost.requests, idleRequests.isEmpty ? "" : " (\(requestSummary(idleRequests)))",
            watchCost.eventLines, watchCost.volumeEventLines, watchCost.cpuSummary))

    // Latency, with the same watcher.
    let killed = try await containerRounds(manager, watcher: watcher, live: live, roles: roles, rounds: rounds)
    let closed = try await windowRounds(manager, watcher: watcher, live: live, roles: roles, rounds: rounds)
    let finalMemory = ProcessMeter.memory(watcher.pid)
    watcher.stop()

    // Peer A: ccorc list --json every second.
    let listResult = try poll(every: 1, for: seconds, proxy: proxy, tmuxServer: tmuxServerPID, dockerd: dockerd) {
        let run = try MeasuredRun.run([ccorc, "list", "--json"], environment: proxied)
        guard run.status == 0 else { throw CommandFailed(description: "ccorc list --json exited \(run.status)") }
        return [run]
    }
    Report.note(
        String(
            format: "list window: %d runs, %d requests; CPU %@", listResult.polls.count, listResult.cost.requests,
            listResult.cost.cpuSummary))

    // Peer B: claude-squad's poll every 500 ms.
    let version = try await engine.apiVersion()
    let filter = "%7B%22label%22%3A%5B%22ccorc.session%22%5D%7D"  // {"label":["ccorc.session"]}
    let squadResult = try poll(every: 0.5, for: seconds, proxy: proxy, tmuxServer: tmuxServerPID, dockerd: dockerd) {
        let tmux = try MeasuredRun.run(["tmux", "-S", manager.tmux.socketPath, "list-sessions"])
        let curl = try MeasuredRun.run([
            "curl", "-s", "-f", "-o", "/dev/null", "--unix-socket", proxy.socketPath,
            "http://localhost/v\(version)/containers/json?all=1&filters=\(filter)",
        ])
        guard tmux.status == 0, curl.status == 0 else {
            throw CommandFailed(description: "tmux list-sessions exited \(tmux.status), curl \(curl.status)")
        }
        return [tmux, curl]
    }
    Report.note(
        String(
            format: "squad window: %d polls, %d requests; CPU %@", squadResult.polls.count, squadResult.cost.requests,
            squadResult.cost.cpuSummary))

    // The table.
    let listName = "ccorc list --json every 1 s"
    let squadName = "claude-squad: tmux ls + list / 500 ms"
    say("")
    for (name, peer) in [(listName, listResult), (squadName, squadResult)] {
        Report.line(
            Comparison(
                name: "engine requests/min, idle (after snapshot)",
                ours: watchCost.perMinute(Double(watchCost.requests)),
                peerName: name, peer: peer.cost.perMinute(Double(peer.cost.requests)), unit: "req/min"))
    }
    for (name, peer) in [(listName, listResult), (squadName, squadResult)] {
        Report.line(
            Comparison(
                name: "CPU ms/min idle (watch + its tmux -C)", ours: watchCost.perMinute(watchCost.clientCPU) * 1000,
                peerName: name, peer: peer.cost.perMinute(peer.cost.clientCPU) * 1000, unit: "ms/min"))
    }
    let ticksNote =
        watchCost.clientCPU == 0
        ? String(format: "under one %.0f ms clock tick in the window", 1000 / ProcessMeter.ticksPerSecond)
        : String(format: "%.1f ms/min", watchCost.perMinute(watchCost.clientCPU) * 1000)
    let watchPerMinute = watchCost.perMinute(watchCost.clientCPU)
    Report.note(
        String(
            format:
                "watcher CPU from /proc/PID/stat (threads that ended included): %@; watcher/peer A = 1/%.0f, watcher/peer B = 1/%.0f (target at most 1/20)",
            ticksNote, listResult.cost.perMinute(listResult.cost.clientCPU) / watchPerMinute,
            squadResult.cost.perMinute(squadResult.cost.clientCPU) / watchPerMinute))
    Report.note(
        "servers over each window: watch: \(serverSummary(watchCost)); list: \(serverSummary(listResult.cost)); squad: \(serverSummary(squadResult.cost))"
    )

    let listDetect = 0.5 + median(listResult.polls)
    let squadDetect = 0.25 + median(squadResult.polls)
    for (what, samples, target) in [
        ("container killed -> session-changed", killed.seen, 0.1),
        ("window closed -> session-changed", closed.seen, 0.02),
    ] {
        Report.line(
            Comparison(
                name: "\(what), median of \(samples.count)", ours: median(samples),
                peerName: "list / 1 s: half a period + a list", peer: listDetect, unit: "s"))
        Report.line(
            Comparison(
                name: "same", ours: median(samples), peerName: "squad / 500 ms: half a period + a poll",
                peer: squadDetect, unit: "s"))
        Report.note(
            String(
                format: "%@: median %@, p90 %@, max %@ (target median at most %.0f ms)", what,
                Report.format(median(samples), "s"), Report.format(percentile(samples, 0.9), "s"),
                Report.format(samples.max() ?? .nan, "s"), target * 1000))
    }
    Report.note(
        "the kill request itself took \(Report.format(median(killed.request), "s")) (median), kill-window's round trip \(Report.format(median(closed.request), "s")); the watcher's events come through the counting proxy; the pollers' figures are expected values: half their period plus one poll's median wall time"
    )

    let listRSS = Double(listResult.maxRSS) / 1024
    if let idleMemory {
        Report.line(
            Comparison(
                name: "RSS at \(sessionCount) sessions (VmRSS, idle)", ours: Double(idleMemory.rss) / 1024,
                peerName: "ccorc list --json peak (ru_maxrss)", peer: listRSS, unit: "MiB"))
        Report.note(
            String(
                format:
                    "ccorc watch VmHWM: %.1f MiB after the idle window, %.1f MiB after the latency rounds (VmRSS %.1f MiB)",
                Double(idleMemory.highWater) / 1024, Double(finalMemory?.highWater ?? 0) / 1024,
                Double(finalMemory?.rss ?? 0) / 1024))
    }
}

/// The watcher's CPU seconds with its children's (its `tmux -C` client), from /proc/PID/stat.
/// (The threads' schedstat run times would be finer, but a thread that ends takes its time with
/// it, and the concurrency pool's threads come and go.)
private func watcherCPU(_ pid: pid_t) -> Double {
    ([pid] + ProcessMeter.children(of: pid)).compactMap(ProcessMeter.cpuSeconds).reduce(0, +)
}

/// Runs `body` every `period` seconds for `seconds`, and measures the window from the first poll
/// to the end of the last period.
private func poll(
    every period: Double, for seconds: Double, proxy: EngineProxy, tmuxServer: pid_t?, dockerd: [pid_t],
    _ body: () throws -> [MeasuredRun]
) throws -> PollingResult {
    let count = max(1, Int((seconds / period).rounded()))
    let before = Sample.take(proxy, tmuxServer: tmuxServer, dockerd: dockerd)
    var cpu = 0.0
    var polls: [Double] = []
    var maxRSS = 0
    for index in 0..<count {
        try sleep(until: before.time + UInt64(Double(index) * period * 1e9))
        let runs = try body()
        cpu += runs.map(\.cpuSeconds).reduce(0, +)
        polls.append(runs.map(\.seconds).reduce(0, +))
        maxRSS = max(maxRSS, runs.map(\.maxRSS).max() ?? 0)
    }
    try sleep(until: before.time + UInt64(Double(count) * period * 1e9))
    let after = Sample.take(proxy, tmuxServer: tmuxServer, dockerd: dockerd)
    return PollingResult(cost: WindowCost(from: before, to: after, clientCPU: cpu), polls: polls, maxRSS: maxRSS)
}

/// Each round kills a running container (POST /containers/NAME/kill on the engine's own socket,
/// not the proxy) and times until the watcher prints its session's `session-changed` line with the
/// agent not running; then starts it again and waits for the line that says so, and for quiet.
private func containerRounds(
    _ manager: SessionManager, watcher: LineReadingProcess, live: [SessionName], roles: [AgentRole], rounds: Int
) async throws -> (seen: [Double], request: [Double]) {
    var seen: [Double] = []
    var request: [Double] = []
    for round in 0..<rounds {
        try BenchResources.shared.checkpoint()
        let session = live[round % live.count]
        let container = SessionManager.containerName(session, roles[(round / live.count) % roles.count])
        let from = watcher.lineCount
        let start = DispatchTime.now().uptimeNanoseconds
        try await manager.engine.killContainer(container)
        let answered = DispatchTime.now().uptimeNanoseconds
        guard
            let line = watcher.waitForLine(
                from: from, timeout: 10,
                { agentState($0, session: session.rawValue, container: container).map { $0 != "running" } ?? false })
        else {
            throw CommandFailed(description: "ccorc watch printed no change for \(container) killed within 10 s")
        }
        seen.append(Double(line.line.time - start) / 1e9)
        request.append(Double(answered - start) / 1e9)
        _ = try await manager.engine.startContainer(container)
        guard
            watcher.waitForLine(
                from: line.index + 1, timeout: 10,
                { agentState($0, session: session.rawValue, container: container) == "running" }) != nil
        else {
            throw CommandFailed(description: "ccorc watch printed no change for \(container) restarted within 10 s")
        }
        _ = watcher.waitForQuiet(0.3, limit: 5)
    }
    return (seen, request)
}

/// Each round closes an agent's window (`kill-window -t SESSION:WINDOW` through the bench's own
/// control connection to the session's server) and times until the watcher prints the session's
/// `session-changed` line with one window fewer; then makes the window again and waits for its
/// line, and for quiet.
private func windowRounds(
    _ manager: SessionManager, watcher: LineReadingProcess, live: [SessionName], roles: [AgentRole], rounds: Int
) async throws -> (seen: [Double], request: [Double]) {
    var seen: [Double] = []
    var request: [Double] = []
    for round in 0..<rounds {
        try BenchResources.shared.checkpoint()
        let session = live[round % live.count].rawValue
        let window = roles[(round / live.count) % roles.count].rawValue
        let from = watcher.lineCount
        let start = DispatchTime.now().uptimeNanoseconds
        let reply = try await manager.tmux.run([TmuxCommandLine("kill-window", "-t", "\(session):\(window)")])
        let answered = DispatchTime.now().uptimeNanoseconds
        guard reply.first?.succeeded == true else {
            throw CommandFailed(description: "tmux kill-window -t \(session):\(window) failed")
        }
        guard
            let line = watcher.waitForLine(
                from: from, timeout: 10, { windowCount($0, session: session).map { $0 < roles.count } ?? false })
        else {
            throw CommandFailed(
                description: "ccorc watch printed no change for \(session):\(window) closed within 10 s")
        }
        seen.append(Double(line.line.time - start) / 1e9)
        request.append(Double(answered - start) / 1e9)
        _ = try await manager.tmux.newWindow(
            session: session, TmuxNewWindowOptions(name: window, command: ["sleep", "3600"]))
        guard
            watcher.waitForLine(
                from: line.index + 1, timeout: 10, { windowCount($0, session: session) == roles.count }) != nil
        else {
            throw CommandFailed(
                description: "ccorc watch printed no change for \(session):\(window) made again within 10 s")
        }
        _ = watcher.waitForQuiet(0.3, limit: 5)
    }
    return (seen, request)
}

/// The `session-changed` line's session object, when `text` is one for `session`.
private func changedSession(_ text: String, _ session: String) -> [String: Any]? {
    // Cheap checks first: most lines are not this session's.
    guard text.contains("\"session-changed\""), text.contains(session) else { return nil }
    guard let object = jsonObject(text), object["type"] as? String == "session-changed",
        let body = object["session"] as? [String: Any], body["name"] as? String == session
    else { return nil }
    return body
}

/// The state of `container` in a `session-changed` line for `session`.
private func agentState(_ text: String, session: String, container: String) -> String? {
    guard let body = changedSession(text, session), let agents = body["agents"] as? [[String: Any]] else { return nil }
    return agents.first { $0["container"] as? String == container }?["state"] as? String
}

/// The tmux window count in a `session-changed` line for `session` (0 without a tmux session).
private func windowCount(_ text: String, session: String) -> Int? {
    guard let body = changedSession(text, session) else { return nil }
    return (body["tmux"] as? [String: Any])?["windows"] as? Int ?? 0
}

private func jsonObject(_ text: String) -> [String: Any]? {
    (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any]
}

/// `GET /containers/json x2, GET /events x2`: requests by method and path, the API version and
/// query left out.
private func requestSummary(_ requests: [EngineProxy.Request]) -> String {
    var counts: [String: Int] = [:]
    var order: [String] = []
    for request in requests {
        var path = String(request.path.split(separator: "?", maxSplits: 1).first ?? "")
        if path.hasPrefix("/v"), let slash = path.dropFirst().firstIndex(of: "/") { path = String(path[slash...]) }
        let key = "\(request.method) \(path)"
        if counts[key] == nil { order.append(key) }
        counts[key, default: 0] += 1
    }
    return order.map { counts[$0]! == 1 ? $0 : "\($0) x\(counts[$0]!)" }.joined(separator: ", ")
}

/// `tmux server X ms/min, dockerd Y ms/min`.
private func serverSummary(_ cost: WindowCost) -> String {
    func milliseconds(_ value: Double?) -> String {
        value.map { String(format: "%.1f ms/min", cost.perMinute($0) * 1000) } ?? "n/a"
    }
    return "tmux server \(milliseconds(cost.tmuxServerCPU)), dockerd \(milliseconds(cost.dockerdCPU))"
}

/// The `fraction` quantile of `samples` (nearest rank).
private func percentile(_ samples: [Double], _ fraction: Double) -> Double {
    let sorted = samples.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[max(0, Int((fraction * Double(sorted.count)).rounded(.up)) - 1)]
}

/// Sleeps `seconds`, stopping early with `BenchInterrupted` once the run is interrupted.
private func pause(_ seconds: Double) throws {
    try sleep(until: DispatchTime.now().uptimeNanoseconds + UInt64(seconds * 1e9))
}

/// Sleeps until `deadline` (`DispatchTime` nanoseconds), checking for an interruption every 100 ms.
private func sleep(until deadline: UInt64) throws {
    while true {
        try BenchResources.shared.checkpoint()
        let now = DispatchTime.now().uptimeNanoseconds
        guard now < deadline else { return }
        usleep(UInt32(min(deadline - now, 100_000_000) / 1000))
    }
}
