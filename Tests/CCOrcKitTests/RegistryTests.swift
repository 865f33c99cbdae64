import Foundation
import Testing

@testable import CCOrcKit

/// A private registry directory, removed when the test ends.
private final class TemporaryHome {
    let path: String

    init() {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ccorc-registry-\(UUID().uuidString)").path
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    var database: String { path + "/registry.db" }

    func contents() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).sorted()
    }
}

private func name(_ value: String) -> SessionName { SessionName(rawValue: value)! }
private func role(_ value: String) -> AgentRole { AgentRole(rawValue: value)! }

/// A record with every field set; dates are whole unix microseconds so they survive storage exactly.
private func fullRecord(
    _ session: String, agents roles: [String] = ["leader", "researcher", "writer"]
) -> SessionRecord {
    SessionRecord(
        name: name(session),
        tmuxSession: "$\(session.count)",
        createdAt: Date(timeIntervalSince1970: 1_700_000_000.25),
        updatedAt: Date(timeIntervalSince1970: 1_700_000_100.5),
        lastResumedAt: Date(timeIntervalSince1970: 1_700_000_200.125),
        image: "ccorc-agent:latest",
        agentCommand: "claude --dangerously-skip-permissions",
        memoryBytes: 4 << 30,
        nanoCPUs: 2_000_000_000,
        networkMode: "none",
        mounts: ["/home/u/src:/work", "/etc/hosts:/etc/hosts:ro"],
        environment: ["A=1", "EMPTY=", "QUOTE=\"x\" y", "UNICODE=é ✓", "EQ=a=b"],
        workingDirectory: "/work",
        config: ["orchestrator": ["layout": "tiled", "retries": 3, "ratio": .double(0.5), "flags": [true, nil]]],
        status: .ready,
        agents: roles.enumerated().map { index, value in
            AgentRecord(
                role: role(value), containerName: "\(session)-\(value)",
                containerID: String(repeating: "\(index)", count: 64),
                stateVolume: "\(session)-\(value)-state", model: index == 0 ? "opus" : nil,
                tmuxWindow: "@\(index)", position: index)
        })
}

@Suite struct RegistryTests {
    @Test func claimCommitAndReadRoundTripEveryField() throws {
        let home = TemporaryHome()
        let registry = try SessionRegistry(home: home.path)
        var record = fullRecord("alpha")
        record.status = .ready  // claim must store launching whatever the record says
        try registry.claim(record)
        let claimed = try #require(try registry.session(named: record.name))
        #expect(claimed.status == .launching)
        #expect(claimed.agents == record.agents)

        record.agents[1].containerID = "f" + String(repeating: "e", count: 63)
        try registry.commit(record)
        let read = try #require(try registry.session(named: record.name))
        #expect(read == record)
        #expect(try registry.allSessions() == [record])

        // A record with every optional empty round-trips too.
        let bare = SessionRecord(
            name: name("bare"), createdAt: Date(timeIntervalSince1970: 1), image: "busybox", agentCommand: "sh")
        try registry.claim(bare)
        try registry.commit(bare)
        var expected = bare
        expected.status = .ready
        #expect(try registry.session(named: bare.name) == expected)
        #expect(try registry.session(named: name("missing")) == nil)
        #expect(try registry.allSessions().map(\.name.rawValue) == ["alpha", "bare"])
    }

    @Test func secondClaimFromAnotherRegistryLoses() throws {
        let home = TemporaryHome()
        let first = try SessionRegistry(home: home.path)
        let second = try SessionRegistry(home: home.path)
        let winner = fullRecord("race")
        try first.claim(winner)
        var loser = fullRecord("race", agents: ["other"])
        loser.image = "other:image"
        do {
            try second.claim(loser)
            Issue.record("the second claim won too")
        } catch {
            #expect(error.code == .alreadyExists)
            #expect(error.description == "session race already exists")
        }
        // The loser changed nothing of the winner's.
        let stored = try #require(try second.session(named: winner.name))
        #expect(stored.image == winner.image)
        #expect(stored.agents == winner.agents)
    }

