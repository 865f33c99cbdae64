import Foundation
import Testing

@testable import CCOrcKit

/// The modes of the files ccorc writes, checked with stat(2) after each write.
@Suite struct PrivateFileModeTests {
    private func temporaryPath(_ label: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("ccorc-\(label)-\(UUID().uuidString)").path
    }

    @Test func aNewRegistryIsPrivate() throws {
        let top = temporaryPath("home")
        let home = top + "/nested/ccorc"
        defer { try? FileManager.default.removeItem(atPath: top) }
        let registry = try SessionRegistry(home: home)
        try registry.claim(
            SessionRecord(
                name: SessionName(rawValue: "modes")!, tmuxSession: "modes", image: "i", agentCommand: "claude"))
        #expect(PrivateFiles.mode(of: home) == 0o700)
        #expect(PrivateFiles.mode(of: home + "/registry.db") == 0o600)
        #expect(PrivateFiles.mode(of: home + "/registry.db-wal") == 0o600)
        #expect(PrivateFiles.mode(of: home + "/registry.db-shm") == 0o600)
        #expect(registry.warnings.isEmpty)
    }

    @Test func anExistingRegistryIsTightenedAtOpen() throws {
        let home = temporaryPath("wide")
        defer { try? FileManager.default.removeItem(atPath: home) }
        do {
            let registry = try SessionRegistry(home: home)
            try registry.claim(
                SessionRecord(
                    name: SessionName(rawValue: "modes")!, tmuxSession: "modes", image: "i", agentCommand: "claude"))
        }
        // As an earlier ccorc, or a user's mkdir, left them.
        #expect(chmod(home, 0o755) == 0)
        for file in ["registry.db", "registry.db-wal", "registry.db-shm"]
        where FileManager.default.fileExists(atPath: home + "/" + file) {
            #expect(chmod(home + "/" + file, 0o644) == 0)
        }
        let registry = try SessionRegistry(home: home)
        #expect(try registry.allSessions().map(\.name.rawValue) == ["modes"])
        #expect(PrivateFiles.mode(of: home) == 0o700)
        #expect(PrivateFiles.mode(of: home + "/registry.db") == 0o600)
        for file in ["registry.db-wal", "registry.db-shm"] {
            #expect(PrivateFiles.mode(of: home + "/" + file) == 0o600, "\(file)")
        }
        #expect(registry.warnings.isEmpty)
    }

    @Test func aSharedDirectoryIsReportedNotChanged() throws {
        let home = temporaryPath("shared")
        defer { try? FileManager.default.removeItem(atPath: home) }
        #expect(mkdir(home, 0o700) == 0 && chmod(home, 0o1777) == 0)
        let registry = try SessionRegistry(home: home)
        #expect(PrivateFiles.mode(of: home) == 0o1777)
        #expect(
            registry.warnings.count == 1 && registry.warnings[0].contains(home)
                && registry.warnings[0].contains("shared"), "\(registry.warnings)")
        #expect(PrivateFiles.mode(of: home + "/registry.db") == 0o600)
    }

    @Test func filesAreWrittenPrivateAndAtomically() throws {
        let directory = temporaryPath("write")
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try PrivateFiles.createDirectory(directory + "/exports")
        #expect(PrivateFiles.mode(of: directory + "/exports") == 0o700)
        let file = directory + "/exports/s.json"
        #expect(
            FileManager.default.createFile(
                atPath: file, contents: Data("old".utf8), attributes: [.posixPermissions: 0o644]))
        try PrivateFiles.write(Array("new\n".utf8), to: file)
        #expect(PrivateFiles.mode(of: file) == 0o600)
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "new\n")
        #expect(
            try FileManager.default.contentsOfDirectory(atPath: directory + "/exports") == ["s.json"],
            "no temporary file left")
        #expect(throws: PrivateFileError.self) { try PrivateFiles.write([], to: directory + "/missing/s.json") }
    }
}
