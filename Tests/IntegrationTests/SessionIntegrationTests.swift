import Foundation
import Testing

@testable import CCOrcKit

/// A private registry, a private tmux server and a unique name prefix for one test.
struct SessionTestbed {
    let engine: EngineClient
    let prefix: String
    let home: String
    let tmuxName: String
    /// What the agents' windows run.
    var agentCommand = "sh"

    var environment: [String: String] {
        [
            "CCORC_HOME": home, "CCORC_TMUX_SERVER": tmuxName, "CCORC_NETWORK": "none", "CCORC_IMAGE": TestEngine.image,
            "CCORC_AGENT_COMMAND": agentCommand, "TMUX": "",
        ]
    }

    var tmux: TmuxControlClient { TmuxControlClient(server: .named(tmuxName)) }

    func ccorc(_ arguments: String...) async throws -> CommandResult {
        try await ccorc(arguments)
    }

    func ccorc(_ arguments: [String]) async throws -> CommandResult {
        try await Products.run("ccorc", arguments, environment: environment)
    }

    /// `ccorc ARGUMENTS` with `extra` added to (or replacing in) the testbed's environment.
    func ccorc(environment extra: [String: String], _ arguments: String...) async throws -> CommandResult {
        try await ccorc(environment: extra, arguments)
    }

    func ccorc(environment extra: [String: String], _ arguments: [String]) async throws -> CommandResult {
        try await Products.run("ccorc", arguments, environment: environment.merging(extra) { $1 })
    }

    func ccdk(_ arguments: String...) async throws -> CommandResult {
        try await Products.run("ccdk", arguments, environment: environment)
    }

    /// `ccdk ARGUMENTS` with `extra` added to (or replacing in) the testbed's environment.
    func ccdk(environment extra: [String: String], _ arguments: String...) async throws -> CommandResult {
        try await Products.run("ccdk", arguments, environment: environment.merging(extra) { $1 })
    }

    /// The sessions `ccorc list --json` prints; a failed `list` fails the test.
    func list() async throws -> [JSONValue] {
        let result = try await ccorc("list", "--json")
        guard result.status == 0, let sessions = try JSONValue.parse(result.stdout)["sessions"]?.array else {
            throw TestFailure("ccorc list --json exited \(result.status): \(result.stdout)\(result.stderr)")
        }
        return sessions
    }

    /// What the engine holds for this test: every container (`container NAME ID`) and volume
    /// (`volume NAME CREATED`) whose name starts with the prefix or that carries the
    /// `ccorc.session` label of one of `sessions`, sorted. Equal before and after a command
    /// means that command left the engine as it found it.
    func engineHolding(sessions: [String] = []) async throws -> [String] {
        var containers = try await engine.listContainers(all: true, filters: ["name": ["^/" + prefix]])
        var volumes = try await engine.listVolumes(filters: ["name": [prefix]]).filter { $0.name.hasPrefix(prefix) }
        for session in sessions {
            let label = ["label": ["\(OwnershipLabels.session)=\(session)"]]
            containers += try await engine.listContainers(all: true, filters: label)
            volumes += try await engine.listVolumes(filters: label)
        }
        return Set(
            containers.map { "container \($0.name) \($0.id)" } + volumes.map { "volume \($0.name) \($0.createdAt)" }
        ).sorted()
    }

    /// The contents of `path` inside the existing `volume`, read through a container that mounts
    /// it and is never started (the archive endpoint); nil when the file does not exist.
    func volumeFile(_ volume: String, _ path: String) async throws -> String? {
        // Mounting a volume that does not exist would create it.
        _ = try await engine.inspectVolume(volume)
        let reader = prefix + "-reader"
        var spec = TestEngine.spec(reader)
        spec.mounts = [MountSpec(kind: .volume, source: volume, target: "/volume")]
        _ = try await engine.createContainer(spec)
        let archive: [UInt8]?
        do {
            archive = try await engine.copyFromContainer(reader, path: "/volume/" + path)
        } catch {
            try? await engine.removeContainer(reader, force: true)
            throw error
        }
        try await engine.removeContainer(reader, force: true)
        return try archive.flatMap {
            try TarReader.entries($0).first.map { String(decoding: $0.contents, as: UTF8.self) }
        }
    }

