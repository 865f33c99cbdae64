import Foundation
import Testing

@testable import CCOrcKit

/// `ccorc export`, `import`, `import --legacy` and `recover` against the real engine and tmux.
@Suite(.serialized) struct ExportImportIntegrationTests {
    private func removeRegistry(_ bed: SessionTestbed) {
        for suffix in ["", "-wal", "-shm"] {
            try? FileManager.default.removeItem(atPath: bed.home + "/registry.db" + suffix)
        }
    }

    @Test func exportDeleteRegistryImportGivesTheSameInfo() async throws {
        try await SessionTestbed.with("exp") { bed in
            let name = bed.prefix + "-e"
            let launch = try await bed.ccorc(
                "launch", name, "--detach", "--container-memory", "32m", "--container-cpus", "0.5",
                "--env", "API_TOKEN=hunter2", "--env", "MODE=fast")
            #expect(launch.status == 0, "\(launch.stderr)")
            let info = try await bed.ccorc("info", name, "--json").stdout

            let directory = bed.home + "-backups/"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let export = try await bed.ccorc("export", name, "--output", directory)
            #expect(export.status == 0, "\(export.stderr)")
            let file = directory + name + ".json"
            let document = try JSONValue.parse(String(contentsOfFile: file, encoding: .utf8))
            #expect(
                document["format"] == "ccorc-export" && document["schemaVersion"] == 1
                    && document["secretsMasked"] == true)
            let exported = try #require(document["sessions"]?.array?.first)
            #expect(exported["registry"]?["environment"] == ["API_TOKEN=<masked>", "MODE=fast"])
            let leader = try #require(exported["containers"]?.array?.first { $0["role"] == "leader" })
            #expect(leader["config"]?["memory"]?.int == 32 << 20 && leader["config"]?["nanoCpus"]?.int == 500_000_000)
            #expect(leader["config"]?["env"]?.stringArray?.contains("API_TOKEN=<masked>") == true)
            #expect(
                leader["config"]?["image"]?.string == TestEngine.image, "exported by name, though created from the ID")
            #expect(leader["live"]?["state"] == "running")
            #expect(exported["volumes"]?.array?.count == 3)
            await #expect(!(try bed.ccorc("export", name).stdout.contains("hunter2")), "stdout export masks too")
            await #expect(try bed.ccorc("export", name, "--include-secrets").stdout.contains("API_TOKEN=hunter2"))

            // Files that are not ours, of another version, or truncated change nothing.
            let bad = bed.home + "-bad.json"
            defer { try? FileManager.default.removeItem(atPath: bad) }
            let text = try String(contentsOfFile: file, encoding: .utf8)
            for (content, message) in [
                ("{\"hello\": 1}", "not a ccorc export (no \"format\": \"ccorc-export\")"),
                (
                    text.replacingOccurrences(of: "\"schemaVersion\": 1", with: "\"schemaVersion\": 9"),
                    "export schema version 9 is not supported; this ccorc reads version 1"
                ),
                (String(text.prefix(text.count / 2)), "not a ccorc export: the JSON is truncated or damaged"),
            ] {
                try content.write(toFile: bad, atomically: true, encoding: .utf8)
                let refused = try await bed.ccorc("import", bad)
                #expect(refused.status == 1)
                #expect(refused.stderr.hasPrefix("ccorc: \(bad): \(message)"), "\(refused.stderr)")
            }
            let existing = try await bed.ccorc("import", file)
            #expect(existing.status == 1 && existing.stderr.contains("session \(name) already exists"))

