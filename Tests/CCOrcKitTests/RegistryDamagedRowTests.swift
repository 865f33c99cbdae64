import Foundation
import Testing

@testable import CCOrcKit

/// How registry-wide reads treat rows that cannot be decoded, and how `forget` drops them.
@Suite struct RegistryDamagedRowTests {
    private static func record(_ name: String) -> SessionRecord {
        SessionRecord(
            name: SessionName(rawValue: name)!, createdAt: Date(timeIntervalSince1970: 1), image: "busybox",
            agentCommand: "sh",
            agents: [
                AgentRecord(
                    role: AgentRole(rawValue: "leader")!, containerName: "\(name)-leader", containerID: nil,
                    stateVolume: "\(name)-leader-state", model: nil, tmuxWindow: nil, position: 0)
            ])
    }

    /// A registry holding good rows `a` and `b`, and one damaged row made by `damage` (SQL run
    /// behind the registry's back, as a crashed or foreign writer might leave it).
    private static func registry(damage sql: String, home: String) throws -> SessionRegistry {
        let registry = try SessionRegistry(home: home)
        for name in ["a", "b", "c"] {
            try registry.claim(record(name))
            try registry.commit(record(name))
        }
        let raw = try SQLiteDatabase(path: registry.path)
        try raw.execute(sql, "damaging a row")
        return registry
    }

    private static func withHome<T>(_ body: (String) throws -> T) throws -> T {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("ccorc-damaged-\(UUID().uuidString)")
            .path
        defer { try? FileManager.default.removeItem(atPath: home) }
        return try body(home)
    }

    @Test(arguments: [
        ("UPDATE sessions SET config = '{not json' WHERE name = 'c'", "c", "bad config"),
        ("UPDATE sessions SET environment = '[1,2' WHERE name = 'c'", "c", "bad environment"),
        ("UPDATE sessions SET mounts = '[1]' WHERE name = 'c'", "c", "bad mounts"),
        (
            "PRAGMA ignore_check_constraints = ON; UPDATE sessions SET status = 'exploded' WHERE name = 'c'", "c",
            "unknown status"
        ),
        ("UPDATE sessions SET name = 'Not A Name!' WHERE name = 'c'", "Not A Name!", "invalid name"),
        ("UPDATE agents SET role = 'BAD ROLE' WHERE session = 'c'", "c", "an agent has an invalid role \"BAD ROLE\""),
    ])
    func aDamagedRowIsSkippedAndNamed(sql: String, key: String, reason: String) throws {
        try Self.withHome { home in
            let registry = try Self.registry(damage: sql, home: home)
            let rows = try registry.rows()
            #expect(rows.sessions.map(\.name.rawValue) == ["a", "b"])
            #expect(rows.sessions.allSatisfy { $0.agents.count == 1 })
            #expect(rows.damaged == [DamagedRegistryRow(key: key, reason: reason)])
            #expect(try registry.allSessions().map(\.name.rawValue) == ["a", "b"])
            let quoted = key == "c" ? "c" : "'\(key)'"
            #expect(
                rows.damaged[0].warning
                    == "registry row \"\(key)\" is damaged (\(reason)) and was skipped; drop it with `ccorc forget \(quoted)`"
            )

            // Read on its own, a damaged row with a valid name is an error naming the fix.
            if let name = SessionName(rawValue: key) {
                do {
                    _ = try registry.session(named: name)
                    Issue.record("reading a damaged row succeeded")
                } catch let error as RegistryError {
                    #expect(error.code == .corrupt)
                    #expect(
                        error.message
                            == "the registry row \"\(key)\" is damaged (\(reason)); drop it with `ccorc forget \(key)`")
                    #expect(!error.message.contains("\n"))
                }
            }

            // forget matches the stored key, valid name or not, and leaves the other rows.
            try registry.forget([key])
            let after = try registry.rows()
            #expect(after.damaged.isEmpty)
            #expect(after.sessions.map(\.name.rawValue) == ["a", "b"])
        }
    }

    @Test func forgettingAnUnknownKeyChangesNothing() throws {
        try Self.withHome { home in
            let registry = try Self.registry(damage: "UPDATE sessions SET config = '{' WHERE name = 'c'", home: home)
            do {
                try registry.forget(["a", "missing"])
                Issue.record("forgetting an unknown key succeeded")
            } catch let error as RegistryError {
                #expect(error.code == .notFound)
                #expect(error.message.contains("\"missing\""))
            }
            let rows = try registry.rows()
            #expect(rows.sessions.map(\.name.rawValue) == ["a", "b"])
            #expect(rows.damaged.map(\.key) == ["c"])
            try registry.forget(["a", "c"])
            #expect(
                try registry.rows()
                    == RegistryRows(
                        sessions: [try #require(try registry.session(named: SessionName(rawValue: "b")!))], damaged: [])
            )
        }
    }

    @Test func noDamagedMessageSuggestsACommandThatDoesNotExist() {
        let error = RegistryError.damagedRow(
            DamagedRegistryRow(key: "x y", reason: "bad config"), path: "/r/registry.db")
        #expect(error.message == "the registry row \"x y\" is damaged (bad config); drop it with `ccorc forget 'x y'`")
        #expect(!error.message.contains("ccorc remove"))
    }
}
