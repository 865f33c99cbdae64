import Foundation
import Testing

@testable import CCOrcKit

/// Where agents keep their state and which image volumes they get, decided from the image alone.
@Suite struct AgentImageTests {
    let passwd = """
        root:x:0:0:root:/root:/bin/sh
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
        agent:x:1000:1000:Agent,,,:/home/agent:/bin/bash
        nohome:x:1001:1001::relative:/bin/sh

        """

    @Test func homeComesFromTheImagesHOMEFirst() {
        let config = ImageConfig(user: "agent", environment: ["PATH=/bin", "HOME=/srv/agent/"])
        #expect(AgentImage.homeDirectory(config, passwd: passwd) == "/srv/agent")
        #expect(!AgentImage.needsPasswd(config))
    }

    @Test func thenFromTheUsersPasswdEntry() {
        for user in ["agent", "agent:agent", "1000", "1000:1000"] {
            let config = ImageConfig(user: user, environment: ["PATH=/bin"])
            #expect(AgentImage.needsPasswd(config), "\(user)")
            #expect(AgentImage.homeDirectory(config, passwd: passwd) == "/home/agent", "\(user)")
        }
        #expect(AgentImage.homeDirectory(ImageConfig(user: "daemon"), passwd: passwd) == "/usr/sbin")
    }

