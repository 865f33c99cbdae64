import Foundation
import Testing

@testable import CCOrcKit

/// One ccorc over three engines: the main one and two private dockerds started for the test,
/// named as docker contexts in a private `DOCKER_CONFIG`.
@Suite(.serialized) struct MultiEngineIntegrationTests {
    /// Writes one docker context per entry, with the TLS files of `tls` when given (a directory
    /// holding `ca.pem`, `cert.pem` and `key.pem`), as `docker context create` does.
    static func writeContexts(_ directory: String, _ contexts: [(name: String, host: String, tls: String?)]) throws {
        for (index, context) in contexts.enumerated() {
            let files = context.tls.map { tls in
                Dictionary(uniqueKeysWithValues: ["ca.pem", "cert.pem", "key.pem"].map { ($0, "\(tls)/\($0)") })
            }
            try TLSEngineIntegrationTests.writeContext(
                directory, id: "ctx\(index)", name: context.name, host: context.host, tls: files ?? [:])
        }
    }

    /// The sessions of `ccorc list --json` by name, with the exit status.
    static func listed(
        _ bed: SessionTestbed, _ environment: [String: String]
    ) async throws -> (
        status: Int32, sessions: [String: JSONValue], stderr: String
    ) {
        let result = try await bed.ccorc(environment: environment, "list", "--json")
        let sessions = try JSONValue.parse(result.stdout)["sessions"]?.array ?? []
        var byName: [String: JSONValue] = [:]
        for session in sessions { byName[session["name"]?.string ?? ""] = session }
        return (result.status, byName, result.stderr)
    }