    /// Runs `body`, then removes every container, volume, tmux server and registry file it made.
    static func with(_ tag: String, _ body: (SessionTestbed) async throws -> Void) async throws {
        try await TestEngine.isolated(tag) { engine, prefix in
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(prefix + "-home").path
            let bed = SessionTestbed(engine: engine, prefix: prefix, home: home, tmuxName: prefix)
            defer {
                ScratchTmux(socketName: prefix).kill()
                try? FileManager.default.removeItem(atPath: home)
            }
            try await body(bed)
        }
    }
}

@Suite(.serialized) struct SessionIntegrationTests {
    @Test func dayOneEndOfDayDayTwo() async throws {
        try await SessionTestbed.with("day") { bed in
            let name = bed.prefix + "-p"
            let launch = try await bed.ccorc(
                "launch", name, "--detach", "--container-memory", "128m", "--container-cpus", "0.5")
            #expect(launch.status == 0, "\(launch.stderr)")
            var session = try await #require(try bed.list().first { $0["name"]?.string == name })
            #expect(session["running"]?.int == 3 && session["total"]?.int == 3)
            #expect(session["tmux"]?["windows"]?.int == 3)
            let leader = name + "-leader"
            let details = try await bed.engine.inspectContainer(leader)
            #expect(details.memory == 134_217_728)
            // Created from the image's ID (cheaper for the engine to list), named in a label.
            #expect(details.image == (try await bed.engine.imageID(TestEngine.image)))
            #expect(details.labels[RecoveryLabels.image] == TestEngine.image)
            await #expect(try bed.ccdk("list").stdout.contains(TestEngine.image))

            let write = try await bed.ccdk("exec", leader, "--", "sh", "-c", "echo remembered > /root/.claude/note")
            #expect(write.status == 0)

            let stop = try await bed.ccorc("stop", name, "--time", "1")
            #expect(stop.status == 0, "\(stop.stderr)")
            session = try await #require(try bed.list().first { $0["name"]?.string == name })
            #expect(session["running"]?.int == 0)
            #expect(session["tmux"] == .null)
            #expect(try await bed.engine.inspectContainer(leader).state == .exited, "stopped, not removed")

            let resume = try await bed.ccorc("resume", name, "--detach")
            #expect(resume.status == 0, "\(resume.stderr)")
            session = try await #require(try bed.list().first { $0["name"]?.string == name })
            #expect(session["running"]?.int == 3)
            await #expect(try bed.ccdk("exec", leader, "--", "cat", "/root/.claude/note").stdout == "remembered\n")

            // Every window runs a live shell in its own container.
            let tmux = bed.tmux
            defer { tmux.close() }
            for role in ["leader", "researcher", "writer"] {
                let target = TmuxTarget.window(session: name, window: role)
                try await tmux.sendKeys(target: target, keys: ["echo $CCORC_ROLE-$((6*7))", "Enter"], literal: false)
                let seen = try await tmuxEventually {
                    try await tmux.capturePane(target: target).contains("\(role)-42")
                }
                #expect(seen, "window \(role) answers from its container")
            }
            let panes = try await tmux.listPanes(session: name)
            #expect(panes.count == 3 && panes.allSatisfy { !$0.isDead })

            let info = try await JSONValue.parse(try bed.ccorc("info", name, "--json").stdout)
            #expect(info["panes"]?.array?.count == 3)
            #expect(info["panes"]?.array?.allSatisfy { $0["dead"] == false && $0["command"]?.string == "ccdk" } == true)
            #expect(
                info["volumes"] == JSONValue(strings: ["leader", "researcher", "writer"].map { "\(name)-\($0)-state" }))
            await #expect(
                try bed.ccorc("info", bed.prefix + "-nope").stderr
                    == "ccorc: session \(bed.prefix)-nope not found (see `ccorc list`)\n")
        }
    }

    @Test func missingContainersAndLostTmux() async throws {
        try await SessionTestbed.with("broken") { bed in
            let name = bed.prefix + "-b"
            await #expect(try bed.ccorc("launch", name, "--detach").status == 0)
            // tmux killed behind ccorc's back: resume recreates it.
            _ = try ScratchTmux(socketName: bed.tmuxName).run("kill-session", "-t", "=\(name)")
            let resumed = try await bed.ccorc("resume", name, "--detach")
            #expect(resumed.status == 0, "\(resumed.stderr)")
            await #expect(try bed.list().first?["tmux"]?["windows"]?.int == 3)

            // A container removed behind ccorc's back is missing, and resume refuses.
            try await bed.engine.removeContainer(name + "-writer", force: true)
            let session = try await #require(try bed.list().first)
            let writer = session["agents"]?.array?.first { $0["role"]?.string == "writer" }
            #expect(writer?["state"]?.string == "missing")
            let refused = try await bed.ccorc("resume", name, "--detach")
            #expect(refused.status == 1)
            #expect(
                refused.stderr
                    == "ccorc: session \(name) has missing containers: \(name)-writer (repair with `ccorc cleanup --fix-broken`)\n"
            )
            let table = try await bed.ccorc("list")
            #expect(table.stdout.contains("broken"))
        }
    }

    @Test func aStopThatCannotReachTheEngineLeavesTmuxAndTheAgents() async throws {
        try await SessionTestbed.with("stopdown") { bed in
            let name = bed.prefix + "-s"
            await #expect(try bed.ccorc("launch", name, "--detach", "--agents", "leader").status == 0)
            let down = try await Products.run(
                "ccorc", ["stop", name],
                environment: bed.environment.merging(["DOCKER_HOST": "unix:///nonexistent/ccorc.sock"]) { $1 })
            #expect(down.status == 1 && down.stderr.contains("cannot reach the Docker engine"), "\(down.stderr)")
            #expect(try await bed.tmux.hasSession(name), "the agents' windows are still there")
            #expect(try await bed.engine.inspectContainer(name + "-leader").state == .running)
            await #expect(try bed.ccorc("stop", name, "--time", "1").status == 0)
            #expect(try await bed.tmux.hasSession(name) == false)
        }
    }

    @Test func stopLeavesAForeignContainerWithASessionsNameRunning() async throws {
        try await SessionTestbed.with("stopforeign") { bed in
            let name = bed.prefix + "-s"
            await #expect(try bed.ccorc("launch", name, "--detach").status == 0)
            // The researcher's container is replaced by an unrelated, unlabelled one of the same name.
            let worker = name + "-researcher"
            try await bed.engine.removeContainer(worker, force: true)
            var foreign = TestEngine.spec(worker)
            foreign.labels = [:]
            let foreignID = try await bed.engine.createContainer(foreign)
            _ = try await bed.engine.startContainer(foreignID)
            let stop = try await bed.ccorc("stop", name, "--time", "1")
            #expect(stop.status == 1)
            #expect(stop.stderr.contains("\(name): container \(worker) is not this session's"), "\(stop.stderr)")
            #expect(
                try await bed.engine.inspectContainer(foreignID).state == .running,
                "the foreign container keeps running")
            #expect(
                try await bed.engine.inspectContainer(name + "-leader").state != .running,
                "the session's own container stops")
        }
    }

    @Test func stopAllStopsEveryRegisteredSession() async throws {
        try await SessionTestbed.with("stopall") { bed in
            let empty = try await bed.ccorc("stop", "--all")
            #expect(empty.status != 0 && empty.stderr.contains("no sessions are registered"), "\(empty.stderr)")
            let one = bed.prefix + "-a"
            let two = bed.prefix + "-b"
            let launch = try await bed.ccorc("launch", "--detach", one, two)
            #expect(launch.status == 0, "\(launch.stderr)")
            let stop = try await bed.ccorc("stop", "--all", "--time", "1")
            #expect(stop.status == 0, "\(stop.stderr)")
            #expect(Set(stop.stdout.split(separator: "\n").map(String.init)) == ["stopped \(one)", "stopped \(two)"])
            let sessions = try await bed.list()
            #expect(sessions.count == 2)
            #expect(sessions.allSatisfy { $0["running"]?.int == 0 && $0["tmux"] == .null })
        }
    }

    @Test func forceReplacesAForeignTmuxSession() async throws {
        try await SessionTestbed.with("force") { bed in
            let name = bed.prefix + "-f"
            _ = try ScratchTmux(socketName: bed.tmuxName).run("new-session", "-d", "-s", name, "sleep 600")
            let refused = try await bed.ccorc("launch", name, "--detach")
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("tmux session \(name) already exists"))
            #expect(try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + name]]).isEmpty)
            await #expect(try bed.list().isEmpty)
            let forced = try await bed.ccorc("launch", name, "--detach", "--force")
            #expect(forced.status == 0, "\(forced.stderr)")
            let panes = try await bed.tmux.listPanes(session: name)
            #expect(panes.count == 3 && panes.allSatisfy { $0.currentCommand == "ccdk" })
        }
    }

    @Test func tenConcurrentLaunchesHaveOneWinner() async throws {
        try await SessionTestbed.with("race") { bed in
            let name = bed.prefix + "-r"
            let results = await withTaskGroup(of: CommandResult?.self) { group in
                for _ in 0..<10 { group.addTask { try? await bed.ccorc("launch", name, "--detach") } }
                var all: [CommandResult] = []
                for await result in group { if let result { all.append(result) } }
                return all
            }
            #expect(results.count == 10)
            #expect(results.filter { $0.status == 0 }.count == 1)
            let losers = results.filter { $0.status != 0 }
            #expect(
                losers.allSatisfy { $0.stderr == "ccorc: session \(name) already exists\n" }, "\(losers.map(\.stderr))")
            let session = try await #require(try bed.list().first)
            #expect(session["running"]?.int == 3)
        }
    }

    @Test func failedLaunchesLeaveNothingBehind() async throws {
        try await SessionTestbed.with("fail") { bed in
            let name = bed.prefix + "-x"
            let noImage = try await bed.ccorc("launch", name, "--detach", "--image", "ccorc-no-such:0")
            #expect(noImage.status == 1)
            #expect(noImage.stderr.contains("image ccorc-no-such:0 not found"))

            // The second container's name is taken by a container ccorc does not own.
            var foreign = TestEngine.spec(name + "-researcher")
            foreign.labels = [:]
            _ = try await bed.engine.createContainer(foreign)
            let conflict = try await bed.ccorc("launch", name, "--detach")
            #expect(conflict.status == 1)
            #expect(conflict.stderr.contains("creating the containers failed"))
            let left = try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + name]])
            #expect(left.map(\.name) == [name + "-researcher"], "only the foreign container remains")
            #expect(
                try await bed.engine.listVolumes(filters: ["label": ["\(OwnershipLabels.session)=\(name)"]]).isEmpty)
            await #expect(try bed.list().isEmpty)
            #expect(try await bed.tmux.hasSession(name) == false)

            for hostile in ["a.b", "x:y", "$(touch /tmp/pwned)", "-dash", String(repeating: "n", count: 64), "sp ace"] {
                let refused = try await bed.ccorc("launch", "--detach", "--", hostile)
                #expect(refused.status != 0, "\(hostile) was accepted")
            }
            await #expect(try bed.list().isEmpty)
            let badRole = try await bed.ccorc("launch", name + "2", "--detach", "--agents", "leader,bad.role")
            #expect(badRole.status != 0)
            #expect(try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + name + "2"]]).isEmpty)
        }
    }
}

