import Foundation
import Testing

@testable import CCOrcKit

/// The crash-point sweep: every mutating command is killed (SIGKILL) at each of its steps in turn,
/// and made to fail at each in turn, by the debug build's `CCORC_FAIL_STEP` (see
/// `FaultInjection`). After each run the invariants the README promises are checked, and running
/// the same command again (for a launch: cleaning up the half-made session, then launching it)
/// must finish with exit 0 and leave what the first run would have left.
///
/// The invariants:
/// - nothing untracked: every container and volume carrying ccorc's session label belongs to a
///   registry row, or `cleanup --orphans` shows it; every tmux session of the test has a row;
/// - nothing foreign touched: an unlabelled container and volume named like a session's keep
///   their identity and state;
/// - no state volume lost that the command was not asked to remove;
/// - a failure ends with a non-zero exit and a clear error (one line for a single-session command).
@Suite(.serialized) struct CrashSweepTests {
    enum Mode: String, CaseIterable, CustomStringConvertible {
        /// SIGKILL just before the step.
        case kill
        /// The step fails with its own kind of error.
        case fail
        /// SIGINT (a user's Ctrl-C) just before the step: for the commands that stop at their next
        /// step and undo or skip what is left.
        case interrupt
        var description: String { rawValue }
    }

    @Test(arguments: Mode.allCases) func launch(mode: Mode) async throws {
        try await sweep("launch", mode: mode) { _ in
            []
        } command: { sweep in
            ["launch", sweep.session, "--detach"]
        } finish: { sweep, _ in
            // A launch that died leaves its row `launching` and what it made, for cleanup to remove.
            if let row = try sweep.row(sweep.session), row.status == .launching {
                try await sweep.expectSuccess(
                    sweep.bed.ccorc("cleanup", "--remove", sweep.session, "--yes"), "cleanup of the half-made session")
            }
            if try sweep.row(sweep.session) == nil {
                try await sweep.expectSuccess(sweep.bed.ccorc("launch", sweep.session, "--detach"), "the launch again")
            }
        } complete: { sweep in
            try await sweep.expectRunning(sweep.session)
        }
    }

    @Test(arguments: [Mode.kill, .fail]) func stop(mode: Mode) async throws {
        try await sweep("stop", mode: mode) { sweep in
            try await sweep.expectSuccess(sweep.bed.ccorc("launch", sweep.session, "--detach"), "setting up")
            return [sweep.session]
        } command: { sweep in
            ["stop", sweep.session, "--time", "1"]
        } finish: { sweep, command in
            try await sweep.expectSuccess(sweep.bed.ccorc(command), "the rerun")
        } complete: { sweep in
            try await sweep.expectStopped(sweep.session)
        }
    }

    @Test(arguments: [Mode.kill, .fail]) func resume(mode: Mode) async throws {
        try await sweep("resume", mode: mode) { sweep in
            try await sweep.expectSuccess(sweep.bed.ccorc("launch", sweep.session, "--detach"), "setting up")
            try await sweep.expectSuccess(sweep.bed.ccorc("stop", sweep.session, "--time", "1"), "setting up")
            return [sweep.session]
        } command: { sweep in
            ["resume", sweep.session, "--detach"]
        } finish: { sweep, command in
            try await sweep.expectSuccess(sweep.bed.ccorc(command), "the rerun")
        } complete: { sweep in
            try await sweep.expectRunning(sweep.session)
        }
    }

    @Test(arguments: [Mode.kill, .fail]) func cleanupFixBroken(mode: Mode) async throws {
        try await sweep("fixbroken", mode: mode) { sweep in
            try await sweep.expectSuccess(sweep.bed.ccorc("launch", sweep.session, "--detach"), "setting up")
            try await sweep.expectSuccess(sweep.bed.ccorc("stop", sweep.session, "--time", "1"), "setting up")
            // The writer's container goes; its state volume stays.
            try await sweep.bed.engine.removeContainer(sweep.session + "-writer", force: true)
            return [sweep.session]
        } command: { _ in
            ["cleanup", "--fix-broken", "--yes"]
        } finish: { sweep, command in
            try await sweep.expectSuccess(sweep.bed.ccorc(command), "the rerun")
        } complete: { sweep in
            try await sweep.expectStopped(sweep.session, tmux: nil)
        }
    }