    /// The second extra engine is reached only over `tcp://` with mutual TLS.
    @Test func placedPinnedListedStoppedAndCleanedUpAcrossThreeEngines() async throws {
        try await SessionTestbed.with("eng") { bed in
            try await ExtraEngine.with { first, firstClient in
                try await ExtraEngine.with(tls: true) { second, secondClient in
                    let config = FileManager.default.temporaryDirectory.appendingPathComponent(bed.prefix + "-docker")
                        .path
                    defer { try? FileManager.default.removeItem(atPath: config) }
                    // `bad`: the TLS engine with a CA that did not sign its certificate.
                    let wrong = second.directory + "/wrong"
                    try FileManager.default.createDirectory(atPath: wrong, withIntermediateDirectories: true)
                    try FileManager.default.copyItem(
                        atPath: try TLSEngineIntegrationTests.makeCA(in: second.directory + "/other-ca"),
                        toPath: wrong + "/ca.pem")
                    for file in ["cert.pem", "key.pem"] {
                        try FileManager.default.copyItem(
                            atPath: second.clientCertDirectory! + "/" + file, toPath: wrong + "/" + file)
                    }
                    try Self.writeContexts(
                        config,
                        [
                            ("e1", first.dockerHost, nil), ("e2", second.tcpAddress!, second.clientCertDirectory!),
                            ("bad", second.tcpAddress!, wrong),
                        ])
                    // The current engine is the default context: the main engine.
                    let env = ["DOCKER_CONFIG": config, "DOCKER_HOST": ""]
                    let p = bed.prefix

                    // `engines`: the three answer, with their capacity and no sessions yet; `bad`
                    // is refused for its CA, which does not fail the command (no session is there).
                    let engines = try await bed.ccorc(environment: env, "engines", "--json")
                    #expect(engines.status == 0, "\(engines.stderr)")
                    var rows = try JSONValue.parse(engines.stdout).array ?? []
                    #expect(rows.map { $0["name"]?.string ?? "" } == ["default", "bad", "e1", "e2"])
                    let refused = rows.remove(at: 1)
                    #expect(refused["reachable"]?.bool == false)
                    #expect(refused["error"]?.string?.contains("certificate is not trusted by") == true, "\(refused)")
                    #expect(rows.allSatisfy { $0["reachable"]?.bool == true && ($0["memory"]?.int ?? 0) > 0 })
                    #expect(rows.allSatisfy { ($0["cpus"]?.int ?? 0) > 0 && $0["apiVersion"]?.string != nil })
                    #expect(rows[0]["current"]?.bool == true && rows[1]["current"]?.bool == false)
                    #expect(rows[2]["host"]?.string == second.tcpAddress)

                    // A launch pinned to the engine with the wrong CA: one line, nothing made.
                    let untrusted = try await bed.ccorc(
                        environment: env, "launch", bed.prefix + "-x", "--engine", "bad", "--detach")
                    #expect(untrusted.status != 0 && untrusted.stderr.filter { $0 == "\n" }.count == 1)
                    #expect(
                        untrusted.stderr.contains(
                            "certificate is not trusted by \(config)/contexts/tls/ctx2/docker/ca.pem"),
                        "\(untrusted.stderr)")
                    await #expect(try Self.listed(bed, env).sessions.isEmpty)

                    // Pinned.
                    let launch = ["--detach", "--agents", "leader", "--container-memory", "64m"]
                    let pinned = try await bed.ccorc(
                        environment: env, ["launch", p + "-pin", "--engine", "e1"] + launch)
                    #expect(pinned.status == 0, "\(pinned.stderr)")
                    #expect(try await firstClient.inspectContainer(p + "-pin-leader").state.isUp)
                    await #expect(throws: EngineError.self) { try await bed.engine.inspectContainer(p + "-pin-leader") }

                    // Placed: e2 has the most memory left (nothing reserved); then e1 and e2 tie on
                    // memory and sessions, and e1 is named first.
                    let placed = try await bed.ccorc(
                        environment: env, ["launch", p + "-a", p + "-b", "--engines", "e1,e2"] + launch)
                    #expect(placed.status == 0, "\(placed.stderr)")
                    let plain = try await bed.ccorc(environment: env, ["launch", p + "-main"] + launch)
                    #expect(plain.status == 0, "\(plain.stderr)")
                    var listing = try await Self.listed(bed, env)
                    #expect(listing.status == 0, "\(listing.stderr)")
                    let homes = [p + "-pin": "e1", p + "-a": "e2", p + "-b": "e1", p + "-main": "default"]
                    for (name, engine) in homes {
                        #expect(listing.sessions[name]?["engine"]?.string == engine, "\(name)")
                        #expect(listing.sessions[name]?["condition"]?.string == "running", "\(name)")
                    }
                    #expect(try await secondClient.inspectContainer(p + "-a-leader").state.isUp)
                    #expect(try await firstClient.inspectContainer(p + "-b-leader").state.isUp)
                    #expect(try await bed.engine.inspectContainer(p + "-main-leader").state.isUp)

                    // Each window reaches its session's engine: `health` finds the agent's shell
                    // in every pane and every container running, on all three engines.
                    let panes = try await bed.tmux.listPanes(session: p + "-pin")
                    #expect(panes.count == 1 && !panes[0].isDead)
                    let health = try await bed.ccorc(environment: env, "health", "--all", "--json")
                    #expect(health.status == 0, "\(health.stdout)\(health.stderr)")
                    let text = try await bed.ccorc(environment: env, "list")
                    #expect(text.status == 0 && text.stdout.hasPrefix("NAME") && text.stdout.contains("ENGINE"))

                    // `engines` counts the sessions and their reserved memory.
                    let counted =
                        try await JSONValue.parse(try bed.ccorc(environment: env, "engines", "--json").stdout)
                        .array ?? []
                    #expect(counted.map { $0["sessions"]?.int ?? -1 } == [1, 0, 2, 1])
                    #expect(counted.map { $0["reservedMemory"]?.int ?? -1 } == [64 << 20, 0, 128 << 20, 64 << 20])

                    // One engine stops: the others are still listed, the command fails, and
                    // nothing is changed on it (its row and containers stay; its windows end on
                    // their own, as their exec connections close).
                    try await second.stop()
                    listing = try await Self.listed(bed, env)
                    #expect(listing.status == 1)
                    #expect(listing.sessions[p + "-a"]?["condition"]?.string == "engineUnreachable")
                    #expect(
                        listing.sessions[p + "-a"]?["engineError"]?.string?.hasPrefix("engine e2 unreachable") == true)
                    #expect(listing.sessions[p + "-b"]?["condition"]?.string == "running")
                    #expect(listing.stderr.hasPrefix("ccorc: engine e2 unreachable:"), "\(listing.stderr)")
                    #expect(listing.stderr.filter { $0 == "\n" }.count == 1, "\(listing.stderr)")
                    let unhealthy = try await bed.ccorc(environment: env, "health", "--all")
                    #expect(unhealthy.status != 0 && unhealthy.stdout.contains("engine e2 unreachable"))
                    let stopped = try await bed.ccorc(environment: env, "stop", "--all")
                    #expect(stopped.status == 1)
                    #expect(stopped.stderr.hasPrefix("ccorc: \(p)-a: "), "\(stopped.stderr)")
                    #expect(
                        stopped.stderr.contains(
                            "ccorc: \(p)-a: engine e2 (nothing was changed there): cannot reach the Docker engine: "),
                        "\(stopped.stderr)")
                    // Resuming it names the engine and says why, in one line.
                    let resumed = try await bed.ccorc(environment: env, "resume", p + "-a", "--detach")
                    #expect(resumed.status != 0 && resumed.stderr.filter { $0 == "\n" }.count == 1)
                    #expect(
                        resumed.stderr.hasPrefix(
                            "ccorc: engine e2: cannot reach the Docker engine: nothing answers on "),
                        "\(resumed.stderr)")
                    #expect(try await !bed.tmux.hasSession(p + "-b"))
                    #expect(try await firstClient.inspectContainer(p + "-b-leader").state.isUp == false)
                    let cleaned = try await bed.ccorc(environment: env, "cleanup", "--pattern", p + "-*", "--yes")
                    #expect(cleaned.status == 1, "\(cleaned.stdout)\(cleaned.stderr)")
                    listing = try await Self.listed(bed, env)
                    #expect(Set(listing.sessions.keys) == [p + "-a"])
                    #expect(try await firstClient.listContainers(all: true).filter { $0.name.hasPrefix(p) }.isEmpty)

