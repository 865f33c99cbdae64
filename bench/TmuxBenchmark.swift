import CCOrcKit
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// The tmux benchmark: one control-mode pipe against a `tmux` process per query, on a private
/// server with 100 sessions; medians over 1,000 calls. The private server, its sessions and the
/// clients are registered with `BenchResources` before they start and removed when the suite ends,
/// fails or is interrupted.
func runTmuxBenchmark() async throws {
    let resources = BenchResources.shared
    let server = TmuxServer.named("ccorc-bench-\(getpid())")
    let socketPath = server.socketPath()
    // The tmux CLI peers use `-S` too, which needs the directory tmux would make for `-L`.
    try server.prepareSocketDirectory()
    resources.registerTmuxServer(onSocket: socketPath)
    let client = TmuxControlClient(server: server)
    let changer = TmuxControlClient(server: server)
    resources.registerClient(client)
    resources.registerClient(changer)
    defer {
        client.close()
        changer.close()
        resources.killTmuxServer(onSocket: socketPath)
    }
    // The peers and the floor name the server by the same socket path the control clients use.
    let tmux = ["tmux", "-S", socketPath]
    let sessionCount = 100
    let calls = 1000
    for index in 0..<sessionCount {
        try resources.checkpoint()
        _ = try await client.newSession(TmuxNewSessionOptions(name: "bench-\(index)", command: ["sleep", "3600"]))
        if index == 0 { resources.tmuxServerStarted(onSocket: socketPath) }
    }

    Report.section(
        "tmux: one control-mode pipe vs a tmux process per query (\(sessionCount) sessions, medians of \(calls))")

    // (a) One session's status.
    let statusFormat = "#{session_name} #{session_windows} #{session_attached} #{session_activity}"
    let pipeStatus = try await timeEachAsync(calls) {
        _ = try await client.displayMessage(target: .session("bench-50"), format: statusFormat)
    }
    let pipeHas = try await timeEachAsync(calls) { _ = try await client.hasSession("bench-50") }
    let spawnStatus = try timeEach(calls) {
        _ = try TmuxBenchProcess.run(tmux + ["display-message", "-p", "-t", "=bench-50:", statusFormat])
    }
    let spawnHas = try timeEach(calls) {
        _ = try TmuxBenchProcess.run(tmux + ["has-session", "-t", "=bench-50:"])
    }
    Report.line(
        Comparison(
            name: "(a) session status (display-message -p)", ours: median(pipeStatus),
            peerName: "tmux process", peer: median(spawnStatus), unit: "s"))
    Report.line(
        Comparison(
            name: "(a) has-session", ours: median(pipeHas),
            peerName: "tmux process", peer: median(spawnHas), unit: "s"))

    // (b) A full poll of all sessions.
    let listFormat =
        "#{session_id}\t#{session_windows}\t#{session_attached}\t#{session_created}\t#{session_activity}\t#{session_name}"
    var listed = 0
    let pipeList = try await timeEachAsync(calls) { listed = try await client.listSessions().count }
    guard listed == sessionCount else {
        throw TmuxError(.protocolError, "listed \(listed) sessions, expected \(sessionCount)")
    }
    let pipeRawList = try await timeEachAsync(calls) {
        _ = try await client.run([TmuxCommandLine("list-sessions", "-F", listFormat)])
    }
    let spawnList = try timeEach(calls) {
        _ = try TmuxBenchProcess.run(tmux + ["list-sessions", "-F", listFormat])
    }
    let floor = try TmuxRawPipe(tmux)
    defer { floor.close() }
    let floorList = try timeEach(calls) { try floor.roundTrip("list-sessions -F '\(listFormat)'") }
    let floorStatus = try timeEach(calls) { try floor.roundTrip("display-message -p -t =bench-50: '\(statusFormat)'") }
    Report.line(
        Comparison(
            name: "(b) listSessions() of \(sessionCount), typed", ours: median(pipeList),
            peerName: "tmux process", peer: median(spawnList), unit: "s"))
    Report.line(
        Comparison(
            name: "(b) listSessions() vs floor", ours: median(pipeList),
            peerName: "raw pipe floor", peer: median(floorList), unit: "s"))
    Report.line(
        Comparison(
            name: "(b) run([list-sessions -F]) vs floor", ours: median(pipeRawList),
            peerName: "raw pipe floor", peer: median(floorList), unit: "s"))
    Report.line(
        Comparison(
            name: "(a) display-message vs floor", ours: median(pipeStatus),
            peerName: "raw pipe floor", peer: median(floorStatus), unit: "s"))
    Report.note("raw pipe floor: one thread writing a command line and reading to %end on its own tmux -C pipe")
    Report.note("typed calls add quoting, reply matching across threads, an async resume and parsing into structs")

    // (c) From a change to the notification reaching the caller.
    let events = 300
    let stream = client.notifications
    var iterator = stream.makeAsyncIterator()
    var newSessionLatency: [Double] = []
    var newSessionPIDs: [Int32] = []
    for index in 0..<events {
        try resources.checkpoint()
        let start = DispatchTime.now().uptimeNanoseconds
        async let created = changer.newSession(
            TmuxNewSessionOptions(name: "latency-\(index)", command: ["sleep", "3600"]))
        while let notification = await iterator.next() {
            if notification == .sessionsChanged { break }
        }
        newSessionLatency.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        _ = try await created
    }
    for index in 0..<events {
        let panes = try await client.listPanes(session: "latency-\(index)")
        newSessionPIDs.append(panes[0].pid)
    }
    var killedPaneLatency: [Double] = []
    for pid in newSessionPIDs {
        try resources.checkpoint()
        let start = DispatchTime.now().uptimeNanoseconds
        kill(pid, SIGKILL)  // a pane process this benchmark started
        while let notification = await iterator.next() {
            if case .unlinkedWindowClose = notification { break }
            if case .windowClose = notification { break }
        }
        killedPaneLatency.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    Report.line(
        Comparison(
            name: "(c) new session -> %sessions-changed", ours: median(newSessionLatency),
            peerName: "target", peer: 0.005, unit: "s"))
    Report.line(
        Comparison(
            name: "(c) killed pane -> %unlinked-window-close", ours: median(killedPaneLatency),
            peerName: "target", peer: 0.005, unit: "s"))
    Report.note(
        String(
            format:
                "(c) medians of %d events; new session p90 %.2f ms, killed pane p90 %.2f ms; timed from the write of new-session on a second client / from kill(2)",
            events, percentile(newSessionLatency, 0.9) * 1e3, percentile(killedPaneLatency, 0.9) * 1e3))
    Report.note(
        "format subscriptions (refresh-client -B) are checked by tmux 3.3a once a second, so they are not the fast path"
    )
}

private func percentile(_ samples: [Double], _ fraction: Double) -> Double {
    let sorted = samples.sorted()
    guard !sorted.isEmpty else { return .nan }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * fraction))]
}

