import CCOrcKit
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Everything a benchmark run starts, registered as it is started, so that one cleanup removes it
/// on every way out: at the end, after an error, and on SIGINT or SIGTERM.
///
/// - Containers and volumes by name prefix: a request cut off by an interruption may still create
///   one, so they are found again by listing rather than remembered one by one.
/// - tmux servers by socket path, and by server pid (with its start time, so that a pid the kernel
///   has handed to another process since is never signalled) for a server that no longer answers.
/// - Child processes by pid; one is signalled only while /proc shows it still running as a child
///   of this process.
/// - The processes in a tmux server's panes, by pid and start time, for panes that outlive it.
/// - Files and directories by path.
final class BenchResources: Sendable {
    /// The one register of the run.
    static let shared = BenchResources()

    /// A registered child process, for `untrack` and `reap`.
    struct ChildToken: Hashable, Sendable {
        fileprivate let id: Int
    }

    private struct TmuxServerEntry {
        var pid: pid_t?
        var startTime: String?
    }

    private struct State {
        var namePrefixes: Set<String> = []
        var tmuxServers: [String: TmuxServerEntry] = [:]
        var tmuxClients: [TmuxControlClient] = []
        var children: [ChildToken: pid_t] = [:]
        var nextChild = 0
        var paths: Set<String> = []
        var extraEngines: Set<String> = []
        var stopSignal: Int32?
        var cleanup: Task<Void, Never>?
        var exiting = false
    }

    private let state = Mutex(State())

    // MARK: Registering

    /// Containers and volumes whose names start with `prefix` are this run's. The prefix must be
    /// unique to the run (it carries the pid and ends with a separator).
    func registerNamePrefix(_ prefix: String) {
        precondition(prefix.count > 8 && prefix.hasSuffix("-"), "a run's name prefix is long and ends with a dash")
        state.withLock { _ = $0.namePrefixes.insert(prefix) }
    }

    /// A file or directory this run made.
    func registerPath(_ path: String) {
        state.withLock { _ = $0.paths.insert(path) }
    }

    /// A private dockerd this run started with `scripts/extra-engine.sh start DIRECTORY`: stopped,
    /// and its directory removed, by the cleanup.
    func registerExtraEngine(_ directory: String) {
        state.withLock { _ = $0.extraEngines.insert(directory) }
    }