            removeRegistry(bed)
            await #expect(try bed.list().isEmpty)
            let imported = try await bed.ccorc("import", file)
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stderr.contains("masked values of API_TOKEN"))
            await #expect(try bed.ccorc("info", name, "--json").stdout == info)
            await #expect(try bed.ccorc("import", file, "--force").stdout == "replaced \(name)\n")
        }
    }

    @Test func exportCleanUpImportCreateResume() async throws {
        try await SessionTestbed.with("mov") { bed in
            let name = bed.prefix + "-m"
            await #expect(
                try bed.ccorc("launch", name, "--detach", "--agents", "leader,writer", "--container-memory", "48m")
                    .status == 0)
            let file = bed.home + "-move.json"
            defer { try? FileManager.default.removeItem(atPath: file) }
            await #expect(try bed.ccorc("export", name, "--output", file, "--include-secrets").status == 0)

            // Clean up as another machine would lack it: containers, volumes, tmux and registry.
            await #expect(try bed.ccorc("stop", name, "--time", "1").status == 0)
            for role in ["leader", "writer"] {
                try await bed.engine.removeContainer("\(name)-\(role)", force: true)
                try await bed.engine.removeVolume("\(name)-\(role)-state", force: true)
            }
            removeRegistry(bed)

            let imported = try await bed.ccorc("import", file, "--create")
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stdout.contains("created 2 container(s), 2 volume(s)"))
            let leader = try await bed.engine.inspectContainer(name + "-leader")
            #expect(leader.memory == 48 << 20 && leader.networkMode == "none")
            #expect(leader.labels[OwnershipLabels.session] == name)
            #expect(leader.mounts.contains { $0.source == "\(name)-leader-state" && $0.destination == "/root/.claude" })

            let resume = try await bed.ccorc("resume", name, "--detach")
            #expect(resume.status == 0, "\(resume.stderr)")
            let session = try await #require(try bed.list().first { $0["name"]?.string == name })
            #expect(session["running"]?.int == 2 && session["tmux"]?["windows"]?.int == 2)
            // Healthy once the agent shells the resume opened have started (slow on a loaded machine).
            var healthy = false
            for _ in 0..<60 where !healthy {
                healthy = try await bed.ccorc("health", name).status == 0
                if !healthy { try await Task.sleep(for: .milliseconds(250)) }
            }
            #expect(healthy)
        }
    }

    @Test func legacyImport() async throws {
        try await SessionTestbed.with("leg") { bed in
            // Containers the Python tool made: unlabelled, named freely.
            let running = bed.prefix + "-old-lead"
            let stopped = bed.prefix + "-old-dev"
            var spec = TestEngine.spec(running)
            spec.labels = [:]
            _ = try await bed.engine.createContainer(spec)
            try await bed.engine.startContainer(running)
            spec.name = stopped
            _ = try await bed.engine.createContainer(spec)

            let old = bed.prefix + "-old"
            let ghost = bed.prefix + "-ghost"
            let legacy: JSONValue = [
                old: [
                    "session_name": .string(old), "created_at": "2024-03-01T09:15:00.250000",
                    "updated_at": "2024-03-02T10:00:00",
                    "tmux_session": .string(old), "containers": JSONValue(strings: [running, stopped]),
                    "agents": [
                        [
                            "name": "lead", "container": .string(running), "container_mode": "persistent",
                            "model": "opus", "pane_index": 0,
                        ],
                        [
                            "name": "dev", "container": .string(stopped), "container_mode": "persistent",
                            "model": .null, "pane_index": 1,
                        ],
                    ],
                    "orchestrator_config": ["agent_command": "claude"],
                ],
                ghost: [
                    "session_name": .string(ghost), "created_at": 1_700_000_000, "tmux_session": .string(ghost),
                    "agents": [["name": "solo", "container": .string(bed.prefix + "-gone"), "pane_index": 0]],
                ],
                "bad name!": ["session_name": "bad name!", "agents": [["name": "x", "container": "y"]]],
                bed.prefix + "-badrole": ["agents": [["name": "no.dots", "container": "z"]]],
                bed.prefix + "-notanobject": "hello",
            ]
            let file = bed.home + "-sessions.json"
            defer { try? FileManager.default.removeItem(atPath: file) }
            try legacy.serialized(indent: 2).write(toFile: file, atomically: true, encoding: .utf8)

            let first = try await bed.ccorc("import", "--legacy", file)
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.hasSuffix("2 added, 0 already registered, 3 skipped\n"), "\(first.stdout)")
            #expect(first.stderr.contains("skipped legacy session \"bad name!\": it has an invalid session name"))
            #expect(
                first.stderr.contains(
                    "skipped legacy session \"\(bed.prefix)-badrole\": it has an agent with an invalid name \"no.dots\""
                ))
            #expect(first.stderr.contains("skipped legacy session \"\(bed.prefix)-notanobject\": it is not an object"))

            let sessions = try await bed.list()
            let imported = try #require(sessions.first { $0["name"]?.string == old })
            let states = Dictionary(
                uniqueKeysWithValues: (imported["agents"]?.array ?? []).map {
                    ($0["role"]!.string!, $0["state"]!.string!)
                })
            #expect(states == ["lead": "running", "dev": "stopped"])
            #expect(imported["image"]?.string == TestEngine.image)
            let ghostSession = try #require(sessions.first { $0["name"]?.string == ghost })
            #expect(ghostSession["agents"]?.array?.first?["state"] == "missing")
            #expect(ghostSession["created"] == JSONValue(date: Date(timeIntervalSince1970: 1_700_000_000)))

            // Nothing on the engine was labelled.
            #expect(try await bed.engine.inspectContainer(running).labels.isEmpty)
            #expect(try await bed.engine.listVolumes(filters: ["label": ["\(OwnershipLabels.session)=\(old)"]]).isEmpty)

            let second = try await bed.ccorc("import", "--legacy", file)
            #expect(second.stdout.hasSuffix("0 added, 2 already registered, 3 skipped\n"))
            await #expect(try bed.list().count == sessions.count)

            let unreadable = try await bed.ccorc("import", "--legacy", bed.home + "-nothing.json")
            #expect(
                unreadable.status == 1 && unreadable.stderr.hasPrefix("ccorc: cannot read \(bed.home)-nothing.json"))

            // Cleanup never removes containers ccorc did not make: a legacy session that still has
            // them is skipped, one whose containers are gone is removed.
            let cleanup = try await bed.ccorc("cleanup", old, ghost, "--yes")
            #expect(cleanup.status == 0, "\(cleanup.stderr)")
            #expect(
                cleanup.stdout.contains("Skip \(old): its containers were not made by ccorc (\(running), \(stopped))"),
                "\(cleanup.stdout)")
            #expect(cleanup.stdout.contains("removed \(ghost)"))
            await #expect(try bed.list().map { $0["name"]?.string } == [old])
            #expect(try await bed.engine.inspectContainer(running).state == .running)

            // A user who migrated removes them explicitly; the plan names them.
            let plan = try await bed.ccorc("cleanup", old, "--include-legacy", "--dry-run")
            #expect(plan.status == 0, "\(plan.stderr)")
            #expect(
                plan.stdout.contains(
                    "Remove containers ccorc did not make (--include-legacy): \(old): \(running), \(stopped)"),
                "\(plan.stdout)")
            #expect(try await bed.engine.inspectContainer(running).state == .running, "a dry run removes nothing")
            let included = try await bed.ccorc("cleanup", old, "--include-legacy", "--yes")
            #expect(included.status == 0, "\(included.stderr)")
            #expect(included.stdout.contains("removed \(old)"), "\(included.stdout)")
            await #expect(try bed.list().isEmpty)
            #expect(try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + old]]).isEmpty)
        }
    }

    /// A file as the Python tool's current version writes it: `json.dump(asdict(...), indent=2)`
    /// of its `TeamContext` dataclasses, in their field order, with `datetime.now().isoformat()`.
    private func teamContextsJSON(_ contexts: [(name: String, agents: [(name: String, role: String)])]) -> String {
        let bodies = contexts.map { context in
            let agents = context.agents.enumerated().map { index, agent in
                """
                      {
                        "name": "\(agent.name)",
                        "role": "\(agent.role)",
                        "model": "sonnet",
                        "pane_index": \(index),
                        "session_id": "0b6e1f0c-6c5e-4a55-9d0e-3f7a2c1d00\(index)\(index)",
                        "fork_history": []
                      }
                """
            }.joined(separator: ",\n")
            return """
                  "\(context.name)": {
                    "context_name": "\(context.name)",
                    "tmux_session": "\(context.name)",
                    "created_at": "2025-08-10T14:03:12.123456",
                    "agents": [
                \(agents)
                    ],
                    "working_dir": "/home/user/project",
                    "updated_at": "2025-08-11T09:30:00.654321",
                    "orchestrator_config": {
                      "team_name": "devops-team"
                    }
                  }
                """
        }
        return "{\n" + bodies.joined(separator: ",\n") + "\n}"
    }

    /// A container as the Python tool's `ccdk run --context C --role R` makes it: labelled, no ccorc label.
    private func pythonContainer(
        _ bed: SessionTestbed, _ name: String, context: String, role: String, schema: Bool = true, start: Bool
    ) async throws {
        var spec = TestEngine.spec(name)
        spec.labels = [
            "xyz.texot.ccbox.context": context, "xyz.texot.ccbox.role": role, "xyz.texot.ccbox.agent_name": name,
        ]
        if schema { spec.labels["xyz.texot.ccbox.schema_version"] = "1.0" }
        _ = try await bed.engine.createContainer(spec)
        if start { try await bed.engine.startContainer(name) }
    }

    @Test func legacyTeamContextsImport() async throws {
        try await SessionTestbed.with("ctx") { bed in
            let running = bed.prefix + "-run"
            let stopped = bed.prefix + "-stopped"
            let gone = bed.prefix + "-gone"
            // Names and roles as the tool has them: `Leader` labelled `leader`.
            try await pythonContainer(
                bed, bed.prefix + "-ccbox-run-leader", context: running, role: "leader", start: true)
            try await pythonContainer(
                bed, bed.prefix + "-ccbox-run-dev", context: running, role: "Developer", start: true)
            try await pythonContainer(
                bed, bed.prefix + "-ccbox-stopped-leader", context: stopped, role: "leader", start: false)
            // Without the schema label the tool itself ignores a container; so does the import.
            try await pythonContainer(
                bed, bed.prefix + "-decoy", context: stopped, role: "leader", schema: false, start: true)

            let directory = bed.home + "-python/.claude-orc"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: bed.home + "-python") }
            let file = directory + "/team_contexts.json"
            try teamContextsJSON([
                (running, [("Leader", "leader"), ("Dev", "Developer")]),
                (stopped, [("Leader", "leader")]),
                (gone, [("Leader", "leader"), ("Writer", "writer")]),
                ("bad name!", [("Leader", "leader")]),
                (bed.prefix + "-empty", []),
            ]).write(toFile: file, atomically: true, encoding: .utf8)

            let first = try await bed.ccorc(environment: ["HOME": bed.home + "-python"], "import", "--legacy")
            #expect(first.status == 0, "\(first.stderr)")
            #expect(first.stdout.hasSuffix("3 added, 0 already registered, 2 skipped\n"), "\(first.stdout)")
            #expect(
                first.stdout.contains("registered \(running)\n") && first.stdout.contains("registered \(stopped)\n"),
                "\(first.stdout)")
            #expect(
                first.stdout.contains(
                    "registered \(gone) without containers (the earlier tool removed them when it stopped): create them with `ccorc cleanup --fix-broken \(gone)`, then `ccorc resume \(gone)`"
                ),
                "\(first.stdout)")
            #expect(
                first.stderr.contains("skipped legacy session \"bad name!\": it has an invalid session name"),
                "\(first.stderr)")
            #expect(
                first.stderr.contains("skipped legacy session \"\(bed.prefix)-empty\": it lists no agents"),
                "\(first.stderr)")

            let sessions = try await bed.list()
            func states(_ name: String) throws -> [String: String] {
                let session = try #require(sessions.first { $0["name"]?.string == name })
                return Dictionary(
                    uniqueKeysWithValues: (session["agents"]?.array ?? []).map {
                        ($0["role"]!.string!, $0["state"]!.string!)
                    })
            }
            #expect(try states(running) == ["Leader": "running", "Dev": "running"])
            #expect(try states(stopped) == ["Leader": "stopped"])
            #expect(try states(gone) == ["Leader": "missing", "Writer": "missing"])
            let registry = try SessionRegistry(home: bed.home)
            let runningRecord = try #require(try registry.session(named: SessionName(running)))
            #expect(runningRecord.isLegacy && runningRecord.image == TestEngine.image)
            #expect(
                runningRecord.agents.map(\.containerName) == [
                    bed.prefix + "-ccbox-run-leader", bed.prefix + "-ccbox-run-dev",
                ])
            let local = try #require(
                Calendar.current.date(
                    from: DateComponents(year: 2025, month: 8, day: 10, hour: 14, minute: 3, second: 12)))
            #expect(abs(runningRecord.createdAt.timeIntervalSince(local) - 0.123456) < 0.001)
            let goneRecord = try #require(try registry.session(named: SessionName(gone)))
            #expect(!goneRecord.isLegacy && goneRecord.networkMode == "none" && goneRecord.image == TestEngine.image)
            #expect(goneRecord.agents.map(\.containerName) == [gone + "-Leader", gone + "-Writer"])
            #expect(goneRecord.agents.allSatisfy { $0.containerID == nil })

            // Nothing on the engine was made or labelled.
            #expect(
                try await bed.engine.inspectContainer(bed.prefix + "-ccbox-run-leader").labels[OwnershipLabels.session]
                    == nil)
            #expect(try await bed.engine.listContainers(all: true, filters: ["name": ["^/" + gone]]).isEmpty)

            // Run again, even with an image that does not exist, it adds nothing and fails nothing.
            let second = try await bed.ccorc(
                environment: ["CCORC_IMAGE": bed.prefix + "-absent:latest"], "import", "--legacy", file)
            #expect(second.stdout.hasSuffix("0 added, 3 already registered, 2 skipped\n"), "\(second.stdout)")
            #expect(second.stderr.split(separator: "\n").count == 2, "only the invalid entries: \(second.stderr)")

            // The context the tool stopped (`--rm`) comes back as the import said.
            let refused = try await bed.ccorc("resume", gone)
            #expect(
                refused.status == 1 && refused.stderr.contains("repair with `ccorc cleanup --fix-broken`"),
                "\(refused.stderr)")
            let repair = try await bed.ccorc("cleanup", "--fix-broken", gone, "--yes")
            #expect(repair.status == 0, "\(repair.stderr)")
            let resumed = try await bed.ccorc("resume", gone)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            let after = try await #require(try bed.list().first { $0["name"]?.string == gone })
            #expect((after["agents"]?.array ?? []).map { $0["state"]?.string } == ["running", "running"], "\(after)")
            let leader = try await bed.engine.inspectContainer(gone + "-Leader")
            #expect(leader.labels[OwnershipLabels.session] == gone && leader.networkMode == "none")
        }
    }

    @Test func legacyImportReadsBothDefaultFiles() async throws {
        try await SessionTestbed.with("both") { bed in
            let newer = bed.prefix + "-new"
            let older = bed.prefix + "-old"
            let shared = bed.prefix + "-shared"
            let python = bed.home + "-python"
            let directory = python + "/.claude-orc"
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: python) }

            let missing = try await bed.ccorc(environment: ["HOME": python], "import", "--legacy")
            #expect(
                missing.status == 1
                    && missing.stderr
                        == "ccorc: cannot read \(directory)/sessions.json or \(directory)/team_contexts.json: neither exists (name the file to import)\n",
                "\(missing.stderr)")

            try teamContextsJSON([(newer, [("Leader", "leader")]), (shared, [("Leader", "leader")])])
                .write(toFile: directory + "/team_contexts.json", atomically: true, encoding: .utf8)
            // `sessions.json` as the older versions wrote it.
            let sessions = [older, shared].map { name in
                """
                  "\(name)": {
                    "session_name": "\(name)",
                    "created_at": "2024-03-01T09:15:00.250000",
                    "updated_at": "2024-03-02T10:00:00",
                    "tmux_session": "\(name)",
                    "containers": ["\(name)-leader"],
                    "agents": [{"name": "leader", "container": "\(name)-leader", "container_mode": "persistent", "model": "opus", "pane_index": 0}],
                    "orchestrator_config": {}
                  }
                """
            }
            try ("{\n" + sessions.joined(separator: ",\n") + "\n}").write(
                toFile: directory + "/sessions.json", atomically: true, encoding: .utf8)

            let imported = try await bed.ccorc(environment: ["HOME": python], "import", "--legacy")
            #expect(imported.status == 0, "\(imported.stderr)")
            #expect(imported.stdout.hasSuffix("3 added, 1 already registered, 0 skipped\n"), "\(imported.stdout)")
            let registry = try SessionRegistry(home: bed.home)
            #expect(try registry.session(named: SessionName(older))?.isLegacy == true)
            let sharedRecord = try #require(try registry.session(named: SessionName(shared)))
            #expect(sharedRecord.agents.map(\.containerName) == [shared + "-Leader"], "the newer file's entry wins")
        }
    }

    @Test func recoverRebuildsTheList() async throws {
        try await SessionTestbed.with("rec") { bed in
            let one = bed.prefix + "-a"
            let two = bed.prefix + "-b"
            await #expect(
                try bed.ccorc(
                    "launch", one, "--detach", "--container-memory", "40m", "--env", "MODE=x", "--mount",
                    "/tmp:/host-tmp:ro"
                ).status == 0)
            await #expect(
                try bed.ccorc("launch", two, "--detach", "--agents", "solo,pair", "--container-cpus", "0.25").status
                    == 0)
            await #expect(try bed.ccorc("stop", two, "--time", "1").status == 0)
            func ours() async throws -> [JSONValue] {
                try await bed.list().filter { $0["name"]?.string?.hasPrefix(bed.prefix) == true }
            }
            let before = try await ours()
            #expect(before.count == 2)
            let oneRecord = try #require(try SessionRegistry(home: bed.home).session(named: SessionName(one)))

            // A damaged registry is moved aside at open, and the error says what to do.
            removeRegistry(bed)
            try "not a database at all".write(toFile: bed.home + "/registry.db", atomically: true, encoding: .utf8)
            let corrupt = try await bed.ccorc("list")
            #expect(corrupt.status == 1)
            #expect(
                corrupt.stderr.contains("is corrupt") && corrupt.stderr.contains("run `ccorc recover`"),
                "\(corrupt.stderr)")

            let dryRun = try await bed.ccorc("recover", "--dry-run")
            #expect(dryRun.status == 0, "\(dryRun.stderr)")
            #expect(
                dryRun.stdout.contains(
                    "would add \(one) (3 agent(s): leader, researcher, writer; image \(TestEngine.image))"))
            #expect(dryRun.stdout.contains("would add \(two) (2 agent(s): solo, pair;"))
            await #expect(try ours().isEmpty, "a dry run adds nothing")

            let recovered = try await bed.ccorc("recover")
            #expect(recovered.status == 0, "\(recovered.stderr)")
            #expect(recovered.stdout.contains("added \(one)"))
            await #expect(try ours() == before)
            var rebuilt = try #require(try SessionRegistry(home: bed.home).session(named: SessionName(one)))
            rebuilt.status = oneRecord.status
            #expect(rebuilt == oneRecord, "the row itself comes back, environment and mounts included")

            let again = try await bed.ccorc("recover")
            #expect(!again.stdout.contains(bed.prefix), "existing rows are never rewritten")
        }
    }

    /// Checks a refused import: exit status 1 and one line on stderr that starts with `message`.
    private func expectRefused(
        _ result: CommandResult, _ message: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        #expect(result.status == 1, "\(result.stderr)", sourceLocation: sourceLocation)
        #expect(
            result.stderr.split(separator: "\n").count == 1 && result.stderr.hasPrefix("ccorc: " + message),
            "\(result.stderr)", sourceLocation: sourceLocation)
    }

    @Test func importOfSeveralFilesIsAllOrNothing() async throws {
        try await SessionTestbed.with("aon") { bed in
            let good = bed.prefix + "-good"
            let held = bed.prefix + "-held"
            let taken = bed.prefix + "-taken"
            for name in [good, held, taken] {
                let launch = try await bed.ccorc("launch", name, "--detach", "--agents", "leader")
                #expect(launch.status == 0, "\(launch.stderr)")
            }
            let directory = bed.home + "-exports/"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            let export = try await bed.ccorc("export", good, held, taken, "--include-secrets", "--output", directory)
            #expect(export.status == 0, "\(export.stderr)")
            // good and taken now live only in their files; taken's container name is held by a
            // container ccorc does not own. held stays registered.
            let cleanup = try await bed.ccorc("cleanup", "--remove", good, taken, "--yes")
            #expect(cleanup.status == 0, "\(cleanup.stderr)")
            var foreign = TestEngine.spec(taken + "-leader")
            foreign.labels = [:]
            _ = try await bed.engine.createContainer(foreign)

            let goodFile = directory + good + ".json"
            let heldFile = directory + held + ".json"
            let takenFile = directory + taken + ".json"
            let heldText = try String(contentsOfFile: heldFile, encoding: .utf8)
            let damaged = directory + "damaged.json"
            let badName = directory + "bad-name.json"
            try String(heldText.prefix(heldText.count / 2)).write(toFile: damaged, atomically: true, encoding: .utf8)
            try heldText.replacingOccurrences(of: "\"\(held)\"", with: "\"bad name!\"").write(
                toFile: badName, atomically: true, encoding: .utf8)

            // Each bad file after the good one, with and without --create (taken's file is bad
            // only for --create): refused in one line, and nothing changes.
            let cases: [(file: String, creates: [Bool], message: String)] = [
                (damaged, [false, true], "\(damaged): not a ccorc export: the JSON is truncated or damaged"),
                (badName, [false, true], "\(badName): session 1 (bad name!): invalid session name \"bad name!\""),
                (
                    heldFile, [false, true],
                    "session \(held) already exists (from \(heldFile)); pass --force to replace its registry entry"
                ),
                (goodFile, [false, true], "session \(good) is in both \(goodFile) and \(goodFile)"),
                (
                    takenFile, [true],
                    "container \(taken)-leader of session \(taken) exists but belongs to no ccorc session; remove or rename it first"
                ),
            ]
            let registry = try await bed.ccorc("list", "--json")
            #expect(registry.status == 0)
            let engine = try await bed.engineHolding(sessions: [good, held, taken])
            for (file, creates, message) in cases {
                for create in creates {
                    let refused = try await Products.run(
                        "ccorc", ["import", goodFile, file] + (create ? ["--create"] : []), environment: bed.environment
                    )
                    expectRefused(refused, message)
                    await #expect(
                        try bed.ccorc("list", "--json").stdout == registry.stdout,
                        "registry unchanged by \(file) (--create: \(create))")
                    #expect(
                        try await bed.engineHolding(sessions: [good, held, taken]) == engine,
                        "engine unchanged by \(file) (--create: \(create))")
                }
            }

            // The good file alone imports: the refusals were the other file's doing.
            let alone = try await bed.ccorc("import", goodFile, "--create")
            #expect(alone.status == 0, "\(alone.stderr)")
            #expect(alone.stdout.contains("imported \(good) (created 1 container(s), 1 volume(s)"), "\(alone.stdout)")
            await #expect(try bed.list().contains { $0["name"]?.string == good })
        }
    }

    @Test func createRefusesToRecreateContainersFromMaskedSecrets() async throws {
        try await SessionTestbed.with("mask") { bed in
            let name = bed.prefix + "-s"
            let launch = try await bed.ccorc(
                "launch", name, "--detach", "--agents", "leader,writer", "--env", "API_TOKEN=hunter2", "--env",
                "MODE=fast")
            #expect(launch.status == 0, "\(launch.stderr)")
            // The writer's container is gone before the export: an import makes it from the row,
            // whose value is masked as well.
            try await bed.engine.removeContainer(name + "-writer", force: true)
            let file = bed.home + "-masked.json"
            defer { try? FileManager.default.removeItem(atPath: file) }
            await #expect(try bed.ccorc("export", name, "--output", file).status == 0)
            removeRegistry(bed)

            var engine = try await bed.engineHolding(sessions: [name])
            let fromRow = try await bed.ccorc("import", file, "--create")
            expectRefused(
                fromRow,
                "\(file): session \(name) was exported with its secrets masked (API_TOKEN); export it again with --include-secrets to recreate container \(name)-writer"
            )
            await #expect(try bed.list().isEmpty)
            #expect(try await bed.engineHolding(sessions: [name]) == engine)

            // With the leader's container gone too, its exported config is what is masked.
            try await bed.engine.removeContainer(name + "-leader", force: true)
            engine = try await bed.engineHolding(sessions: [name])
            let fromConfig = try await bed.ccorc("import", file, "--create")
            expectRefused(
                fromConfig,
                "\(file): session \(name) was exported with its secrets masked (API_TOKEN); export it again with --include-secrets to recreate container \(name)-leader"
            )
            await #expect(try bed.list().isEmpty)
            #expect(try await bed.engineHolding(sessions: [name]) == engine)

            // Registering alone creates nothing, so it goes ahead and says what was masked.
            let registered = try await bed.ccorc("import", file)
            #expect(
                registered.status == 0 && registered.stderr.contains("masked values of API_TOKEN"),
                "\(registered.stderr)")
            #expect(try await bed.engineHolding(sessions: [name]) == engine)
        }
    }

    @Test func failedCreateRemovesWhatTheImportMade() async throws {
        try await SessionTestbed.with("undo") { bed in
            let one = bed.prefix + "-one"
            let two = bed.prefix + "-two"
            await #expect(try bed.ccorc("launch", one, "--detach", "--agents", "leader,writer").status == 0)
            await #expect(try bed.ccorc("launch", two, "--detach", "--agents", "solo").status == 0)
            await #expect(
                try bed.ccdk("exec", one + "-leader", "--", "sh", "-c", "echo kept > /root/.claude/note").status == 0)
            let directory = bed.home + "-exports/"
            defer { try? FileManager.default.removeItem(atPath: directory) }
            await #expect(try bed.ccorc("export", one, two, "--include-secrets", "--output", directory).status == 0)
            let cleanup = try await bed.ccorc("cleanup", "--remove", one, two, "--keep-volumes", "--yes")
            #expect(cleanup.status == 0, "\(cleanup.stderr)")
            // Only one's leader volume stays: the import creates the others, and must remove them again.
            try await bed.engine.removeVolume(one + "-writer-state", force: true)
            try await bed.engine.removeVolume(two + "-solo-state", force: true)

            // One file, one first; two's image is gone by now, so its container cannot be created.
            let missingImage = bed.prefix + "-gone:1"
            let first = try #require(
                try JSONValue.parse(String(contentsOfFile: directory + one + ".json", encoding: .utf8))["sessions"]?
                    .array?.first)
            let secondText = try String(contentsOfFile: directory + two + ".json", encoding: .utf8)
                .replacingOccurrences(of: TestEngine.image, with: missingImage)
            let second = try #require(try JSONValue.parse(secondText)["sessions"]?.array?.first)
            let file = directory + "both.json"
            try SessionExportFormat.document([first, second], includeSecrets: true).serialized(indent: 2).write(
                toFile: file, atomically: true, encoding: .utf8)

            let before = try await bed.engineHolding(sessions: [one, two])
            #expect(before.count == 1 && before[0].hasPrefix("volume \(one)-leader-state "), "\(before)")
            let failed = try await bed.ccorc("import", file, "--create")
            expectRefused(failed, "import \(two): creating its containers failed: ")
            #expect(failed.stderr.contains(missingImage), "\(failed.stderr)")
            #expect(
                try await bed.engineHolding(sessions: [one, two]) == before,
                "one's containers and new volume, two's volume: all gone; the kept volume as it was")
            await #expect(try bed.list().isEmpty)
            #expect(try await bed.volumeFile(one + "-leader-state", "note") == "kept\n")
        }
    }
}