/// The floor: a bare `tmux -C` pipe driven by one thread with blocking reads and no parsing
/// beyond finding the `%end` line.
final class TmuxRawPipe {
    private let pid: pid_t
    private let token: BenchResources.ChildToken
    private let descriptor: Int32
    private var pending: [UInt8] = []
    private var buffer = [UInt8](repeating: 0, count: 65536)

    /// Attaches `tmux ...` (the command and its server options) in control mode.
    init(_ tmux: [String]) throws {
        var pair: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &pair) == 0 else {
            throw TmuxError(.spawnFailed, "socketpair", systemError: errno)
        }
        let status = spawnWithCleanSignals(
            tmux + ["-C", "attach-session", "-f", "no-output,ignore-size"], input: pair[1], output: pair[1],
            closing: pair[0])
        Glibc.close(pair[1])
        let pid: pid_t
        do {
            pid = try status.get()
        } catch {
            Glibc.close(pair[0])
            throw error
        }
        self.pid = pid
        self.token = BenchResources.shared.track(pid: pid)
        self.descriptor = pair[0]
        while !(try readLine().hasPrefix("%session-changed")) {}
    }

    /// Writes one command line and reads until its `%end` or `%error`.
    func roundTrip(_ line: String) throws {
        let bytes = Array((line + "\n").utf8)
        _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
        while true {
            let reply = try readLine()
            if reply.hasPrefix("%end ") || reply.hasPrefix("%error ") { return }
        }
    }

    private func readLine() throws -> String {
        while true {
            if let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                return line
            }
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count <= 0 { throw TmuxError(.connectionLost, "raw tmux -C pipe ended") }
            pending += buffer[0..<count]
        }
    }

    /// Detaches and waits for the tmux client to exit. tmux flushes a control client's output
    /// before letting it go, so the notifications queued while this pipe sat idle are read off first.
    func close() {
        shutdown(descriptor, Int32(SHUT_WR))
        while true {
            let count = buffer.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
        }
        _ = BenchResources.shared.reap(pid, token)
        Glibc.close(descriptor)
    }
}