                    // Back: the session is there as it was, and goes with the next cleanup.
                    try await second.start()
                    listing = try await Self.listed(bed, env)
                    #expect(listing.status == 0, "\(listing.stderr)")
                    #expect(try await secondClient.inspectContainer(p + "-a-leader").name == p + "-a-leader")
                    let condition = listing.sessions[p + "-a"]?["condition"]?.string
                    #expect(condition == "stopped" || condition == "partlyRunning", "\(condition ?? "-")")
                    let last = try await bed.ccorc(
                        environment: env, "cleanup", "--pattern", p + "-*", "--orphans", "--yes")
                    #expect(last.status == 0, "\(last.stdout)\(last.stderr)")
                    #expect(try await secondClient.listContainers(all: true).filter { $0.name.hasPrefix(p) }.isEmpty)
                    #expect(try await secondClient.listVolumes().filter { $0.name.hasPrefix(p) }.isEmpty)
                    #expect(try await !bed.tmux.hasSession(p + "-a"))
                }
            }
        }
    }

    /// `recover` searches every engine: a row forgotten on one machine comes back naming the
    /// engine its containers are on.
    @Test func recoverFindsSessionsOnEveryEngine() async throws {
        try await SessionTestbed.with("engr") { bed in
            try await ExtraEngine.with { extra, client in
                let config = FileManager.default.temporaryDirectory.appendingPathComponent(bed.prefix + "-docker").path
                defer { try? FileManager.default.removeItem(atPath: config) }
                try Self.writeContexts(config, [("far", extra.dockerHost, nil)])
                let env = ["DOCKER_CONFIG": config, "DOCKER_HOST": ""]
                let name = bed.prefix + "-r"
                let launched = try await bed.ccorc(
                    environment: env, "launch", name, "--engine", "far", "--detach", "--agents", "leader")
                #expect(launched.status == 0, "\(launched.stderr)")
                await #expect(try bed.ccorc(environment: env, "forget", name).status == 0)
                await #expect(try Self.listed(bed, env).sessions.isEmpty)
                // Not searched unless named: no session lives on it any more.
                let missed = try await bed.ccorc(environment: env, "recover", "--dry-run")
                #expect(missed.status == 0 && !missed.stdout.contains(name), "\(missed.stdout)")
                let recovered = try await bed.ccorc(environment: env, "recover", "--engines", "far")
                #expect(recovered.status == 0 && recovered.stdout.contains("added \(name)"), "\(recovered.stderr)")
                let listing = try await Self.listed(bed, env)
                #expect(listing.sessions[name]?["engine"]?.string == "far")
                // `forget` touches only the registry: the tmux session and containers still run.
                #expect(listing.sessions[name]?["condition"]?.string == "running")
                await #expect(try bed.ccorc(environment: env, "cleanup", "--remove", name, "--yes").status == 0)
                #expect(try await client.listContainers(all: true).filter { $0.name.hasPrefix(bed.prefix) }.isEmpty)
            }
        }
    }

    /// What a private engine holds of `name`: its containers and volumes, by name.
    static func holding(_ client: EngineClient, _ name: String) async throws -> [String] {
        let containers = try await client.listContainers(all: true).filter { $0.name.hasPrefix(name) }
        let volumes = try await client.listVolumes().filter { $0.name.hasPrefix(name) }
        return (containers.map { "container " + $0.name } + volumes.map { "volume " + $0.name }).sorted()
    }

    /// `move` between two private engines, the target over TLS: the image, the state volume (a
    /// non-root user's files, a symlink, 3 MB of random bytes) and an image `VOLUME` arrive
    /// intact; the source keeps nothing; the session resumes there. A move to an engine that
    /// does not exist changes nothing; one that fails at any step before the registry names the
    /// target leaves the session whole where it was and nothing on the target; one killed before
    /// or after that write leaves orphans that `cleanup --orphans` removes. Both engines are
    /// private, so that an unscoped orphan sweep touches no other test's sessions.
    @Test func moveCarriesTheStateAcrossOverTLS() async throws {
        try await SessionTestbed.with("engm") { bed in
            try await ExtraEngine.with { near, nearClient in
                try await ExtraEngine.with(tls: true) { far, farClient in
                    let config = FileManager.default.temporaryDirectory.appendingPathComponent(bed.prefix + "-docker")
                        .path
                    defer { try? FileManager.default.removeItem(atPath: config) }
                    try Self.writeContexts(config, [("far", far.tcpAddress!, far.clientCertDirectory!)])
                    let image = bed.prefix + "-agent:1"
                    _ = try await BusyboxImage.importImage(
                        into: nearClient, reference: image, user: "agent", changes: ["VOLUME /data"])
                    // The current engine (`default`) is the private `near`.
                    let env = ["DOCKER_CONFIG": config, "DOCKER_HOST": near.dockerHost, "CCORC_IMAGE": image]
                    let name = bed.prefix + "-m"
                    let launched = try await bed.ccorc(
                        environment: env, "launch", name, "--agents", "leader,writer", "--detach")
                    #expect(launched.status == 0, "\(launched.stderr)")
                    let written = try await bed.ccdk(
                        environment: env, "exec", name + "-leader", "--", "sh", "-c",
                        "echo 'day one' > ~/.claude/notes && head -c 3000000 /dev/urandom > ~/.claude/blob && ln -s notes ~/.claude/link && md5sum ~/.claude/blob | cut -c1-32"
                    )
                    #expect(written.status == 0, "\(written.stderr)")
                    let sum = written.stdout
                    // The image's VOLUME is root's.
                    let kept = try await bed.ccdk(
                        environment: env, "exec", "-u", "0", name + "-leader", "--", "sh", "-c",
                        "echo kept > /data/kept")
                    #expect(kept.status == 0, "\(kept.stderr)")

                    let moved = try await bed.ccorc(environment: env, "move", name, "--to", "far")
                    #expect(moved.status == 0, "\(moved.stdout)\(moved.stderr)")
                    #expect(
                        moved.stdout.hasPrefix("moved \(name) from default to far: 4 volume(s)"), "\(moved.stdout)")
                    #expect(moved.stdout.contains("image copied"))
                    // Nothing of it is left on the source; everything is on the target, stopped.
                    #expect(try await Self.holding(nearClient, name).isEmpty)
                    let there = try await farClient.listContainers(all: true).filter { $0.name.hasPrefix(name) }
                    #expect(Set(there.map(\.name)) == [name + "-leader", name + "-writer"])
                    #expect(there.allSatisfy { !$0.state.isUp })
                    let helpers = ["label": [EngineTransfer.helperLabel]]
                    #expect(try await farClient.listContainers(all: true, filters: helpers).isEmpty)
                    #expect(try await nearClient.listContainers(all: true, filters: helpers).isEmpty)
                    var listing = try await Self.listed(bed, env)
                    #expect(listing.sessions[name]?["engine"]?.string == "far")
                    #expect(listing.sessions[name]?["condition"]?.string == "stopped")

                    let resumed = try await bed.ccorc(environment: env, "resume", name, "--detach")
                    #expect(resumed.status == 0, "\(resumed.stderr)")
                    let read = try await bed.ccdk(
                        environment: env, "exec", "--context", "far", name + "-leader", "--", "sh", "-c",
                        "cat ~/.claude/notes; md5sum ~/.claude/blob | cut -c1-32; readlink ~/.claude/link; cat /data/kept; stat -c %u:%g ~/.claude/blob"
                    )
                    #expect(
                        read.stdout == "day one\n" + sum + "notes\nkept\n1000:1000\n", "\(read.stdout)\(read.stderr)")
                    let health = try await bed.ccorc(environment: env, "health", name)
                    #expect(health.status == 0, "\(health.stdout)")

                    // A move to an engine no context names stops nothing.
                    let refused = try await bed.ccorc(environment: env, "move", name, "--to", "nowhere")
                    #expect(refused.status != 0 && refused.stderr.contains("no docker context named nowhere"))
                    await #expect(try Self.listed(bed, env).sessions[name]?["condition"]?.string == "running")

                    // Failing at each step before the registry names the target: the session stays
                    // registered on `far`, whole, and `near` keeps nothing of it.
                    for point in ["move.image", "move.volumes", "move.containers", "move.verify", "move.commit"] {
                        let failed = try await bed.ccorc(
                            environment: env.merging(["CCORC_FAIL_AT": point]) { $1 }, "move", name, "--to", "default")
                        #expect(failed.status == 1, "\(point): \(failed.stderr)")
                        #expect(
                            failed.stderr.contains(
                                "the session is intact where it was, and nothing was left on the target"),
                            "\(point): \(failed.stderr)")
                        #expect(try await Self.holding(nearClient, name).isEmpty, "\(point)")
                        listing = try await Self.listed(bed, env)
                        #expect(listing.sessions[name]?["engine"]?.string == "far", "\(point)")
                        #expect(listing.sessions[name]?["condition"]?.string == "stopped", "\(point)")
                    }
                    // Killed just before the registry write: the session is still on `far`; what
                    // the move made on `near` is an orphan there, which `cleanup --orphans` removes.
                    let killed = try await bed.ccorc(
                        environment: env.merging(["CCORC_FAIL_AT": "move.commit:kill"]) { $1 }, "move", name, "--to",
                        "default")
                    #expect(killed.signal == SIGKILL, "\(killed.status) \(killed.stderr)")
                    await #expect(try Self.listed(bed, env).sessions[name]?["engine"]?.string == "far")
                    #expect(try await !Self.holding(nearClient, name).isEmpty)
                    let swept = try await bed.ccorc(environment: env, "cleanup", "--orphans", "--yes")
                    #expect(swept.status == 0, "\(swept.stdout)\(swept.stderr)")
                    #expect(try await Self.holding(nearClient, name).isEmpty)
                    await #expect(try Self.listed(bed, env).sessions[name]?["engine"]?.string == "far")
                    // Killed just after it: the session is on `near`; its copies on `far` are the
                    // orphans now.
                    let done = try await bed.ccorc(
                        environment: env.merging(["CCORC_FAIL_AT": "move.remove-source:kill"]) { $1 }, "move", name,
                        "--to", "default")
                    #expect(done.signal == SIGKILL, "\(done.status) \(done.stderr)")
                    await #expect(try Self.listed(bed, env).sessions[name]?["engine"]?.string == "default")
                    #expect(try await !Self.holding(farClient, name).isEmpty)
                    let sweptFar = try await bed.ccorc(
                        environment: env, "cleanup", "--orphans", "--engines", "far", "--yes")
                    #expect(sweptFar.status == 0, "\(sweptFar.stdout)\(sweptFar.stderr)")
                    #expect(try await Self.holding(farClient, name).isEmpty)
                    #expect(try await farClient.listContainers(all: true, filters: helpers).isEmpty)

                    // And on `near` it resumes with its state.
                    await #expect(try bed.ccorc(environment: env, "resume", name, "--detach").status == 0)
                    let back = try await bed.ccdk(
                        environment: env, "exec", name + "-leader", "--", "cat", "/home/agent/.claude/notes")
                    #expect(back.stdout == "day one\n", "\(back.stderr)")
                    await #expect(try bed.ccorc(environment: env, "cleanup", "--remove", name, "--yes").status == 0)
                }
            }
        }
    }

    /// The session's image exists on both engines under one name but was made separately on
    /// each (different IDs): the move uses the target's own, and the state still arrives.
    @Test func moveToAnEngineWithItsOwnCopyOfTheImage() async throws {
        try await SessionTestbed.with("engi") { bed in
            try await ExtraEngine.with { extra, client in
                let config = FileManager.default.temporaryDirectory.appendingPathComponent(bed.prefix + "-docker").path
                defer { try? FileManager.default.removeItem(atPath: config) }
                try Self.writeContexts(config, [("other", extra.dockerHost, nil)])
                let env = ["DOCKER_CONFIG": config, "DOCKER_HOST": ""]
                let here = try await bed.engine.imageID(TestEngine.image)
                let there = try await client.imageID(TestEngine.image)
                #expect(here != nil && there != nil && here != there, "the two engines' images differ")
                let name = bed.prefix + "-i"
                await #expect(
                    try bed.ccorc(environment: env, "launch", name, "--agents", "leader", "--detach").status == 0)
                let note = try await bed.ccdk(
                    environment: env, "exec", name + "-leader", "--", "sh", "-c", "echo remembered > /root/.claude/note"
                )
                #expect(note.status == 0, "\(note.stderr)")
                let moved = try await bed.ccorc(environment: env, "move", name, "--to", "other")
                #expect(moved.status == 0, "\(moved.stderr)")
                #expect(!moved.stdout.contains("image copied"), "\(moved.stdout)")
                let created = try await client.inspectContainer(name + "-leader")
                #expect(created.imageID == there)
                await #expect(try bed.ccorc(environment: env, "resume", name, "--detach").status == 0)
                let read = try await bed.ccdk(
                    environment: env, "exec", "--context", "other", name + "-leader", "--", "cat", "/root/.claude/note")
                #expect(read.stdout == "remembered\n", "\(read.stderr)")
                await #expect(try bed.ccorc(environment: env, "cleanup", "--remove", name, "--yes").status == 0)
            }
        }
    }
}