    /// Ten rounds, each on a fresh directory, since the race on creating the file only shows now and then.
    @Test(arguments: 0..<10)
    func tenConcurrentClaimsOfOneNameHaveExactlyOneWinner(round: Int) async throws {
        let home = TemporaryHome()
        let path = home.path
        // Each task opens its own registry on a fresh directory, so the creation and migration of
        // the database race as well as the claims.
        let outcomes = await withTaskGroup(of: Result<Int, RegistryError>.self) { group in
            for index in 0..<10 {
                group.addTask {
                    do throws(RegistryError) {
                        let registry = try SessionRegistry(home: path)
                        var record = fullRecord("contested")
                        record.image = "image-\(index)"
                        try registry.claim(record)
                        return .success(index)
                    } catch {
                        return .failure(error)
                    }
                }
            }
            var all: [Result<Int, RegistryError>] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let winners = outcomes.compactMap { try? $0.get() }
        let losers = outcomes.compactMap { outcome -> RegistryError? in
            if case .failure(let error) = outcome { return error }
            return nil
        }
        #expect(winners.count == 1)
        #expect(losers.count == 9)
        #expect(losers.allSatisfy { $0.code == .alreadyExists }, "\(losers.map(\.description))")
        let stored = try #require(try SessionRegistry(home: path).session(named: name("contested")))
        #expect(stored.image == "image-\(winners.first ?? -1)")
    }

    @Test func oneRegistrySharedByManyTasks() async throws {
        let home = TemporaryHome()
        let registry = try SessionRegistry(home: home.path)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<50 {
                group.addTask {
                    let record = fullRecord("s\(index)")
                    try? registry.claim(record)
                    try? registry.commit(record)
                    _ = try? registry.allSessions()
                }
            }
        }
        let all = try registry.allSessions()
        #expect(all.count == 50)
        #expect(all.allSatisfy { $0.status == .ready && $0.agents.count == 3 })
    }

