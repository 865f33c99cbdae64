import FoundationEssentials
import Synchronization

// Gathering the facts a health check judges: the engine, the cgroup files, tmux and /proc. The
// judging is `HealthAssessment`.

extension SessionManager {
    /// Checks the named sessions.
    /// - Throws: `SessionError.notFound` for a name that is not registered.
    public func health(of names: [SessionName], depth: HealthCheckDepth = .full) async throws -> HealthReport {
        var records: [SessionRecord] = []
        for name in names {
            guard let record = try registry.session(named: name) else {
                throw SessionError.sessionNotFound(name)
            }
            records.append(record)
        }
        return try await health(of: records, depth: depth)
    }

    /// Checks every registered session.
    public func healthOfAll(depth: HealthCheckDepth = .bounded) async throws -> HealthReport {
        let rows = try registry.rows()
        var report = try await health(of: rows.sessions, depth: depth)
        report.damaged = rows.damaged
        return report
    }

    /// Checks `records`: one engine list call for the containers and one for the volumes, one
    /// tmux query for the sessions and one pipelined round trip for their panes, one inspect per
    /// running container (every container with `.full`); memory, CPU and processes come from the
    /// cgroup files and `/proc`, never from an exec.
    public func health(of records: [SessionRecord], depth: HealthCheckDepth) async throws -> HealthReport {
        let checkedAt = Date()
        async let volumeList = engine.listVolumes(filters: ["label": [OwnershipLabels.session]])
        let statuses = try await status(of: records)
        let volumeNames = Set(try await volumeList.map(\.name))
        let panes = try await panesBySession(statuses)

        let probes = Mutex<[String: ContainerProbe]>([:])
        let probeFailures = Mutex<[String: String]>([:])
        let requests = Mutex(2)
        let targets = statuses.flatMap { status in
            status.agents.compactMap { agent -> (SessionRecord, AgentRecord, ContainerSummary)? in
                guard let container = agent.container, depth == .full || container.state.isUp else { return nil }
                return (status.record, agent.record, container)
            }
        }
        _ = await forEachConcurrently(targets, width: 32) { record, agent, container in
            do {
                let probe = try await self.probe(container, record: record, agent: agent, requests: requests)
                probes.withLock { $0[container.id] = probe }
            } catch let error as EngineError where error.code == .notFound {
                probeFailures.withLock { $0[container.id] = "container was removed while it was being checked" }
            } catch {
                probeFailures.withLock { $0[container.id] = "container could not be inspected: \(error)" }
            }
        }
        let probed = probes.withLock { $0 }
        let failures = probeFailures.withLock { $0 }
        let shellCommand = Path.lastComponent(shellProgram)
        let sessions = statuses.map { status in
            let sessionPanes = panes[status.record.tmuxSession] ?? []
            // A legacy session's panes are not judged (ccorc does not manage them).
            var commandLines: [Int32: [String]] = [:]
            for pane in sessionPanes where !status.record.isLegacy {
                commandLines[pane.pid] = HostProcesses.commandLine(pane.pid)
            }
            return HealthAssessment.assess(
                HealthFacts(
                    status: status, probes: probed, probeFailures: failures, volumes: volumeNames, panes: sessionPanes,
                    launchUnderWay: status.record.launchIsUnderWay(), paneCommandLines: commandLines,
                    shellCommand: shellCommand))
        }
        return HealthReport(checkedAt: checkedAt, sessions: sessions, engineRequests: requests.withLock { $0 })
    }

    /// Redraws: a report as the live model (`watch`) takes its snapshot, then one after each
    /// change it reports for these sessions (a container, a window, a pane, a client, a row), at
    /// most four a second; no check runs while nothing changes. Memory and CPU change without an
    /// event: with `interval`, a report also comes every `interval` for them. Each report costs
    /// what `health(of:depth:)` costs. The stream ends when the caller stops reading; it throws
    /// when a check or the watch fails.
    public func healthUpdates(
        of names: [SessionName]?, depth: HealthCheckDepth, interval: Duration? = nil
    ) -> AsyncThrowingStream<HealthReport, Error> {
        let changes = watch(WatchFilter(names: names))
        return AsyncThrowingStream { continuation in
            let checker = Task {
                // One wake-up per change, coalesced: the check reads the latest state anyway.
                let wake = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
                let watchFailure = Mutex<(any Error)?>(nil)
                let listener = Task {
                    do {
                        for try await _ in changes { wake.continuation.yield() }
                    } catch {
                        watchFailure.withLock { $0 = error }
                    }
                    wake.continuation.finish()
                }
                defer { listener.cancel() }
                do {
                    for await _ in wake.stream {
                        if Task.isCancelled { break }
                        let report: HealthReport
                        if let names {
                            report = try await self.health(of: names, depth: depth)
                        } else {
                            report = try await self.healthOfAll(depth: depth)
                        }
                        continuation.yield(report)
                        let checked = ContinuousClock.now
                        if let interval {
                            Task {
                                guard (try? await Task.sleep(for: interval)) != nil else { return }
                                wake.continuation.yield()
                            }
                        }
                        // A burst of changes (a bulk launch) costs one check a quarter second.
                        try? await Task.sleep(until: checked + .milliseconds(250))
                    }
                    if let error = watchFailure.withLock({ $0 }) { throw error }
                    continuation.finish()
                } catch {
                    continuation.finish(throwing: error)
                }
            }
            continuation.onTermination = { _ in checker.cancel() }
        }
    }