    /// Stops a registered extra engine now (see `registerExtraEngine`) and forgets it.
    func stopExtraEngine(_ directory: String) {
        state.withLock { _ = $0.extraEngines.remove(directory) }
        _ = try? ExtraBenchEngine.script(["stop", directory])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A tmux server this run starts on `socketPath`, registered before it is started.
    func registerTmuxServer(onSocket socketPath: String) {
        state.withLock { state in
            if state.tmuxServers[socketPath] == nil { state.tmuxServers[socketPath] = TmuxServerEntry() }
        }
    }

    /// Records the pid of the server on `socketPath` once it runs (asked of the server itself).
    func tmuxServerStarted(onSocket socketPath: String) {
        guard state.withLock({ $0.tmuxServers[socketPath]?.pid == nil }) else { return }
        guard let pid = Self.askTmuxServerPID(socketPath) else { return }
        let startTime = Self.processStat(pid)?.startTime
        state.withLock { $0.tmuxServers[socketPath] = TmuxServerEntry(pid: pid, startTime: startTime) }
    }

    /// A control-mode client this run opened; closed before its server is killed.
    func registerClient(_ client: TmuxControlClient) {
        state.withLock { $0.tmuxClients.append(client) }
    }

    /// A child process this run started and has not reaped yet.
    func track(pid: pid_t) -> ChildToken {
        state.withLock { state in
            state.nextChild += 1
            let token = ChildToken(id: state.nextChild)
            state.children[token] = pid
            return token
        }
    }

    /// Forgets a child that has exited (and been reaped by someone else, as `Process` does).
    func untrack(_ token: ChildToken) {
        state.withLock { _ = $0.children.removeValue(forKey: token) }
    }

    /// Waits for a child this run spawned, forgets it once it has exited and then reaps it: until it
    /// is reaped its pid cannot be reused, so the cleanup never signals a stranger through it.
    /// - Returns: the wait status.
    func reap(_ pid: pid_t, _ token: ChildToken) -> Int32 {
        reapWithUsage(pid, token).status
    }

    /// `reap`, also returning the child's resource usage (wait4: its own and that of the children
    /// it waited for).
    func reapWithUsage(_ pid: pid_t, _ token: ChildToken) -> (status: Int32, usage: rusage) {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        untrack(token)
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        return (status, usage)
    }

    // MARK: Stopping

    /// The signal that interrupted the run, if one did.
    var stopSignal: Int32? { state.withLock { $0.stopSignal } }

    /// Throws once the run has been interrupted, so that a suite starts nothing new while the
    /// cleanup removes what it made.
    func checkpoint() throws {
        if let signal = stopSignal { throw BenchInterrupted(signal: signal) }
    }

    /// Catches SIGINT and SIGTERM: the first one starts the cleanup and then ends the process with
    /// 128 + the signal's number (130, 143). A real handler rather than SIG_IGN, so that the
    /// processes the run starts still get the default actions (exec resets handled signals).
    func installSignalHandlers() {
        var ends: [Int32] = [-1, -1]
        guard pipe(&ends) == 0 else { return }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        benchSignalPipe = ends[1]
        let readEnd = ends[0]
        let thread = Thread { [self] in
            var byte: UInt8 = 0
            while true {
                let count = read(readEnd, &byte, 1)
                if count < 0 && errno == EINTR { continue }
                if count <= 0 { return }
                interrupted(by: Int32(byte))
            }
        }
        thread.name = "bench-signals"
        thread.start()
        for signalNumber in [SIGINT, SIGTERM] {
            var action = sigaction()
            // Only write(2) here: it is async-signal-safe; the thread above does the rest.
            action.__sigaction_handler.sa_handler = { signalNumber in
                var byte = UInt8(truncatingIfNeeded: signalNumber)
                _ = write(benchSignalPipe, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(signalNumber, &action, nil)
        }
    }

    private func interrupted(by signalNumber: Int32) {
        let first = state.withLock { state in
            guard state.stopSignal == nil else { return false }
            state.stopSignal = signalNumber
            return true
        }
        let name = signalNumber == SIGINT ? "SIGINT" : signalNumber == SIGTERM ? "SIGTERM" : "signal \(signalNumber)"
        guard first else {
            printToStandardError("ccorc-bench: \(name): still removing what this run started")
            return
        }
        printToStandardError("ccorc-bench: \(name): removing what this run started")
        Task.detached {
            await self.cleanUp()
            self.exit(128 + signalNumber)
        }
    }

    /// Ends the process: with 128 + the signal's number after an interruption, else `status`.
    /// Only the first caller exits; a second one (the main path and the signal path can both get
    /// here) waits for it.
    func exit(_ status: Int32) -> Never {
        let code: Int32? = state.withLock { state in
            guard !state.exiting else { return nil }
            state.exiting = true
            return state.stopSignal.map { 128 + $0 } ?? status
        }
        guard let code else {
            while true { _ = pause() }
        }
        Glibc.exit(code)
    }

    // MARK: Cleaning up

    /// Removes everything registered; a second call waits for the first one's work.
    func cleanUp() async {
        let task = state.withLock { state in
            if let running = state.cleanup { return running }
            let task = Task.detached { await self.removeEverything() }
            state.cleanup = task
            return task
        }
        await task.value
    }

    private func removeEverything() async {
        // Children first: a ccorc or curl still running could go on creating or removing.
        stopChildren()
        let (clients, servers) = state.withLock { ($0.tmuxClients, $0.tmuxServers) }
        clients.forEach { $0.close() }
        for (socketPath, entry) in servers.sorted(by: { $0.key < $1.key }) {
            removeTmuxServer(socketPath, entry)
        }
        await removeContainersAndVolumes()
        for directory in state.withLock({ $0.extraEngines }) { stopExtraEngine(directory) }
        for path in state.withLock({ $0.paths }) {
            try? FileManager.default.removeItem(atPath: path)
        }
    }

    /// SIGTERM to each registered child that is still this process's child, SIGKILL to any that is
    /// still there two seconds later.
    private func stopChildren() {
        let ours = { self.state.withLock { Array($0.children.values) }.filter(Self.isRunningChild) }
        let first = ours()
        guard !first.isEmpty else { return }
        first.forEach { kill($0, SIGTERM) }
        let deadline = Date().addingTimeInterval(2)
        while !ours().isEmpty && Date() < deadline { usleep(20_000) }
        ours().forEach { kill($0, SIGKILL) }
    }

    /// Kills the server on `socketPath` through its socket (kill-server), then by its pid if it
    /// does not go, or does not answer at all, and removes the socket file once nothing listens.
    /// Also what the tmux suite calls when it ends normally.
    func killTmuxServer(onSocket socketPath: String) {
        guard let entry = state.withLock({ $0.tmuxServers[socketPath] }) else { return }
        removeTmuxServer(socketPath, entry)
        // A later suite may start a new server on the same socket: its pid is recorded afresh.
        state.withLock { $0.tmuxServers[socketPath] = TmuxServerEntry() }
    }

    private func removeTmuxServer(_ socketPath: String, _ entry: TmuxServerEntry) {
        var pid = entry.pid
        var startTime = entry.startTime
        let answering = Self.askTmuxServerPID(socketPath)
        if let answering, answering != pid {
            pid = answering
            startTime = Self.processStat(answering)?.startTime
        }
        // The panes' processes, known while they are still the server's children: a pane that
        // blocks or ignores SIGHUP outlives a server that had to be killed.
        let panes = pid.map(Self.children(of:)) ?? []
        if answering != nil {
            _ = try? TmuxBenchProcess.runWithStatus(["tmux", "-S", socketPath, "kill-server"])
        }
        if let pid, let startTime, Self.stop([(pid, startTime)], after: 2) > 0 {
            printToStandardError(
                "ccorc-bench: the tmux server on \(socketPath) (pid \(pid)) did not exit on kill-server or SIGTERM: killed it"
            )
        }
        let stubborn = Self.stop(panes, after: 1)
        if stubborn > 0 {
            printToStandardError("ccorc-bench: killed \(stubborn) pane processes that outlived their tmux server")
        }
        if Self.askTmuxServerPID(socketPath) == nil { unlink(socketPath) }
    }

    /// Waits `seconds` for `processes` (each a pid and the start time that tells it from a later
    /// process given the same pid) to exit, then sends those still there SIGTERM, then SIGKILL.
    /// - Returns: how many needed SIGKILL.
    private static func stop(_ processes: [(pid: pid_t, startTime: String)], after seconds: Double) -> Int {
        func running() -> [pid_t] {
            processes.filter { process in
                processStat(process.pid).map { $0.startTime == process.startTime && $0.state != "Z" } ?? false
            }.map(\.pid)
        }
        func waitForExit(_ seconds: Double) -> [pid_t] {
            let deadline = Date().addingTimeInterval(seconds)
            var left = running()
            while !left.isEmpty && Date() < deadline {
                usleep(20_000)
                left = running()
            }
            return left
        }
        guard !processes.isEmpty else { return 0 }
        waitForExit(seconds).forEach { kill($0, SIGTERM) }
        let stubborn = waitForExit(3)
        stubborn.forEach { kill($0, SIGKILL) }
        _ = waitForExit(2)
        return stubborn.count
    }

    /// Removes every container and volume under a registered prefix. Listed again until two
    /// listings a moment apart find nothing, since a request in flight when the run was
    /// interrupted can still create one.
    private func removeContainersAndVolumes() async {
        let prefixes = state.withLock { $0.namePrefixes }
        guard !prefixes.isEmpty else { return }
        let engine: EngineClient
        do {
            engine = try EngineClient()
        } catch {
            printToStandardError("ccorc-bench: cannot remove this run's containers: \(error)")
            return
        }
        func ours(_ name: String) -> Bool { prefixes.contains { name.hasPrefix($0) } }
        let deadline = Date().addingTimeInterval(600)
        var quiet = 0
        while quiet < 2 && Date() < deadline {
            let containers: [ContainerSummary]
            let volumes: [Volume]
            do {
                containers = try await engine.listContainers(all: true, filters: ["name": prefixes.map { "^/" + $0 }])
                    .filter { ours($0.name) }
                volumes = try await engine.listVolumes(filters: ["name": Array(prefixes)]).filter { ours($0.name) }
            } catch {
                printToStandardError("ccorc-bench: cannot list this run's containers and volumes: \(error)")
                return
            }
            if containers.isEmpty && volumes.isEmpty {
                quiet += 1
                if quiet < 2 { try? await Task.sleep(for: .milliseconds(500)) }
                continue
            }
            quiet = 0
            printToStandardError(
                "ccorc-bench: removing \(containers.count) containers and \(volumes.count) volumes this run made")
            _ = await forEachConcurrently(containers.map(\.id), width: 16) {
                try await engine.removeContainer($0, force: true, volumes: true)
            }
            _ = await forEachConcurrently(volumes.map(\.name), width: 16) {
                try await engine.removeVolume($0, force: true)
            }
        }
    }

    // MARK: Processes

    /// The pid of the tmux server on `socketPath`, or nil when none answers there.
    private static func askTmuxServerPID(_ socketPath: String) -> pid_t? {
        guard FileManager.default.fileExists(atPath: socketPath),
            let result = try? TmuxBenchProcess.runWithStatus([
                "tmux", "-S", socketPath, "display-message", "-p", "#{pid}",
            ]),
            result.status == 0
        else { return nil }
        return pid_t(result.output.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// The running children of `parent`, with their start times, from /proc.
    private static func children(of parent: pid_t) -> [(pid: pid_t, startTime: String)] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { entry in
            guard let pid = pid_t(entry), let stat = processStat(pid), stat.parent == parent, stat.state != "Z" else {
                return nil
            }
            return (pid, stat.startTime)
        }
    }

    /// Whether `pid` is a running (not yet exited) child of this process.
    private static func isRunningChild(_ pid: pid_t) -> Bool {
        guard let stat = processStat(pid) else { return false }
        return stat.parent == getpid() && stat.state != "Z"
    }

    /// State, parent pid and start time (in clock ticks after boot) from /proc/PID/stat.
    private static func processStat(_ pid: pid_t) -> (state: String, parent: pid_t, startTime: String)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = text.lastIndex(of: ")")
        else { return nil }
        // Fields after the command name: state (3), ppid (4), ... starttime (22).
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 19, let parent = pid_t(fields[1]) else { return nil }
        return (String(fields[0]), parent, String(fields[19]))
    }
}

/// The write end of the pipe the signal handler writes to; set once, before the handler is installed.
nonisolated(unsafe) private var benchSignalPipe: Int32 = -1

/// A suite stopped because the run was interrupted.
struct BenchInterrupted: Error, CustomStringConvertible {
    var signal: Int32
    var description: String { "interrupted by signal \(signal)" }
}

/// Writes a line to stderr.
func printToStandardError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}