    @Test func commitWithoutClaimIsNotFound() throws {
        let home = TemporaryHome()
        let registry = try SessionRegistry(home: home.path)
        #expect {
            try registry.commit(fullRecord("ghost"))
        } throws: { ($0 as? RegistryError)?.code == .notFound }
        #expect(try registry.allSessions().isEmpty)
    }

    @Test func releaseUndoesAClaimButNeverACommittedSession() throws {
        let home = TemporaryHome()
        let registry = try SessionRegistry(home: home.path)
        try registry.claim(fullRecord("failed"))
        #expect(try registry.release(name("failed")))
        #expect(try registry.session(named: name("failed")) == nil)
        #expect(try agentRowCount(home) == 0)
        #expect(try registry.release(name("failed")) == false)

        // The name is free again.
        try registry.claim(fullRecord("failed"))
        try registry.commit(fullRecord("failed"))
        #expect(try registry.release(name("failed")) == false)
        #expect(try registry.session(named: name("failed"))?.status == .ready)
    }

    @Test func removeDeletesABatchAndSkipsAbsentNames() throws {
        let home = TemporaryHome()
        let registry = try SessionRegistry(home: home.path)
        for session in ["a", "b", "c", "d", "e"] {
            try registry.claim(fullRecord(session))
            try registry.commit(fullRecord(session))
        }
        let removed = try registry.remove([name("b"), name("d"), name("nope"), name("e")])
        #expect(removed == [name("b"), name("d"), name("e")])
        #expect(try registry.allSessions().map(\.name.rawValue) == ["a", "c"])
        #expect(try agentRowCount(home) == 6)
        #expect(try registry.remove([]) == [])
    }

    @Test func markResumedAndUpdateAgents() throws {
        let home = TemporaryHome()
        let registry = try SessionRegistry(home: home.path)
        let record = fullRecord("day2")
        try registry.claim(record)
        try registry.commit(record)

        let resumed = Date(timeIntervalSince1970: 1_800_000_000.5)
        try registry.markResumed(record.name, at: resumed)
        var stored = try #require(try registry.session(named: record.name))
        #expect(stored.lastResumedAt == resumed)
        #expect(stored.updatedAt == resumed)

        var agents = record.agents
        agents[0].containerID = "new-id"
        agents.removeLast()
        let updated = Date(timeIntervalSince1970: 1_800_000_100)
        try registry.updateAgents(record.name, agents, at: updated)
        stored = try #require(try registry.session(named: record.name))
        #expect(stored.agents == agents)
        #expect(stored.updatedAt == updated)
        #expect(stored.createdAt == record.createdAt)

        #expect { try registry.markResumed(name("nope")) } throws: { ($0 as? RegistryError)?.code == .notFound }
        #expect { try registry.updateAgents(name("nope"), []) } throws: { ($0 as? RegistryError)?.code == .notFound }
    }

    @Test func duplicateRolesAreRefused() throws {
        let home = TemporaryHome()
        let registry = try SessionRegistry(home: home.path)
        var record = fullRecord("dup")
        record.agents[1].role = record.agents[0].role
        #expect(throws: RegistryError.self) { try registry.claim(record) }
        #expect(try registry.allSessions().isEmpty)
    }

    @Test func insertIfAbsentNeverOverwrites() throws {
        let home = TemporaryHome()
        let registry = try SessionRegistry(home: home.path)
        let original = fullRecord("kept")
        #expect(try registry.insertIfAbsent(original))
        var other = fullRecord("kept", agents: ["solo"])
        other.image = "replaced"
        #expect(try registry.insertIfAbsent(other) == false)
        #expect(try registry.session(named: original.name) == original)
    }

    @Test func migrationsSetTheSchemaVersion() throws {
        let home = TemporaryHome()
        _ = try SessionRegistry(home: home.path)
        let database = try SQLiteDatabase(path: home.database, create: false)
        #expect(try SessionRegistry.schemaVersion(of: database) == RegistrySchema.currentVersion)
        #expect(RegistrySchema.currentVersion >= 1)
        let mode = try database.withStatement("PRAGMA journal_mode", "test") { statement throws(RegistryError) in
            try statement.step()
            return statement.text(0)
        }
        #expect(mode == "wal")
        // Reopening an up-to-date registry changes nothing.
        _ = try SessionRegistry(home: home.path)
        #expect(try SessionRegistry.schemaVersion(of: database) == RegistrySchema.currentVersion)
    }

    @Test func newerSchemaIsRefusedAndLeftInPlace() throws {
        let home = TemporaryHome()
        _ = try SessionRegistry(home: home.path)
        do {
            let database = try SQLiteDatabase(path: home.database, create: false)
            try database.execute("PRAGMA user_version = 99", "test")
        }
        do {
            _ = try SessionRegistry(home: home.path)
            Issue.record("opened a newer schema")
        } catch {
            #expect(error.code == .schemaTooNew)
            #expect(error.description.contains("schema version 99"))
            #expect(error.description.contains("upgrade ccorc"))
        }
        #expect(FileManager.default.fileExists(atPath: home.database))
        #expect(!home.contents().contains { $0.contains("corrupt") })
    }

    @Test func garbageFileIsMovedAsideAndAFreshOpenWorks() throws {
        let home = TemporaryHome()
        try FileManager.default.createDirectory(atPath: home.path, withIntermediateDirectories: true)
        let garbage = Data((0..<8192).map { UInt8(truncatingIfNeeded: $0 &* 7919 &+ 13) })
        try garbage.write(to: URL(fileURLWithPath: home.database))
        try Data("stale wal".utf8).write(to: URL(fileURLWithPath: home.database + "-wal"))
        do {
            _ = try SessionRegistry(home: home.path)
            Issue.record("opened a garbage file")
        } catch {
            #expect(error.code == .corrupt)
            let moved = try #require(error.movedTo)
            #expect(moved.hasPrefix(home.database + ".corrupt-"))
            #expect(moved.hasSuffix("Z"))
            #expect(error.description.contains(home.database))
            #expect(error.description.contains(moved))
            #expect(error.description.contains("ccorc recover"))
            #expect(error.sqlitePrimaryCode == 26)  // SQLITE_NOTADB
            #expect(FileManager.default.contents(atPath: moved) == garbage)
            #expect(FileManager.default.fileExists(atPath: moved + "-wal"), "\(home.contents())")
        }
        #expect(!FileManager.default.fileExists(atPath: home.database))
        #expect(!FileManager.default.fileExists(atPath: home.database + "-wal"))

        let fresh = try SessionRegistry(home: home.path)
        #expect(try fresh.allSessions().isEmpty)
        try fresh.claim(fullRecord("after"))
        #expect(try fresh.session(named: name("after")) != nil)
    }

    @Test func damagedPagesFailTheIntegrityCheck() throws {
        let home = TemporaryHome()
        do {
            let registry = try SessionRegistry(home: home.path)
            for index in 0..<300 { try registry.insertIfAbsent(fullRecord("s\(index)")) }
        }
        // The last connection closed, so the WAL is checkpointed into the file. Scribble over
        // every page but the first (the header), leaving a valid header on a broken tree.
        let handle = try #require(FileHandle(forUpdatingAtPath: home.database))
        let size = try handle.seekToEnd()
        #expect(size > 4096 * 4)
        for offset in stride(from: UInt64(4096 + 1000), to: size, by: 4096) {
            try handle.seek(toOffset: offset)
            try handle.write(contentsOf: Data(repeating: 0xA5, count: 200))
        }
        try handle.close()
        #expect {
            _ = try SessionRegistry(home: home.path)
        } throws: { error in
            guard let error = error as? RegistryError else { return false }
            return error.code == .corrupt && error.movedTo != nil
        }
        #expect(!FileManager.default.fileExists(atPath: home.database))
        #expect(try SessionRegistry(home: home.path).allSessions().isEmpty)
    }

    @Test func aThousandSessionsReadBackInTwoQueries() throws {
        let home = TemporaryHome()
        let registry = try SessionRegistry(home: home.path)
        var expected: [SessionRecord] = []
        for index in 0..<1000 {
            var record = fullRecord(String(format: "team-%04d", index))
            record.config = ["index": .int(Int64(index))]
            try registry.insertIfAbsent(record)
            expected.append(record)
        }
        // Timings are printed, not asserted: they depend on the machine and the build.
        let clock = ContinuousClock()
        var reopened: SessionRegistry?
        let opening = try clock.measure { reopened = try SessionRegistry(home: home.path) }
        let second = try #require(reopened)
        var all: [SessionRecord] = []
        let first = try clock.measure { all = try second.allSessions() }
        var best = first
        for _ in 0..<5 { best = min(best, try clock.measure { _ = try second.allSessions() }) }
        #expect(all.count == 1000)
        #expect(all.reduce(0) { $0 + $1.agents.count } == 3000)
        #expect(all == expected)
        print(
            "registry of 1,000 sessions / 3,000 agents: open \(opening), allSessions first \(first), best of 5 \(best)")
    }
}