    @Test(arguments: Mode.allCases) func cleanupPattern(mode: Mode) async throws {
        try await sweep("pattern", mode: mode) { sweep in
            let (running, stopped) = (sweep.session, sweep.bed.prefix + "-c2")
            try await sweep.expectSuccess(
                sweep.bed.ccorc("launch", running, stopped, sweep.bystander, "--detach"), "setting up")
            try await sweep.expectSuccess(sweep.bed.ccorc("stop", stopped, "--time", "1"), "setting up")
            return [sweep.bystander]
        } command: { sweep in
            ["cleanup", "--pattern", sweep.bed.prefix + "-c*", "--yes"]
        } finish: { sweep, command in
            try await sweep.expectSuccess(sweep.bed.ccorc(command), "the rerun")
        } complete: { sweep in
            for name in [sweep.session, sweep.bed.prefix + "-c2"] {
                #expect(try sweep.row(name) == nil, "\(sweep.where): \(name)'s row is gone")
                let left = try await sweep.bed.engineHolding(sessions: [name]).filter { $0.contains(" \(name)-") }
                #expect(left.isEmpty, "\(sweep.where): \(name) left \(left)")
                #expect(
                    try await sweep.tmux.hasSession(name) == false, "\(sweep.where): \(name)'s tmux session is gone")
            }
            try await sweep.expectRunning(sweep.bystander)
        }
    }

    // MARK: - The sweep

    /// One command swept over its steps, with its population.
    struct Sweep {
        let bed: SessionTestbed
        let mode: Mode
        /// One control client for all the test's own tmux queries: each new control client is a
        /// connection tmux 3.3a can crash on (see README, "Stop").
        let tmux: TmuxControlClient
        /// The session the command acts on (the first, for cleanup by pattern).
        var session: String { bed.prefix + "-c1" }
        /// A session outside the command's reach that must come through untouched.
        var bystander: String { bed.prefix + "-k1" }
        /// Unlabelled things named like a session's agent and its state volume.
        var foreignName: String { bed.prefix + "-c9-leader" }
        /// Which run is being checked, for messages.
        var step = 0
        var `where`: String { "\(mode) at step \(step)" }

        func row(_ name: String) throws -> SessionRecord? {
            try SessionRegistry(home: bed.home).session(named: SessionName(name))
        }

        func expectSuccess(_ result: CommandResult, _ what: String) throws {
            guard result.status == 0 else {
                throw TestFailure(
                    "\(self.where): \(what) exited \(result.status.description)\(result.signal.map { " (signal \($0))" } ?? ""): \(result.stderr)\(result.stdout)"
                )
            }
        }

        /// The session is ready, all three agents run, and tmux has their three windows.
        func expectRunning(_ name: String) async throws {
            let record = try #require(try row(name), "\(self.where): \(name) is registered")
            #expect(record.status == .ready, "\(self.where): \(name) is \(record.status)")
            let containers = try await bed.engine.listContainers(
                all: true, filters: ["label": ["\(OwnershipLabels.session)=\(name)"]])
            #expect(
                containers.count == 3 && containers.allSatisfy { $0.state == .running },
                "\(self.where): \(name): \(containers.map { "\($0.name) \($0.state)" })")
            try expectRecordedIDs(record, containers)
            let windows = try await self.tmux.listPanes(session: name).map(\.windowName)
            #expect(Set(windows) == ["leader", "researcher", "writer"], "\(self.where): \(name)'s windows: \(windows)")
        }

        /// The session is ready, all three agents' containers exist and are stopped, and (unless
        /// `tmux` is nil: not the command's business) its tmux session is gone.
        func expectStopped(_ name: String, tmux: Bool? = false) async throws {
            let record = try #require(try row(name), "\(self.where): \(name) is registered")
            #expect(record.status == .ready, "\(self.where): \(name) is \(record.status)")
            let containers = try await bed.engine.listContainers(
                all: true, filters: ["label": ["\(OwnershipLabels.session)=\(name)"]])
            #expect(
                containers.count == 3 && containers.allSatisfy { !$0.state.isUp },
                "\(self.where): \(name): \(containers.map { "\($0.name) \($0.state)" })")
            try expectRecordedIDs(record, containers)
            if let tmux {
                #expect(try await self.tmux.hasSession(name) == tmux, "\(self.where): \(name)'s tmux session")
            }
        }

        private func expectRecordedIDs(_ record: SessionRecord, _ containers: [ContainerSummary]) throws {
            let actual = Dictionary(containers.map { ($0.name, $0.id) }, uniquingKeysWith: { first, _ in first })
            for agent in record.agents {
                #expect(
                    agent.containerID == actual[agent.containerName],
                    "\(self.where): the registry records \(agent.containerName)'s ID")
            }
        }
    }

    /// Sweeps `command` over every step it takes: set up the population, run the command with
    /// step N failing or killing the process, check the invariants, finish the job, check the
    /// result, clear the population; for N from 1 until a run passes every step unharmed.
    private func sweep(
        _ tag: String, mode: Mode,
        setUp: (Sweep) async throws -> [String],
        command: (Sweep) -> [String],
        finish: (Sweep, [String]) async throws -> Void,
        complete: (Sweep) async throws -> Void
    ) async throws {
        try await SessionTestbed.with("sweep-" + tag) { bed in
            // Windows that print nothing: tmux 3.3a can crash when pane output reaches a control
            // client that is still connecting (see README, "Stop"), and every ccorc command connects one.
            var bed = bed
            bed.agentCommand = "sleep 86400"
            // A session of the test's own keeps the tmux server up throughout, so that launches
            // and resumes add sessions to a running server instead of starting one each time: a
            // new server with a control client arriving is where tmux 3.3a's control-client crash
            // (see README, "Stop") was seen in this test.
            try ScratchTmux(socketName: bed.tmuxName).run("new-session", "-d", "-s", "keeper", "sleep 86400")
            var sweep = Sweep(bed: bed, mode: mode, tmux: bed.tmux)
            // Detached before the testbed kills the server: tmux 3.3a, exiting, waits for its
            // control clients, and one still attached can keep it (and itself) alive for good.
            defer { sweep.tmux.close() }
            // Unlabelled, and named like what ccorc makes for a session the pattern matches.
            var spec = TestEngine.spec(sweep.foreignName)
            spec.labels = [:]
            let foreignID = try await bed.engine.createContainer(spec)
            let foreignVolume = try await bed.engine.createVolume(name: sweep.foreignName + "-state", labels: [:])

            // A clean run first, traced: how many steps there are.
            let trace = bed.home + "-trace"
            let arguments = command(sweep)
            _ = try await setUp(sweep)
            try await sweep.expectSuccess(
                bed.ccorc(environment: ["CCORC_STEP_TRACE": trace], arguments), "the traced run")
            let steps = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n").count
            try? FileManager.default.removeItem(atPath: trace)
            try await complete(sweep)
            try await clear(sweep)
            #expect(steps >= 3, "\(tag) takes \(steps) steps")

            for step in 1...steps {
                sweep.step = step
                do {
                    try await run(
                        sweep, arguments, setUp: setUp, finish: finish, complete: complete, foreignID: foreignID,
                        foreignVolume: foreignVolume)
                } catch {
                    throw TestFailure("\(sweep.where): \(error)")
                }
            }
        }
    }

    /// One run of the sweep: the population, the command with its fault, the invariants, the
    /// finished job, the invariants again; then the population is cleared.
    private func run(
        _ sweep: Sweep, _ arguments: [String], setUp: (Sweep) async throws -> [String],
        finish: (Sweep, [String]) async throws -> Void,
        complete: (Sweep) async throws -> Void, foreignID: String, foreignVolume: Volume
    ) async throws {
        let bed = sweep.bed
        let kept = try await stateVolumes(bed, of: setUp(sweep))
        let result = try await bed.ccorc(environment: ["CCORC_FAIL_STEP": "\(sweep.step):\(sweep.mode)"], arguments)
        switch sweep.mode {
        case .kill:
            #expect(result.signal == SIGKILL || result.status == 0, "\(sweep.where): \(result.status) \(result.stderr)")
        case .interrupt:
            // Before the command has anything to undo, Ctrl-C simply ends it (SIGINT's default).
            #expect(
                result.status == 130 || result.status == 0 || result.signal == SIGINT,
                "\(sweep.where): \(result.status) \(result.stderr)")
            if result.status == 130 && arguments[0] == "launch" {
                #expect(try sweep.row(sweep.session) == nil, "\(sweep.where): an interrupted launch removes its row")
                #expect(
                    try await bed.engineHolding(sessions: [sweep.session]).filter { $0.contains(" \(sweep.session)-") }
                        .isEmpty,
                    "\(sweep.where): an interrupted launch removes what it made")
            }
        case .fail:
            if result.status != 0 {
                let lines = result.stderr.split(separator: "\n")
                #expect(
                    !lines.isEmpty && lines.allSatisfy { $0.hasPrefix("ccorc: ") || $0.hasPrefix("failed ") },
                    "\(sweep.where): \(result.stderr)")
                if arguments[0] != "cleanup" { #expect(lines.count == 1, "\(sweep.where): one line: \(result.stderr)") }
                if arguments[0] == "stop" && result.stderr.contains("closing tmux session") {
                    // tmux first, or nothing: the agents keep running under their open windows.
                    let containers = try await bed.engine.listContainers(
                        all: true, filters: ["label": ["\(OwnershipLabels.session)=\(sweep.session)"]])
                    #expect(
                        containers.count == 3 && containers.allSatisfy { $0.state == .running },
                        "\(sweep.where): \(containers.map(\.state))")
                    #expect(try await sweep.tmux.hasSession(sweep.session), "\(sweep.where): the tmux session stays")
                }
            }
        }
        try await expectInvariants(sweep, kept: kept, foreignID: foreignID, foreignVolume: foreignVolume)
        try await finish(sweep, arguments)
        try await complete(sweep)
        try await expectInvariants(sweep, kept: kept, foreignID: foreignID, foreignVolume: foreignVolume)
        try await clear(sweep)
    }

    /// The volumes of `sessions` as the engine has them (`NAME CREATED`), by session.
    private func stateVolumes(_ bed: SessionTestbed, of sessions: [String]) async throws -> [String: Set<String>] {
        var volumes: [String: Set<String>] = [:]
        for session in sessions {
            let labelled = try await bed.engine.listVolumes(filters: [
                "label": ["\(OwnershipLabels.session)=\(session)"]
            ])
            volumes[session] = Set(labelled.map { "\($0.name) \($0.createdAt)" })
        }
        return volumes
    }

    private func expectInvariants(
        _ sweep: Sweep, kept: [String: Set<String>], foreignID: String, foreignVolume: Volume
    ) async throws {
        let bed = sweep.bed
        let registered = Set(try SessionRegistry(home: bed.home).rows().sessions.map(\.name.rawValue))
        let orphanPlan = try await bed.ccorc("cleanup", "--orphans", "--dry-run", "--json")
        try sweep.expectSuccess(orphanPlan, "cleanup --orphans --dry-run")
        let orphans = try JSONValue.parse(orphanPlan.stdout)["orphans"]
        let shown = Set((orphans?["containers"]?.stringArray ?? []) + (orphans?["volumes"]?.stringArray ?? []))

        // Nothing untracked.
        let label = ["label": [OwnershipLabels.session]]
        let containers = try await bed.engine.listContainers(all: true, filters: label).filter {
            $0.name.hasPrefix(bed.prefix)
        }
        let volumes = try await bed.engine.listVolumes(filters: label).filter { $0.name.hasPrefix(bed.prefix) }
        for (name, session) in containers.map({ ($0.name, $0.labels[OwnershipLabels.session]!) })
            + volumes.map({ ($0.name, $0.labels[OwnershipLabels.session]!) })
        {
            #expect(registered.contains(session) || shown.contains(name), "\(sweep.where): \(name) is untracked")
        }
        let unlabelled = try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + bed.prefix]])
            .filter { $0.labels[OwnershipLabels.session] == nil && $0.id != foreignID }
        #expect(unlabelled.isEmpty, "\(sweep.where): unlabelled containers made: \(unlabelled.map(\.name))")
        for session in try await sweep.tmux.listSessions() where session.name.hasPrefix(bed.prefix) {
            #expect(
                registered.contains(session.name), "\(sweep.where): tmux session \(session.name) has no registry row")
        }

        // Nothing foreign touched.
        let foreign = try await bed.engine.inspectContainer(sweep.foreignName)
        #expect(
            foreign.id == foreignID && foreign.state == .created, "\(sweep.where): the foreign container was touched")
        let volume = try await bed.engine.inspectVolume(foreignVolume.name)
        #expect(volume.createdAt == foreignVolume.createdAt, "\(sweep.where): the foreign volume was replaced")

        // No state volume lost that the command was not asked to remove.
        let now = try await stateVolumes(bed, of: Array(kept.keys))
        for (session, volumes) in kept {
            let lost = volumes.subtracting(now[session] ?? [])
            #expect(lost.isEmpty, "\(sweep.where): \(session)'s volumes lost or replaced: \(lost.sorted())")
        }
    }

    /// Removes every session of the test: tmux sessions, containers, volumes and registry rows,
    /// through the engine and tmux directly; the foreign container and volume stay.
    private func clear(_ sweep: Sweep) async throws {
        let bed = sweep.bed
        let prefix = bed.prefix + "-"
        let doomed = try await sweep.tmux.listSessions().map(\.name).filter { $0.hasPrefix(prefix) }
        _ = try await sweep.tmux.killSessions(doomed)
        let label = ["label": [OwnershipLabels.session]]
        // A removal the killed command asked for may still be under way (409): go round again.
        for _ in 0..<50 {
            let containers = try await bed.engine.listContainers(all: true, filters: label).filter {
                $0.name.hasPrefix(prefix)
            }
            _ = await forEachConcurrently(containers) {
                try await bed.engine.removeContainer($0.id, force: true, volumes: true)
            }
            let volumes = try await bed.engine.listVolumes(filters: label).filter { $0.name.hasPrefix(prefix) }
            _ = await forEachConcurrently(volumes) { try await bed.engine.removeVolume($0.name, force: true) }
            if containers.isEmpty && volumes.isEmpty { break }
            try await Task.sleep(for: .milliseconds(100))
        }
        let registry = try SessionRegistry(home: bed.home)
        try registry.forget(try registry.rows().sessions.map(\.name.rawValue))
    }
}
