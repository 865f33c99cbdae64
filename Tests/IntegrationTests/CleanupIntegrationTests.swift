import EngineProxy
import Foundation
import Testing

@testable import CCOrcKit

extension SessionTestbed {
    /// Registers a session the way a finished launch leaves it (labelled volumes and containers,
    /// a committed row) but without tmux and with a chosen creation time; starts its containers
    /// when `running`.
    func plant(_ name: String, createdAt: Date = Date(), running: Bool = false) async throws {
        let tmux = self.tmux
        defer { tmux.close() }
        let manager = SessionManager(
            engine: engine, tmux: tmux, registry: try SessionRegistry(home: home),
            shellProgram: Products.directory + "/ccdk")
        let sessionName = try SessionName(name)
        let roles = LaunchOptions().roles
        var record = SessionRecord(
            name: sessionName, tmuxSession: name, createdAt: createdAt, updatedAt: createdAt, lastResumedAt: nil,
            image: TestEngine.image,
            agentCommand: "sh", memoryBytes: nil, nanoCPUs: nil, networkMode: "none", mounts: [], environment: [],
            workingDirectory: nil,
            config: ["stateDirectory": "/root/.claude"], status: .launching,
            agents: roles.enumerated().map { index, role in
                AgentRecord(
                    role: role, containerName: SessionManager.containerName(sessionName, role), containerID: nil,
                    stateVolume: SessionManager.volumeName(sessionName, role), model: nil, tmuxWindow: role.rawValue,
                    position: index)
            })
        try manager.registry.claim(record)
        for index in record.agents.indices {
            let agent = record.agents[index]
            _ = try await engine.createVolume(name: agent.stateVolume, labels: AgentLabels.labels(record, agent))
            let id = try await engine.createContainer(manager.containerSpec(record, agent, mounts: []))
            if running { try await engine.startContainer(id) }
            record.agents[index].containerID = id
        }
        record.status = .ready
        try manager.registry.commit(record)
    }

    /// The names of the registered sessions.
    func registered() throws -> Set<String> {
        Set(try SessionRegistry(home: home).allSessions().map(\.name.rawValue))
    }

    /// The session labels of the labelled containers and volumes under this testbed's prefix.
    func labelledSessions() async throws -> (containers: [String], volumes: [String]) {
        let filters = ["label": [OwnershipLabels.session]]
        let containers = try await engine.listContainers(all: true, filters: filters).compactMap {
            $0.labels[OwnershipLabels.session]
        }
        let volumes = try await engine.listVolumes(filters: filters).compactMap { $0.labels[OwnershipLabels.session] }
        return (containers.filter { $0.hasPrefix(prefix) }, volumes.filter { $0.hasPrefix(prefix) })
    }

    /// Selected session names of a `cleanup --dry-run --json` run.
    func planned(_ arguments: String...) async throws -> (sessions: [String: String], orphans: [String]) {
        let result = try await Products.run(
            "ccorc", ["cleanup", "--dry-run", "--json"] + arguments, environment: environment)
        #expect(result.status == 0, "\(arguments): \(result.stderr)")
        let plan = try JSONValue.parse(result.stdout)
        var sessions: [String: String] = [:]
        for item in plan["sessions"]?.array ?? [] { sessions[item["name"]?.string ?? "?"] = item["action"]?.string }
        let orphans = (plan["orphans"]?["containers"]?.array ?? []) + (plan["orphans"]?["volumes"]?.array ?? [])
        return (sessions, orphans.compactMap(\.string).sorted())
    }
}