/// Counts every agent row with a separate connection, to see what the registry left behind.
private func agentRowCount(_ home: TemporaryHome) throws -> Int {
    let database = try SQLiteDatabase(path: home.database, create: false)
    return try database.withStatement("SELECT count(*) FROM agents", "test") { statement throws(RegistryError) in
        try statement.step()
        return Int(statement.int64(0) ?? -1)
    }
}

@Suite struct RegistryOpenFailureTests {
    @Test func homeThatIsAFileIsAnIOError() throws {
        let home = TemporaryHome()
        try Data("not a directory".utf8).write(to: URL(fileURLWithPath: home.path))
        defer { try? FileManager.default.removeItem(atPath: home.path) }
        #expect {
            _ = try SessionRegistry(home: home.path)
        } throws: { ($0 as? RegistryError)?.code == .io }
    }

    @Test func databaseThatIsADirectoryIsAnIOError() throws {
        let home = TemporaryHome()
        try FileManager.default.createDirectory(atPath: home.database, withIntermediateDirectories: true)
        #expect {
            _ = try SessionRegistry(home: home.path)
        } throws: { error in
            guard let error = error as? RegistryError else { return false }
            return error.code == .io && error.sqliteCode != nil && error.description.contains(home.database)
        }
        #expect(FileManager.default.fileExists(atPath: home.database))
    }
}
