import Foundation
import Testing
@testable import CCOrcKit

/// A private registry, a private tmux server and a unique name prefix for one test.
struct SessionTestbed {
    let engine: EngineClient
    let prefix: String
    let home: String
    let tmuxName: String

    var environment: [String: String] {
        [
            "CCORC_HOME": home, "CCORC_TMUX_SERVER": tmuxName, "CCORC_NETWORK": "none", "CCORC_IMAGE": TestEngine.image,
            "CCORC_AGENT_COMMAND": "sh", "TMUX": "",
        ]
    }

    var tmux: TmuxControlClient { TmuxControlClient(server: .named(tmuxName)) }

    func ccorc(_ arguments: String...) throws -> CommandResult {
        try Products.run("ccorc", arguments, environment: environment)
    }

    func ccdk(_ arguments: String...) throws -> CommandResult {
        try Products.run("ccdk", arguments, environment: environment)
    }

    /// The sessions `ccorc list --json` prints; a failed `list` fails the test.
    func list() throws -> [JSONValue] {
        let result = try ccorc("list", "--json")
        guard result.status == 0, let sessions = try JSONValue.parse(result.stdout)["sessions"]?.array else {
            throw TestFailure("ccorc list --json exited \(result.status): \(result.stdout)\(result.stderr)")
        }
        return sessions
    }