@Suite(.serialized) struct CleanupIntegrationTests {
    @Test func everySelectorOnAMixedPopulation() async throws {
        try await SessionTestbed.with("clean") { bed in
            let p = bed.prefix
            await #expect(try bed.ccorc("launch", "--detach", "\(p)-run", "\(p)-stop", "\(p)-broken").status == 0)
            await #expect(try bed.ccorc("stop", "--time", "1", "\(p)-stop", "\(p)-broken").status == 0)
            try await bed.engine.removeContainer("\(p)-broken-writer", force: true)
            try await bed.plant("\(p)-old", createdAt: Date().addingTimeInterval(-10 * 86400))
            // An orphan: labelled by ccorc, claimed by no row.
            var orphan = TestEngine.spec("\(p)-lost-leader")
            orphan.labels = [
                OwnershipLabels.managed: "true", OwnershipLabels.session: "\(p)-lost", OwnershipLabels.role: "leader",
            ]
            _ = try await bed.engine.createContainer(orphan)
            _ = try await bed.engine.createVolume(
                name: "\(p)-lost-leader-state", labels: [OwnershipLabels.session: "\(p)-lost"])
            // Foreign containers: one named like an agent of a session, one running.
            var lookalike = TestEngine.spec("\(p)-old-reviewer")
            lookalike.labels = [:]
            _ = try await bed.engine.createContainer(lookalike)
            var foreign = TestEngine.spec("\(p)-stop-sidecar")
            foreign.labels = [:]
            try await bed.engine.startContainer(try await bed.engine.createContainer(foreign))
            let foreignNames = ["\(p)-old-reviewer", "\(p)-stop-sidecar"]

            let before = try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + p]]).map(\.id)
                .sorted()
            await #expect(
                try bed.planned("--stopped-only").sessions == [
                    "\(p)-stop": "remove", "\(p)-broken": "remove", "\(p)-old": "remove",
                ])
            await #expect(try bed.planned("--older-than", "7d").sessions == ["\(p)-old": "remove"])
            await #expect(try bed.planned("--stopped-only", "--pattern", "\(p)-o*").sessions == ["\(p)-old": "remove"])
            await #expect(
                try bed.planned("--pattern", "\(p)-r*", "--pattern", "\(p)-s*").sessions == [
                    "\(p)-run": "remove", "\(p)-stop": "remove",
                ])
            await #expect(try bed.planned("--remove", "\(p)-run").sessions == ["\(p)-run": "remove"])
            await #expect(try bed.planned("--fix-broken").sessions == ["\(p)-broken": "repair"])
            await #expect(try bed.planned("--fix-broken", "--drop").sessions == ["\(p)-broken": "remove"])
            let orphans = try await bed.planned("--orphans", "--pattern", "\(p)-lost")
            #expect(orphans.sessions.isEmpty && orphans.orphans == ["\(p)-lost-leader", "\(p)-lost-leader-state"])
            #expect(
                try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + p]]).map(\.id).sorted()
                    == before, "dry runs change nothing")
            #expect(try bed.registered().count == 4)

            let repaired = try await bed.ccorc("cleanup", "--fix-broken", "--yes")
            #expect(repaired.status == 0, "\(repaired.stderr)")
            #expect(repaired.stdout.contains("repaired \(p)-broken: \(p)-broken-writer recreated"))
            await #expect(
                try bed.list().first { $0["name"]?.string == "\(p)-broken" }?["agents"]?.array?.allSatisfy {
                    $0["state"]?.string == "stopped"
                } == true)

            let old = try await bed.ccorc("cleanup", "--older-than", "7d", "--yes")
            #expect(old.status == 0, "\(old.stderr)")
            #expect(try bed.registered() == ["\(p)-run", "\(p)-stop", "\(p)-broken"])

            let stopped = try await bed.ccorc("cleanup", "--stopped-only", "--pattern", "\(p)-*", "--yes", "--json")
            #expect(stopped.status == 0, "\(stopped.stderr)")
            let counts = try JSONValue.parse(stopped.stdout)["counts"]
            #expect(
                counts?["removed"] == 2 && counts?["containers"] == 6 && counts?["volumes"] == 6
                    && counts?["failed"] == 0)
            #expect(try bed.registered() == ["\(p)-run"])

            await #expect(try bed.ccorc("cleanup", "--orphans", "--pattern", "\(p)-lost", "--yes").status == 0)
            let removed = try await bed.ccorc("cleanup", "--remove", "\(p)-run", "--yes")
            #expect(removed.status == 0, "\(removed.stderr)")
            #expect(try await bed.tmux.hasSession("\(p)-run") == false)

            #expect(try bed.registered().isEmpty)
            let left = try await bed.labelledSessions()
            #expect(left.containers.isEmpty && left.volumes.isEmpty, "\(left)")
            let survivors = try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + p]]).map(\.name)
                .sorted()
            #expect(survivors == foreignNames, "only the foreign containers survive")

            let again = try await bed.ccorc("cleanup", "--pattern", "\(p)-*", "--yes")
            #expect(again.status == 0 && again.stdout.contains("nothing to clean up"))
            let unknown = try await bed.ccorc("cleanup", "--remove", "\(p)-nope", "--yes")
            #expect(unknown.status == 1 && unknown.stderr.contains("session \(p)-nope not found"))
        }
    }

    @Test func orphansPlannedBeforeALaunchCommittedItsRowAreLeftToIt() async throws {
        try await SessionTestbed.with("cleanrace") { bed in
            let name = bed.prefix + "-new"
            // The plan sees the registry as it was before the launch claimed its name, and the
            // engine after the launch made its containers and volumes.
            let before = try FileManager.default.url(
                for: .itemReplacementDirectory, in: .userDomainMask, appropriateFor: URL(fileURLWithPath: bed.home),
                create: true
            ).path
            defer { try? FileManager.default.removeItem(atPath: before) }
            try await bed.plant(name)
            let tmux = bed.tmux
            defer { tmux.close() }
            let stale = SessionManager(
                engine: bed.engine, tmux: tmux, registry: try SessionRegistry(home: before),
                shellProgram: Products.directory + "/ccdk")
            var selection = CleanupSelection()
            selection.orphans = true
            selection.patterns = [try GlobPattern(name)]
            let plan = try await stale.planCleanup(selection)
            #expect(plan.orphanContainers.count == 3 && plan.orphanVolumes.count == 3, "the race is reproduced")
            let manager = SessionManager(
                engine: bed.engine, tmux: tmux, registry: try SessionRegistry(home: bed.home),
                shellProgram: Products.directory + "/ccdk")
            let report = await manager.cleanup(plan)
            #expect(report.containersRemoved == 0 && report.volumesRemoved == 0)
            #expect(
                report.results.allSatisfy { if case .skipped = $0.outcome { true } else { false } }, "\(report.results)"
            )
            let left = try await bed.labelledSessions()
            #expect(left.containers == [name, name, name] && left.volumes == [name, name, name])
        }
    }

    @Test func refusesWithoutATerminalOrASelector() async throws {
        try await SessionTestbed.with("refuse") { bed in
            try await bed.plant("\(bed.prefix)-a")
            let noSelector = try await bed.ccorc("cleanup")
            #expect(noSelector.status != 0 && noSelector.stderr.contains("--stopped-only"))
            let refused = try await bed.ccorc("cleanup", "--pattern", "\(bed.prefix)-*")
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("not a terminal: refusing to clean up without confirmation"))
            #expect(refused.stdout.contains("Remove 1 session(s)"), "the plan is still shown")
            let interactive = try await bed.ccorc("cleanup", "--interactive")
            #expect(interactive.status == 1 && interactive.stderr.contains("--interactive needs a terminal"))
            #expect(try bed.registered() == ["\(bed.prefix)-a"])
            #expect(try await bed.labelledSessions().containers.count == 3)
        }
    }

    @Test func interruptedCleanupsLeaveNothingUntrackedAndARerunFinishes() async throws {
        try await SessionTestbed.with("kill") { bed in
            let p = bed.prefix
            func plant(_ numbers: Range<Int>) async throws {
                let planted = await forEachConcurrently(numbers.map { "\(p)-s\($0)" }, width: 6) {
                    try await bed.plant($0, running: $0.hasSuffix("0"))
                }
                try #require(planted.allSatisfy { $0.error == nil }, "\(planted.compactMap(\.error))")
            }
            try await plant(0..<30)
            var foreign = TestEngine.spec("\(p)-s1-leader2")
            foreign.labels = [:]
            _ = try await bed.engine.createContainer(foreign)

            /// Every labelled container and volume still has its registry row.
            func nothingUntracked() async throws {
                let rows = try bed.registered()
                let left = try await bed.labelledSessions()
                #expect(
                    Set(left.containers).isSubset(of: rows) && Set(left.volumes).isSubset(of: rows),
                    "untracked: \(left)")
            }
            // The spawned cleanups' output, kept to say why one made no progress.
            let output = FileManager.default.temporaryDirectory.appendingPathComponent(p + "-cleanup").path
            defer {
                for stream in ["out", "err"] { try? FileManager.default.removeItem(atPath: "\(output).\(stream)") }
            }
            func startCleanup() throws -> pid_t {
                let environment = bed.environment.map { "\($0.key)=\($0.value)" }
                return try tmuxSpawnWithCleanSignals(
                    ["/usr/bin/env"] + environment + [
                        Products.directory + "/ccorc", "cleanup", "--pattern", "\(p)-s*", "--yes", "--jobs", "1",
                    ], stdoutPath: output + ".out", stderrPath: output + ".err")
            }
            /// Why `pid` has not moved: whether it still runs, its state and what it printed.
            func stalled(_ pid: pid_t) -> Comment {
                let state = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? "exited"
                let printed = ["out", "err"].map {
                    (try? String(contentsOfFile: "\(output).\($0)", encoding: .utf8)) ?? ""
                }
                return "the cleanup made no progress (stat: \(state); stdout: \(printed[0]); stderr: \(printed[1]))"
            }
            /// The sessions under the prefix that still have a container (read by `ccdk list --json`,
            /// a process of its own) and the registry rows.
            func containersAndRows() throws -> (containers: [String], rows: Set<String>) {
                let listed = try Products.runBlocking("ccdk", ["list", "--json"], environment: bed.environment)
                try #require(listed.status == 0, "\(listed.stderr)")
                let sessions = try JSONValue.parse(listed.stdout).array?.compactMap { $0["session"]?.string } ?? []
                return (sessions.filter { $0.hasPrefix(p) }, try bed.registered())
            }
            /// Polls `condition` every 10 ms, for up to 120 s, while the cleanup `pid` runs. It
            /// never awaits: a test task that awaits gets a thread back only when the other tests in
            /// this process let one go, and by then the whole run can be over, leaving no run to
            /// signal in its middle.
            func waitWithoutAwaiting(for pid: pid_t, _ condition: () throws -> Bool) throws {
                let deadline = Date().addingTimeInterval(120)
                while try !condition() {
                    try #require(Date() < deadline, stalled(pid))
                    usleep(10_000)
                }
            }
            /// How the process ended: its exit status, or the signal that ended it.
            func wait(_ pid: pid_t) -> (status: Int32?, signal: Int32?) {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
                return (status & 0x7f) == 0 ? ((status >> 8) & 0xff, nil) : (nil, status & 0x7f)
            }

            // Ctrl-C once a session has lost its containers: in-flight work finishes, the rest is
            // left, the exit status is 130.
            let first = try startCleanup()
            var emptiedFirst: Set<String> = []
            try waitWithoutAwaiting(for: first) {
                let now = try containersAndRows()
                emptiedFirst = now.rows.subtracting(now.containers)
                return !emptiedFirst.isEmpty
            }
            kill(first, SIGINT)
            let interrupted = wait(first)
            try await nothingUntracked()
            let rows = try bed.registered()
            print(
                "Ctrl-C: \(interrupted.status.map { "exit status \($0)" } ?? "signal \(interrupted.signal ?? 0)"), \(rows.count) sessions left"
            )
            // The signal came while most sessions were still to do (the poll never waits on other
            // tests), so the run cannot have finished before it.
            #expect(interrupted.status == 130, "\(interrupted)")
            #expect(!rows.isEmpty, "an interrupted cleanup leaves the sessions it did not start")
            #expect(rows.isDisjoint(with: emptiedFirst), "a session under way at the signal loses its row too")

            // SIGKILL: nothing can finish, yet nothing is left untracked. The engine goes on with
            // the removals the killed run asked for; the rerun waits those out.
            /// Labelled containers and registry rows: every step of a cleanup but a volume's takes
            /// one away.
            func footprint() throws -> Int {
                let now = try containersAndRows()
                return now.containers.count + now.rows.count
            }
            let before = try footprint()
            let second = try startCleanup()
            try waitWithoutAwaiting(for: second) { try footprint() < before }
            kill(second, SIGKILL)
            _ = wait(second)
            try await nothingUntracked()

            // Through the counting proxy, to see whether the rerun met a removal still in progress.
            let proxy = try EngineProxy(upstream: bed.engine.host.socketPath!)
            defer { proxy.stop() }
            var environment = bed.environment
            environment["DOCKER_HOST"] = "unix://" + proxy.socketPath
            let rerun = try await Products.run(
                "ccorc", ["cleanup", "--pattern", "\(p)-s*", "--yes"], environment: environment)
            #expect(rerun.status == 0, "\(rerun.stderr)")
            print(
                "rerun: \(proxy.traffic().requests.filter { $0.status == 409 }.count) replies of 409 (a removal still in progress) waited out"
            )
            #expect(try bed.registered().isEmpty)
            let gone = try await bed.labelledSessions()
            #expect(gone.containers.isEmpty && gone.volumes.isEmpty)
            #expect(
                try await bed.engine.listContainers(all: true, filters: ["name": ["^/\(p)-s1-leader2"]]).count == 1,
                "the foreign container survives")
        }
    }

    /// `--jobs N` holds the engine requests of the removals to N in flight, counted by a proxy
    /// between ccorc and the engine, and a cleanup with plenty to do reaches N.
    @Test(arguments: [1, 3, 16]) func jobsBoundTheEngineRequestsInFlight(_ jobs: Int) async throws {
        try await SessionTestbed.with("jobs\(jobs)") { bed in
            let p = bed.prefix
            // 12 sessions: 36 containers (6 running) and 36 volumes, all wanted at once.
            let names = (0..<12).map { "\(p)-j\($0)" }
            let planted = await forEachConcurrently(names, width: 6) {
                try await bed.plant($0, running: $0.hasSuffix("0"))
            }
            try #require(planted.allSatisfy { $0.error == nil }, "\(planted.compactMap(\.error))")
            let proxy = try EngineProxy(upstream: bed.engine.host.socketPath!)
            defer { proxy.stop() }
            var environment = bed.environment
            environment["DOCKER_HOST"] = "unix://" + proxy.socketPath

            let result = try await Products.run(
                "ccorc", ["cleanup", "--pattern", "\(p)-j*", "--yes", "--jobs", String(jobs)], environment: environment)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(
                result.stdout.contains("removed 12, repaired 0, skipped 0, failed 0 (36 containers, 36 volumes)"),
                "\(result.stdout)")
            #expect(try bed.registered().isEmpty)

            let traffic = proxy.traffic()
            let removals = traffic.requests.filter { $0.method == "DELETE" }
            #expect(removals.count == 72, "\(traffic.requests.map { "\($0.method) \($0.path)" })")
            #expect(traffic.requests.allSatisfy { $0.ended != nil }, "every request was answered")
            // libcurl sends one request at a time on a connection (HTTP/1.1, no pipelining): a
            // connection is a request in flight.
            #expect(traffic.pipelined == 0)
            // The plan's lists (and the API version's ping) run before any removal, outside the
            // limit; from the first removal on, every request counts.
            let planning = traffic.requests.filter { $0.method != "DELETE" }
            let firstRemoval = removals.map(\.began).min() ?? 0
            #expect(
                planning.allSatisfy { ($0.ended ?? Int.max) < firstRemoval },
                "the plan is done before the removals start")
            let most = traffic.maxInFlight(from: { $0.method == "DELETE" })
            #expect(most <= jobs, "\(most) requests in flight with --jobs \(jobs)")
            #expect(most == jobs, "the removals never reached \(jobs) in flight (\(most))")
            print(
                "--jobs \(jobs): at most \(most) in flight from the first removal on (\(traffic.maxInFlight()) over the whole run, \(traffic.requests.count) requests)"
            )
        }
    }

    /// `--jobs` takes a whole number of at least 1; anything else is refused in one line before a
    /// single request reaches the engine.
    @Test func jobsIsAWholeNumberOfAtLeastOne() async throws {
        try await SessionTestbed.with("jobsbad") { bed in
            let p = bed.prefix
            try await bed.plant("\(p)-a")
            let proxy = try EngineProxy(upstream: bed.engine.host.socketPath!)
            defer { proxy.stop() }
            var environment = bed.environment
            environment["DOCKER_HOST"] = "unix://" + proxy.socketPath
            for jobs in [
                ["--jobs", "0"], ["--jobs", "-1"], ["--jobs=-3"], ["--jobs", "abc"], ["--jobs", "2.5"], ["--jobs", ""],
                ["--jobs", "4x"],
            ] {
                let value = jobs.count == 2 ? jobs[1] : String(jobs[0].dropFirst("--jobs=".count))
                let result = try await Products.run(
                    "ccorc", ["cleanup", "--pattern", "\(p)-*", "--yes"] + jobs, environment: environment)
                #expect(result.status == 1, "\(jobs): \(result.stderr)")
                #expect(
                    result.stderr == "ccorc: --jobs must be a whole number of at least 1, not \"\(value)\"\n", "\(jobs)"
                )
                #expect(result.stdout.isEmpty, "\(jobs): \(result.stdout)")
            }
            #expect(proxy.traffic().requests.isEmpty, "no request reached the engine")
            #expect(try bed.registered() == ["\(p)-a"])
            #expect(try await bed.labelledSessions().containers.count == 3)
        }
    }

    @Test func repairedSessionResumesWithItsState() async throws {
        try await SessionTestbed.with("repair") { bed in
            let name = bed.prefix + "-r"
            await #expect(try bed.ccorc("launch", name, "--detach").status == 0)
            await #expect(
                try bed.ccdk("exec", name + "-leader", "--", "sh", "-c", "echo kept > /root/.claude/memory").status == 0
            )
            await #expect(try bed.ccorc("stop", name, "--time", "1").status == 0)
            try await bed.engine.removeContainer(name + "-leader", force: true)
            await #expect(try bed.ccorc("resume", name, "--detach").status == 1)

            let repaired = try await bed.ccorc("cleanup", "--fix-broken", "--yes")
            #expect(repaired.status == 0, "\(repaired.stderr)")
            #expect(repaired.stdout.contains("\(name)-leader recreated: files outside /root/.claude are lost"))
            let resumed = try await bed.ccorc("resume", name, "--detach")
            #expect(resumed.status == 0, "\(resumed.stderr)")
            await #expect(
                try bed.ccdk("exec", name + "-leader", "--", "cat", "/root/.claude/memory").stdout == "kept\n")

            // A session whose image is gone cannot be repaired; --drop removes it instead.
            try await bed.plant(bed.prefix + "-gone")
            let registry = try SessionRegistry(home: bed.home)
            var record = try #require(try registry.session(named: SessionName(bed.prefix + "-gone")))
            try registry.remove([record.name])
            record.image = "ccorc-no-such-image:1"
            try registry.claim(record)
            try registry.commit(record)
            try await bed.engine.removeContainer(bed.prefix + "-gone-writer", force: true)
            let blocked = try await bed.ccorc("cleanup", "--fix-broken", "--pattern", bed.prefix + "-gone", "--yes")
            #expect(blocked.status == 1)
            #expect(
                blocked.stderr.contains("image ccorc-no-such-image:1 no longer exists")
                    && blocked.stderr.contains("--drop"), "\(blocked.stderr)")
            let dropped = try await bed.ccorc("cleanup", "--fix-broken", "--drop", "--yes")
            #expect(dropped.status == 0, "\(dropped.stderr)")
            #expect(try bed.registered() == [name])
        }
    }

    @Test func interactivePickThroughATerminal() async throws {
        try await SessionTestbed.with("pick") { bed in
            let p = bed.prefix
            for suffix in ["a", "b", "c"] { try await bed.plant("\(p)-\(suffix)") }
            let terminal = ScratchTmux(socketName: p + "-term")
            defer { terminal.kill() }
            let environment = bed.environment.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            try terminal.run(
                "new-session", "-d", "-x", "160", "-y", "40", "-s", "t",
                "env \(environment) \(Products.directory)/ccorc cleanup --interactive --pattern '\(p)-*'; sleep 600")
            var screen = try await terminal.waitForScreen("t") { $0.contains("Sessions to clean up") }
            #expect(
                screen.contains("\(p)-a") && screen.contains("\(p)-c") && screen.contains("0/3 running"), "\(screen)")
            try terminal.run("send-keys", "-t", "t", "1 3", "Enter")
            screen = try await terminal.waitForScreen("t") { $0.contains("Proceed? [y/N]") }
            #expect(screen.contains("Remove 2 session(s)"), "\(screen)")
            try terminal.run("send-keys", "-t", "t", "y", "Enter")
            screen = try await terminal.waitForScreen("t", seconds: 30) { $0.contains("removed 2, repaired 0") }
            #expect(screen.contains("removed 2, repaired 0, skipped 0, failed 0"), "\(screen)")
            #expect(try bed.registered() == ["\(p)-b"])
        }
    }
}