    // MARK: - Gathering

    /// The panes of every present tmux session, in one pipelined round trip.
    private func panesBySession(_ statuses: [SessionStatus]) async throws -> [String: [TmuxPane]] {
        let present = statuses.filter { $0.tmux != nil }.map(\.record.tmuxSession)
        guard !present.isEmpty else { return [:] }
        let replies: [TmuxReply]
        do {
            replies = try await tmux.run(
                present.map {
                    TmuxCommandLine("list-panes", "-s", "-t", TmuxTarget.session($0).rawValue, "-F", TmuxFormats.pane)
                })
        } catch let error as TmuxError where error.code == .serverNotRunning {
            return [:]  // the server went away since it was listed
        }
        var result: [String: [TmuxPane]] = [:]
        for (session, reply) in zip(present, replies) where reply.succeeded {
            result[session] = try TmuxFormats.panes(reply.lines)
        }
        return result
    }

    /// Inspects one container and reads its cgroup, processes and state directory.
    private func probe(
        _ container: ContainerSummary, record: SessionRecord, agent: AgentRecord, requests: borrowing Mutex<Int>
    ) async throws -> ContainerProbe {
        requests.withLock { $0 += 1 }
        let details = try await engine.inspectContainer(container.id)
        var probe = ContainerProbe(details: details)
        let stateDirectory = record.isLegacy ? nil : record.stateDirectory
        let reader = CgroupReader()
        if details.state.isUp {
            // Cgroup and /proc files here are the engine's only when it runs here (a Unix socket).
            if engine.host.isLocal, let location = reader.locate(containerID: details.id, pid: details.pid) {
                probe.usage = try? reader.usage(at: location, includeLimits: true, includePids: true)
                probe.oomKills = HostProcesses.oomKills(at: location)
                probe.processes = (probe.usage?.pids ?? []).compactMap(HostProcesses.process)
            } else {
                // A remote engine: its cgroups are not here.
                requests.withLock { $0 += 2 }
                probe.usage = try? await engine.oneShotStats(details.id)
                probe.processes =
                    (try? await engine.top(details.id, psArguments: "-o pid,ppid,args")).map(HostProcesses.processes)
                    ?? []
            }
        }
        if let stateDirectory {
            let root = "/proc/\(details.pid)/root"
            if engine.host.isLocal, details.state.isUp, details.pid > 0, fileExists(root) {
                probe.stateDirectoryExists = directoryExists(root + stateDirectory)
            } else {
                requests.withLock { $0 += 1 }
                probe.stateDirectoryExists = (try? await engine.pathStat(details.id, path: stateDirectory)).map {
                    $0?.isDirectory == true
                }
            }
        }
        return probe
    }
}

/// Processes read from `/proc` and OOM counters from the cgroup files.
enum HostProcesses {
    /// A process's parent and command line; nil once it has gone.
    static func process(_ pid: Int32) -> ContainerProcess? {
        // `/proc/PID/stat` is `PID (COMM) STATE PPID ...`; COMM may hold spaces and parentheses.
        guard let stat = SysFile.read("/proc/\(pid)/stat"), let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 1, let parent = Int32(fields[1]) else { return nil }
        return ContainerProcess(pid: pid, parentPID: parent, commandLine: commandLine(pid) ?? [])
    }

    /// `/proc/PID/cmdline` split at its NULs; nil when unreadable.
    static func commandLine(_ pid: Int32) -> [String]? {
        SysFile.read("/proc/\(pid)/cmdline").map { $0.split(separator: "\u{0}").map(String.init) }
    }

    /// The processes of a `top` reply asked for `-o pid,ppid,args`.
    static func processes(_ list: ProcessList) -> [ContainerProcess] {
        list.processes.compactMap { row in
            guard row.count >= 3, let pid = Int32(row[0]), let parent = Int32(row[1]) else { return nil }
            return ContainerProcess(
                pid: pid, parentPID: parent,
                commandLine: row[2...].joined(separator: " ").split(separator: " ").map(String.init))
        }
    }

    /// The cgroup's count of OOM kills: `oom_kill` in `memory.oom_control` (v1) or `memory.events` (v2).
    static func oomKills(at location: CgroupLocation) -> Int64? {
        switch location {
        case .v1(let memory, _, _): return SysFile.field(memory + "/memory.oom_control", "oom_kill")
        case .v2(let path): return SysFile.field(path + "/memory.events", "oom_kill")
        }
    }
}