    @Test func elseRoot() {
        #expect(AgentImage.homeDirectory(ImageConfig(), passwd: nil) == "/root")
        #expect(!AgentImage.needsPasswd(ImageConfig()))
        #expect(AgentImage.homeDirectory(ImageConfig(user: "ghost"), passwd: passwd) == "/root")
        #expect(AgentImage.homeDirectory(ImageConfig(user: "agent"), passwd: nil) == "/root")
        #expect(AgentImage.homeDirectory(ImageConfig(user: "nohome"), passwd: passwd) == "/root")
        // A relative HOME is no home.
        #expect(
            AgentImage.homeDirectory(ImageConfig(user: "agent", environment: ["HOME=rel"]), passwd: passwd)
                == "/home/agent")
    }

    @Test func theStateDirectoryIsClaudeUnderHome() {
        #expect(AgentImage.defaultStateDirectory(home: "/home/agent") == "/home/agent/.claude")
        #expect(AgentImage.defaultStateDirectory(home: "/") == "/.claude")
        #expect(AgentImage.defaultStateDirectory(home: "/root/") == "/root/.claude")
    }

    @Test func theStateVolumeAndMountsCoverImageVolumes() throws {
        let declared = ["/home/agent/.claude/", "/var/cache/agent", "/data", "/mnt/x"]
        let mounts = [try MountSpec(parsing: "/srv/x:/mnt/x//")]
        #expect(
            AgentImage.uncoveredVolumes(declared, stateDirectory: "/home/agent/.claude", mounts: mounts) == [
                "/data", "/var/cache/agent",
            ])
        #expect(AgentImage.uncoveredVolumes([], stateDirectory: "/root/.claude", mounts: []) == [])
    }

    @Test func imageVolumesAreNamedForTheirPath() throws {
        let session = try SessionName("k")
        let role = try AgentRole("leader")
        let names = SessionManager.imageVolumeNames(
            session, role, targets: ["/a-b", "/a/b", "/state", "/var/lib/x y", "/"])
        #expect(
            names.map(\.name) == [
                "k-leader-a-b", "k-leader-a-b-2", "k-leader-state-2", "k-leader-var-lib-x_y", "k-leader-root",
            ])
        #expect(names.map(\.target) == ["/a-b", "/a/b", "/state", "/var/lib/x y", "/"])
        for name in names.map(\.name) {
            #expect(name.allSatisfy { $0.isLetter || $0.isNumber || "_.-".contains($0) }, "\(name)")
        }
    }

    @Test func launchRecordsWhatItDerived() throws {
        let image = AgentImage(
            reference: "r", id: "sha256:1", config: ImageConfig(), stateDirectory: "/home/agent/.claude",
            volumeTargets: ["/data"])
        let config = SessionManager.launchConfig(image)
        #expect(config["stateDirectory"]?.string == "/home/agent/.claude")
        #expect(config["imageVolumes"]?.stringArray == ["/data"])
        var plain = image
        plain.volumeTargets = []
        #expect(SessionManager.launchConfig(plain)["imageVolumes"] == nil)
    }

    @Test func anImageConfigIsReadFromInspect() throws {
        let json = try JSONValue.parse(
            #"""
            {"Id":"sha256:abc","RepoTags":["a:b"],"Config":{"User":"agent","Env":["PATH=/bin","HOME=/home/agent"],
             "WorkingDir":"/home/agent","Volumes":{"/z":{},"/home/agent/.claude":{}}}}
            """#)
        let image = try ImageSummary(json: json)
        #expect(
            image.config
                == ImageConfig(
                    user: "agent", environment: ["PATH=/bin", "HOME=/home/agent"], workingDirectory: "/home/agent",
                    volumes: ["/home/agent/.claude", "/z"]))
        #expect(image.config.environmentValue("HOME") == "/home/agent")
        #expect(image.config.environmentValue("HOM") == nil)
        #expect(
            try ImageSummary(json: JSONValue.parse(#"{"Id":"x","Config":{"Volumes":null}}"#)).config == ImageConfig())
    }
}

/// Reading back what the engine's archive endpoint and our writer produce.
@Suite struct TarReaderTests {
    @Test func readsWhatTheWriterWrote() throws {
        var writer = TarWriter()
        try writer.addDirectory("home/agent", mode: 0o750, uid: 1000, gid: 1001)
        try writer.addFile(
            "etc/passwd", contents: Array("root:x:0:0::/root:/bin/sh\n".utf8), mode: 0o4755,
            modified: Date(timeIntervalSince1970: 1_700_000_000))
        try writer.addSymlink("bin/sh", target: "busybox")
        let long = String(repeating: "d/", count: 60) + "file"
        try writer.addFile(long, contents: [1, 2, 3])
        let entries = try TarReader.entries(writer.finish())
        #expect(entries.count == 4)
        #expect(
            entries[0].path == "home/agent/" && entries[0].type == "5" && entries[0].mode == 0o750
                && entries[0].uid == 1000 && entries[0].gid == 1001)
        #expect(entries[1].path == "etc/passwd" && entries[1].mode == 0o4755 && entries[1].modified == 1_700_000_000)
        #expect(String(decoding: entries[1].contents, as: UTF8.self) == "root:x:0:0::/root:/bin/sh\n")
        #expect(entries[2].type == "2" && entries[2].linkTarget == "busybox")
        #expect(entries[3].path == long && entries[3].contents == [1, 2, 3])
    }

    @Test func refusesDamage() throws {
        var writer = TarWriter()
        try writer.addFile("a", contents: Array(repeating: 7, count: 1000))
        var bytes = writer.finish()
        bytes[0] = UInt8(ascii: "b")
        #expect(throws: TarError.self) { try TarReader.entries(bytes) }
        bytes[0] = UInt8(ascii: "a")
        #expect(throws: TarError.self) { try TarReader.entries(Array(bytes.prefix(700))) }
        #expect(try TarReader.entries(bytes).count == 1)
    }

    @Test func readsPAXPathsAndGNUBase256Sizes() throws {
        func header(_ name: String, type: UInt8, size: [UInt8]) -> [UInt8] {
            var block = [UInt8](repeating: 0, count: 512)
            block.replaceSubrange(0..<name.utf8.count, with: Array(name.utf8))
            block.replaceSubrange(100..<108, with: Array("0000644\0".utf8))
            block.replaceSubrange(124..<136, with: size)
            block[156] = type
            block.replaceSubrange(148..<156, with: Array(repeating: UInt8(ascii: " "), count: 8))
            let sum = String(block.reduce(0) { $0 + Int($1) }, radix: 8)
            block.replaceSubrange(
                148..<156, with: Array((String(repeating: "0", count: 6 - sum.count) + sum).utf8) + [0, 32])
            return block
        }
        let record = "30 path=a/very/long/real/name\n"
        #expect(record.utf8.count == 30)
        var pax = Array(record.utf8)
        pax += [UInt8](repeating: 0, count: 512 - pax.count)
        let base256Size: [UInt8] = [0x80] + [UInt8](repeating: 0, count: 10) + [5]
        let bytes =
            header("PaxHeader", type: UInt8(ascii: "x"), size: Array("00000000036\0".utf8)) + pax
            + header("short", type: UInt8(ascii: "0"), size: base256Size) + [1, 2, 3, 4, 5]
            + [UInt8](repeating: 0, count: 507 + 1024)
        let entries = try TarReader.entries(bytes)
        #expect(entries.map(\.path) == ["a/very/long/real/name"])
        #expect(entries.first?.contents == [1, 2, 3, 4, 5])
    }
}

/// A `launching` row's launch: under way while its process runs, dead as soon as it does not.
@Suite struct LaunchLivenessTests {
    func record(_ status: SessionRecord.Status, createdAt: Date, launchedBy: ProcessIdentity?) throws -> SessionRecord {
        var config: [String: JSONValue] = ["stateDirectory": "/root/.claude"]
        if let launchedBy { config["launchedBy"] = launchedBy.jsonValue }
        return SessionRecord(
            name: try SessionName("s"), createdAt: createdAt, image: "i", agentCommand: "sh", config: .object(config),
            status: status)
    }

    @Test func aRecordedProcessDecides() throws {
        let owner = ProcessIdentity(pid: 4242, startTime: 99)
        let now = Date()
        let fresh = try record(.launching, createdAt: now, launchedBy: owner)
        #expect(fresh.launchingProcess == owner)
        #expect(fresh.launchIsUnderWay(now: now) { $0 == owner })
        // Dead at once, however young the row.
        #expect(!fresh.launchIsUnderWay(now: now) { _ in false })
        // Alive, however old.
        #expect(
            try record(.launching, createdAt: now.addingTimeInterval(-86_400), launchedBy: owner).launchIsUnderWay(
                now: now
            ) { _ in true })
    }

    @Test func withoutOneTheRowsAgeDecides() throws {
        let now = Date()
        #expect(
            try record(.launching, createdAt: now.addingTimeInterval(-60), launchedBy: nil).launchIsUnderWay(now: now) {
                _ in true
            })
        #expect(
            try !record(.launching, createdAt: now.addingTimeInterval(-601), launchedBy: nil).launchIsUnderWay(now: now)
            { _ in true })
    }

    @Test func aReadyRowIsNeverBeingLaunched() throws {
        #expect(
            try !record(.ready, createdAt: Date(), launchedBy: ProcessIdentity(pid: 1, startTime: 1)).launchIsUnderWay {
                _ in true
            })
    }

    @Test func processIdentitiesComeFromProc() throws {
        let me = try #require(ProcessIdentity.current)
        #expect(me.pid == getpid() && me.isAlive)
        #expect(!ProcessIdentity(pid: me.pid, startTime: me.startTime + 1).isAlive, "a reused pid is another process")
        // A command name with spaces and parentheses does not shift the fields.
        let stat = "123 (a b) c) S 1 123 123 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 1 0 987654 1000 100"
        #expect(ProcessIdentity.startTime(fromStat: stat) == 987_654)
        #expect(ProcessIdentity.state(fromStat: stat) == "S")
        #expect(ProcessIdentity(json: me.jsonValue) == me)
    }
}