/// Launches that fail after their containers started (tmux missing or failing, a fault injected at
/// a step) remove everything they made, and leave what they found.
@Suite(.serialized) struct FailedLaunchIntegrationTests {
    /// Checks what a failed launch of `name` must leave: exit status 1, one line naming `step`, no
    /// container of the session, no volume but `kept`, no registry row, no tmux session.
    private func expectNothingLeft(
        _ bed: SessionTestbed, _ name: String, after result: CommandResult, step: String, kept: [String] = [],
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        #expect(result.status == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        let lines = result.stderr.split(separator: "\n")
        #expect(
            lines.count == 1 && result.stderr.hasPrefix("ccorc: launch \(name): \(step) failed: "), "\(result.stderr)",
            sourceLocation: sourceLocation)
        let label = ["label": ["\(OwnershipLabels.session)=\(name)"]]
        let containers =
            try await bed.engine.listContainers(all: true, filters: label)
            + bed.engine.listContainers(all: true, filters: ["name": ["^/" + name + "-"]])
        #expect(containers.isEmpty, "containers left: \(containers.map(\.name))", sourceLocation: sourceLocation)
        let volumes =
            try await bed.engine.listVolumes(filters: label) + bed.engine.listVolumes(filters: ["name": [name + "-"]])
        #expect(
            Set(volumes.map(\.name)) == Set(kept), "volumes left: \(volumes.map(\.name))",
            sourceLocation: sourceLocation)
        await #expect(
            try bed.list().allSatisfy { $0["name"]?.string != name }, "registry row left",
            sourceLocation: sourceLocation)
        let sessions = (try? ScratchTmux(socketName: bed.tmuxName).run("list-sessions", "-F", "#{session_name}")) ?? ""
        #expect(
            !sessions.split(separator: "\n").contains(Substring(name)), "tmux session left",
            sourceLocation: sourceLocation)
    }

    @Test func launchWithoutWorkingTmuxRemovesItsStartedContainers() async throws {
        try await SessionTestbed.with("notmux") { bed in
            let name = bed.prefix + "-t"
            // A PATH without tmux, and one whose tmux fails: the launch gets as far as tmux, after
            // its containers started (tmux is not needed before: no server runs yet).
            let missing = bed.home + "-path-missing"
            let failing = bed.home + "-path-failing"
            defer { for directory in [missing, failing] { try? FileManager.default.removeItem(atPath: directory) } }
            for directory in [missing, failing] {
                try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            let script = failing + "/tmux"
            try "#!/bin/sh\necho 'tmux: refused by the test' >&2\nexit 1\n".write(
                toFile: script, atomically: true, encoding: .utf8)
            _ = chmod(script, 0o755)

            for (path, cause) in [(missing, "cannot start tmux"), (failing, "tmux: refused by the test")] {
                let failed = try await bed.ccorc(
                    environment: ["PATH": path], "launch", name, "--detach", "--agents", "leader,writer")
                try await expectNothingLeft(bed, name, after: failed, step: "creating the tmux session")
                #expect(failed.stderr.contains(cause), "\(failed.stderr)")
            }

            let launched = try await bed.ccorc("launch", name, "--detach", "--agents", "leader,writer")
            #expect(launched.status == 0, "\(launched.stderr)")
            let session = try await #require(try bed.list().first { $0["name"]?.string == name })
            #expect(session["running"]?.int == 2 && session["tmux"]?["windows"]?.int == 2)
        }
    }

    @Test func launchFailingAtAnyStepRemovesWhatItMade() async throws {
        try await SessionTestbed.with("faults") { bed in
            // A session of the test's own keeps the server up, with remain-on-exit on: a tmux
            // session the rollback forgot then stays (its panes dead) instead of closing by itself
            // once the shells into the removed containers end.
            let tmux = ScratchTmux(socketName: bed.tmuxName)
            let bystander = bed.prefix + "-bystander"
            try tmux.run("new-session", "-d", "-s", bystander, "sleep 600")
            try tmux.run("set-option", "-g", "remain-on-exit", "on")

            let name = bed.prefix + "-f"
            // Each point with the step its error names, and what the step adds before the cause.
            let steps: [(point: FaultPoint, step: String, within: String)] = [
                (.launchPrepareTmux, "preparing tmux", ""), (.launchVolumes, "creating the volumes", ""),
                (.launchContainers, "creating the containers", ""), (.launchStart, "starting the containers", ""),
                (.launchTmuxSession, "creating the tmux session", ""),
                (.launchTmuxWindow, "creating the tmux session", "opening window writer: "),
                (.launchCommit, "committing the registry entry", ""),
            ]
            #expect(
                Set(steps.map(\.point)) == Set(FaultPoint.allCases.filter { $0.rawValue.hasPrefix("launch.") }),
                "every launch step is tried")
            for (point, step, within) in steps {
                let failed = try await bed.ccorc(
                    environment: ["CCORC_FAIL_AT": point.rawValue], "launch", name, "--detach", "--agents",
                    "leader,writer")
                try await expectNothingLeft(bed, name, after: failed, step: step)
                #expect(
                    failed.stderr
                        == "ccorc: launch \(name): \(step) failed: \(within)fault injected at \(point.rawValue) (CCORC_FAIL_AT)\n"
                )
            }
            #expect(
                try tmux.run("list-sessions", "-F", "#{session_name}") == bystander + "\n", "other tmux sessions stay")

            let launched = try await bed.ccorc("launch", name, "--detach", "--agents", "leader,writer")
            #expect(launched.status == 0, "\(launched.stderr)")
            let session = try await #require(try bed.list().first { $0["name"]?.string == name })
            #expect(
                session["status"] == "ready" && session["running"]?.int == 2 && session["tmux"]?["windows"]?.int == 2)
        }
    }

    @Test func failedLaunchLeavesAKeptStateVolumeAsItWas() async throws {
        try await SessionTestbed.with("kept") { bed in
            let name = bed.prefix + "-k"
            await #expect(try bed.ccorc("launch", name, "--detach", "--agents", "leader,writer").status == 0)
            await #expect(
                try bed.ccdk("exec", name + "-leader", "--", "sh", "-c", "echo remembered > /root/.claude/note").status
                    == 0)
            let cleanup = try await bed.ccorc("cleanup", "--remove", name, "--keep-volumes", "--yes")
            #expect(cleanup.status == 0, "\(cleanup.stderr)")
            // The writer's volume goes too: the next launch creates that one, and must remove it again.
            try await bed.engine.removeVolume(name + "-writer-state", force: true)
            let keptName = name + "-leader-state"
            let kept = try await bed.engine.inspectVolume(keptName)

            for (point, step) in [
                (FaultPoint.launchContainers, "creating the containers"),
                (.launchCommit, "committing the registry entry"),
            ] {
                let failed = try await bed.ccorc(
                    environment: ["CCORC_FAIL_AT": point.rawValue], "launch", name, "--detach", "--agents",
                    "leader,writer")
                try await expectNothingLeft(bed, name, after: failed, step: step, kept: [keptName])
                let after = try await bed.engine.inspectVolume(keptName)
                #expect(
                    after.createdAt == kept.createdAt && after.labels == kept.labels, "the same volume, not a new one")
                #expect(try await bed.volumeFile(keptName, "note") == "remembered\n")
            }

            let launched = try await bed.ccorc("launch", name, "--detach", "--agents", "leader,writer")
            #expect(launched.status == 0, "\(launched.stderr)")
            await #expect(
                try bed.ccdk("exec", name + "-leader", "--", "cat", "/root/.claude/note").stdout == "remembered\n")
        }
    }

    @Test func faultHookKillsTheProcessAndRefusesUnknownPoints() async throws {
        try await SessionTestbed.with("faulthook") { bed in
            let name = bed.prefix + "-k"
            let unknown = try await bed.ccorc(
                environment: ["CCORC_FAIL_AT": "launch.nowhere"], "launch", name, "--detach")
            #expect(
                unknown.status == 1
                    && unknown.stderr.hasPrefix(
                        "ccorc: CCORC_FAIL_AT: unknown fault point \"launch.nowhere\" (known: launch."),
                "\(unknown.stderr)")
            #expect(try await bed.engineHolding(sessions: [name]).isEmpty)

            let killed = try await bed.ccorc(
                environment: ["CCORC_FAIL_AT": "launch.commit:kill"], "launch", name, "--detach", "--agents", "leader")
            #expect(killed.signal == SIGKILL, "status \(killed.status): \(killed.stderr)")
            // A crash just before the commit leaves the claimed row, the running container and
            // the tmux session: what a crash sweep has to reconcile.
            let session = try await #require(try bed.list().first { $0["name"]?.string == name })
            #expect(
                session["status"] == "launching" && session["running"]?.int == 1
                    && session["tmux"]?["windows"]?.int == 1)
        }
    }

    @Test(arguments: ["launch.volumes", "launch.start", "launch.tmux-session"])
    func anInterruptedLaunchRemovesWhatItMadeAndExits130(point: String) async throws {
        try await SessionTestbed.with("sigint") { bed in
            let name = bed.prefix + "-i"
            // SIGINT as a user's Ctrl-C, sent by the process to itself as the step begins.
            let result = try await bed.ccorc(
                environment: ["CCORC_FAIL_AT": point + ":interrupt"], "launch", name, "--detach")
            #expect(result.status == 130, "\(result.stderr)")
            #expect(
                result.stderr.contains("ccorc: launch \(name): interrupted")
                    && result.stderr.contains("what it made was removed"), "\(result.stderr)")
            #expect(try await bed.engineHolding(sessions: [name]).isEmpty)
            await #expect(try bed.list().allSatisfy { $0["name"]?.string != name }, "registry row left")
            #expect(try await bed.tmux.hasSession(name) == false)
            // Nothing stands in the way of the same launch now.
            await #expect(try bed.ccorc("launch", name, "--detach").status == 0)
        }
    }

    @Test func aKilledLaunchIsKnownDeadAtOnce() async throws {
        try await SessionTestbed.with("sigkill") { bed in
            let name = bed.prefix + "-d"
            let killed = try await bed.ccorc(
                environment: ["CCORC_FAIL_AT": "launch.start:kill"], "launch", name, "--detach")
            #expect(killed.signal == SIGKILL, "status \(killed.status): \(killed.stderr)")
            await #expect(try bed.list().first { $0["name"]?.string == name }?["status"] == "launching")

            // Every command can tell at once that nobody is launching it any more.
            let resume = try await bed.ccorc("resume", name, "--detach")
            #expect(
                resume.status == 1 && resume.stderr.contains("died before it finished")
                    && resume.stderr.contains("ccorc cleanup --remove \(name)"), "\(resume.stderr)")
            let relaunch = try await bed.ccorc("launch", name, "--detach")
            #expect(relaunch.status == 1 && relaunch.stderr.contains("its launch died"), "\(relaunch.stderr)")
            let health = try await bed.ccorc("health", name, "--json")
            #expect(
                try JSONValue.parse(health.stdout)["sessions"]?.array?.first?["issues"]?.array?.contains {
                    $0["message"]?.string?.contains("launch died") == true
                } == true, "\(health.stdout)")
            let cleanup = try await bed.ccorc("cleanup", "--remove", name, "--yes")
            #expect(
                cleanup.status == 0 && cleanup.stdout.contains("removed \(name)"), "\(cleanup.stdout)\(cleanup.stderr)")
            #expect(try await bed.engineHolding(sessions: [name]).isEmpty)
            await #expect(try bed.ccorc("launch", name, "--detach").status == 0)
        }
    }
}