    /// Runs `body`, then removes every container, volume, tmux server and registry file it made.
    static func with(_ tag: String, _ body: (SessionTestbed) async throws -> Void) async throws {
        try await TestEngine.isolated(tag) { engine, prefix in
            let home = FileManager.default.temporaryDirectory.appendingPathComponent(prefix + "-home").path
            let bed = SessionTestbed(engine: engine, prefix: prefix, home: home, tmuxName: prefix)
            defer {
                _ = try? ScratchTmux(socketName: prefix).run("kill-server")
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
            let launch = try bed.ccorc("launch", name, "--detach", "--container-memory", "128m", "--container-cpus", "0.5")
            #expect(launch.status == 0, "\(launch.stderr)")
            var session = try #require(try bed.list().first { $0["name"]?.string == name })
            #expect(session["running"]?.int == 3 && session["total"]?.int == 3)
            #expect(session["tmux"]?["windows"]?.int == 3)
            let leader = name + "-leader"
            let details = try await bed.engine.inspectContainer(leader)
            #expect(details.memory == 134_217_728)
            // Created from the image's ID (cheaper for the engine to list), named in a label.
            #expect(details.image == (try await bed.engine.imageID(TestEngine.image)))
            #expect(details.labels[RegistryRecovery.imageLabel] == TestEngine.image)
            #expect(try bed.ccdk("list").stdout.contains(TestEngine.image))

            let write = try bed.ccdk("exec", leader, "--", "sh", "-c", "echo remembered > /root/.claude/note")
            #expect(write.status == 0)

            let stop = try bed.ccorc("stop", name, "--time", "1")
            #expect(stop.status == 0, "\(stop.stderr)")
            session = try #require(try bed.list().first { $0["name"]?.string == name })
            #expect(session["running"]?.int == 0)
            #expect(session["tmux"] == .null)
            #expect(try await bed.engine.inspectContainer(leader).state == .exited, "stopped, not removed")

            let resume = try bed.ccorc("resume", name, "--detach")
            #expect(resume.status == 0, "\(resume.stderr)")
            session = try #require(try bed.list().first { $0["name"]?.string == name })
            #expect(session["running"]?.int == 3)
            #expect(try bed.ccdk("exec", leader, "--", "cat", "/root/.claude/note").stdout == "remembered\n")

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

            let info = try JSONValue.parse(try bed.ccorc("info", name, "--json").stdout)
            #expect(info["panes"]?.array?.count == 3)
            #expect(info["panes"]?.array?.allSatisfy { $0["dead"] == false && $0["command"]?.string == "ccdk" } == true)
            #expect(info["volumes"] == JSONValue(strings: ["leader", "researcher", "writer"].map { "\(name)-\($0)-state" }))
            #expect(try bed.ccorc("info", bed.prefix + "-nope").stderr == "ccorc: session \(bed.prefix)-nope not found (see `ccorc list`)\n")
        }
    }

    @Test func missingContainersAndLostTmux() async throws {
        try await SessionTestbed.with("broken") { bed in
            let name = bed.prefix + "-b"
            #expect(try bed.ccorc("launch", name, "--detach").status == 0)
            // tmux killed behind ccorc's back: resume recreates it.
            _ = try ScratchTmux(socketName: bed.tmuxName).run("kill-session", "-t", "=\(name)")
            let resumed = try bed.ccorc("resume", name, "--detach")
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(try bed.list().first?["tmux"]?["windows"]?.int == 3)

            // A container removed behind ccorc's back is missing, and resume refuses.
            try await bed.engine.removeContainer(name + "-writer", force: true)
            let session = try #require(try bed.list().first)
            let writer = session["agents"]?.array?.first { $0["role"]?.string == "writer" }
            #expect(writer?["state"]?.string == "missing")
            let refused = try bed.ccorc("resume", name, "--detach")
            #expect(refused.status == 1)
            #expect(refused.stderr == "ccorc: session \(name) has missing containers: \(name)-writer (repair with `ccorc cleanup --fix-broken`)\n")
            let table = try bed.ccorc("list")
            #expect(table.stdout.contains("broken"))
        }
    }

    @Test func stopAllStopsEveryRegisteredSession() async throws {
        try await SessionTestbed.with("stopall") { bed in
            let empty = try bed.ccorc("stop", "--all")
            #expect(empty.status != 0 && empty.stderr.contains("no sessions are registered"), "\(empty.stderr)")
            let one = bed.prefix + "-a", two = bed.prefix + "-b"
            let launch = try bed.ccorc("launch", "--detach", one, two)
            #expect(launch.status == 0, "\(launch.stderr)")
            let stop = try bed.ccorc("stop", "--all", "--time", "1")
            #expect(stop.status == 0, "\(stop.stderr)")
            #expect(Set(stop.stdout.split(separator: "\n").map(String.init)) == ["stopped \(one)", "stopped \(two)"])
            let sessions = try bed.list()
            #expect(sessions.count == 2)
            #expect(sessions.allSatisfy { $0["running"]?.int == 0 && $0["tmux"] == .null })
        }
    }

    @Test func forceReplacesAForeignTmuxSession() async throws {
        try await SessionTestbed.with("force") { bed in
            let name = bed.prefix + "-f"
            _ = try ScratchTmux(socketName: bed.tmuxName).run("new-session", "-d", "-s", name, "sleep 600")
            let refused = try bed.ccorc("launch", name, "--detach")
            #expect(refused.status == 1)
            #expect(refused.stderr.contains("tmux session \(name) already exists"))
            #expect(try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + name]]).isEmpty)
            #expect(try bed.list().isEmpty)
            let forced = try bed.ccorc("launch", name, "--detach", "--force")
            #expect(forced.status == 0, "\(forced.stderr)")
            let panes = try await bed.tmux.listPanes(session: name)
            #expect(panes.count == 3 && panes.allSatisfy { $0.currentCommand == "ccdk" })
        }
    }

    @Test func tenConcurrentLaunchesHaveOneWinner() async throws {
        try await SessionTestbed.with("race") { bed in
            let name = bed.prefix + "-r"
            let results = await withTaskGroup(of: CommandResult?.self) { group in
                for _ in 0..<10 { group.addTask { try? bed.ccorc("launch", name, "--detach") } }
                var all: [CommandResult] = []
                for await result in group { if let result { all.append(result) } }
                return all
            }
            #expect(results.count == 10)
            #expect(results.filter { $0.status == 0 }.count == 1)
            let losers = results.filter { $0.status != 0 }
            #expect(losers.allSatisfy { $0.stderr == "ccorc: session \(name) already exists\n" }, "\(losers.map(\.stderr))")
            let session = try #require(try bed.list().first)
            #expect(session["running"]?.int == 3)
        }
    }

    @Test func failedLaunchesLeaveNothingBehind() async throws {
        try await SessionTestbed.with("fail") { bed in
            let name = bed.prefix + "-x"
            let noImage = try bed.ccorc("launch", name, "--detach", "--image", "ccorc-no-such:0")
            #expect(noImage.status == 1)
            #expect(noImage.stderr.contains("image ccorc-no-such:0 not found"))

            // The second container's name is taken by a container ccorc does not own.
            var foreign = TestEngine.spec(name + "-researcher")
            foreign.labels = [:]
            _ = try await bed.engine.createContainer(foreign)
            let conflict = try bed.ccorc("launch", name, "--detach")
            #expect(conflict.status == 1)
            #expect(conflict.stderr.contains("creating the containers failed"))
            let left = try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + name]])
            #expect(left.map(\.name) == [name + "-researcher"], "only the foreign container remains")
            #expect(try await bed.engine.listVolumes(filters: ["label": ["\(OwnershipLabels.session)=\(name)"]]).isEmpty)
            #expect(try bed.list().isEmpty)
            #expect(try await bed.tmux.hasSession(name) == false)

            for hostile in ["a.b", "x:y", "$(touch /tmp/pwned)", "-dash", String(repeating: "n", count: 64), "sp ace"] {
                let refused = try bed.ccorc("launch", "--detach", "--", hostile)
                #expect(refused.status != 0, "\(hostile) was accepted")
            }
            #expect(try bed.list().isEmpty)
            let badRole = try bed.ccorc("launch", name + "2", "--detach", "--agents", "leader,bad.role")
            #expect(badRole.status != 0)
            #expect(try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + name + "2"]]).isEmpty)
        }
    }
}
