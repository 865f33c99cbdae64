import Foundation
import Testing

@testable import CCOrcKit

/// A member as read back from archive bytes, independently of the writer: ustar fields with PAX
/// records applied.
struct ParsedMember: Equatable {
    var path: String
    var type: Character
    var mode: Int
    var uid: Int
    var gid: Int
    var size: Int64
    var modified: Int64
    var linkTarget: String
    var deviceMajor = 0
    var deviceMinor = 0
    var contents: [UInt8] = []
    /// The PAX records that preceded the member.
    var pax: [String: String] = [:]
}

enum TarParseError: Error { case bad(String) }

/// Reads every member of an archive (`readContents` false: headers only, no contents between them), checking each header's checksum and the end-of-archive blocks.
func parseTar(_ bytes: [UInt8], readContents: Bool = true) throws -> [ParsedMember] {
    func field(_ block: ArraySlice<UInt8>, _ offset: Int, _ width: Int) -> [UInt8] {
        let start = block.startIndex + offset
        return Array(block[start..<start + width].prefix { $0 != 0 })
    }
    func octal(_ block: ArraySlice<UInt8>, _ offset: Int, _ width: Int) throws -> Int64 {
        let text = String(decoding: field(block, offset, width), as: UTF8.self).trimmingCharacters(in: .whitespaces)
        if text.isEmpty { return 0 }
        guard let value = Int64(text, radix: 8) else { throw TarParseError.bad("not octal: \(text)") }
        return value
    }
    var members: [ParsedMember] = []
    var offset = 0
    var pending: [String: String] = [:]
    while true {
        guard offset + 512 <= bytes.count else { throw TarParseError.bad("no end-of-archive blocks") }
        let block = bytes[offset..<offset + 512]
        if block.allSatisfy({ $0 == 0 }) {
            guard offset + 1024 <= bytes.count, bytes[offset + 512..<offset + 1024].allSatisfy({ $0 == 0 }) else {
                throw TarParseError.bad("a single zero block")
            }
            return members
        }
        var forSum = Array(block)
        forSum.replaceSubrange(148..<156, with: [UInt8](repeating: 32, count: 8))
        let sum = forSum.reduce(0) { $0 + Int64($1) }
        guard try octal(block, 148, 8) == sum else { throw TarParseError.bad("checksum at \(offset)") }
        guard field(block, 257, 6) == Array("ustar".utf8) else { throw TarParseError.bad("not ustar") }
        let type = Character(UnicodeScalar(block[block.startIndex + 156]))
        var size = try octal(block, 124, 12)
        offset += 512
        if type == "x" {
            var records = bytes[offset..<offset + Int(size)]
            while !records.isEmpty {
                guard let space = records.firstIndex(of: 32),
                    let length = Int(String(decoding: records[..<space], as: UTF8.self))
                else {
                    throw TarParseError.bad("PAX record")
                }
                let record = records[records.startIndex..<records.startIndex + length]
                guard record.last == 10, let equals = record.firstIndex(of: UInt8(ascii: "=")) else {
                    throw TarParseError.bad("PAX record end")
                }
                pending[String(decoding: record[(space + 1)..<equals], as: UTF8.self)] = String(
                    decoding: record[(equals + 1)..<(record.endIndex - 1)], as: UTF8.self)
                records = records[record.endIndex...]
            }
            offset += (Int(size) + 511) / 512 * 512
            continue
        }
        let prefix = field(block, 345, 155)
        var path = String(
            decoding: (prefix.isEmpty ? [] : prefix + [UInt8(ascii: "/")]) + field(block, 0, 100), as: UTF8.self)
        var member = ParsedMember(
            path: path, type: type, mode: Int(try octal(block, 100, 8)), uid: Int(try octal(block, 108, 8)),
            gid: Int(try octal(block, 116, 8)),
            size: size, modified: try octal(block, 136, 12),
            linkTarget: String(decoding: field(block, 157, 100), as: UTF8.self),
            deviceMajor: Int(try octal(block, 329, 8)), deviceMinor: Int(try octal(block, 337, 8)))
        if let value = pending["path"] {
            path = value
            member.path = value
        }
        if let value = pending["linkpath"] { member.linkTarget = value }
        if let value = pending["size"] {
            size = Int64(value)!
            member.size = size
        }
        if let value = pending["uid"] { member.uid = Int(value)! }
        if let value = pending["gid"] { member.gid = Int(value)! }
        if let value = pending["mtime"] { member.modified = Int64(value)! }
        member.pax = pending
        pending = [:]
        if type == "0" && readContents {
            guard offset + Int(size) <= bytes.count else { throw TarParseError.bad("truncated contents of \(path)") }
            member.contents = Array(bytes[offset..<offset + Int(size)])
        }
        // Without contents (a header alone, for a size too big to write) there is nothing to skip.
        if type == "0" && readContents { offset += Int((size + 511) / 512 * 512) }
        members.append(member)
    }
}

/// GNU tar's verbose listing of `archive`, with numeric owners and UTC times.
func gnuTarListing(_ archive: [UInt8]) throws -> [String] {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent(
        "ccorc-tar-\(getpid())-\(UInt32.random(in: 0..<UInt32.max)).tar"
    ).path
    #expect(FileManager.default.createFile(atPath: path, contents: Data(archive)))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/tar")
    process.arguments = ["--numeric-owner", "--full-time", "-tvf", path]
    process.environment = ["TZ": "UTC", "LC_ALL": "C"]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let listing = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    // Collapse the column padding so that lines compare exactly.
    return listing.split(separator: "\n").map {
        $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}

@Suite struct TarHeaderTests {
    @Test func keepsOwnerModeWithSetuidAndTime() throws {
        let entry = TarEntry(
            "usr/bin/passwd", kind: .regularFile(size: 3), mode: 0o104755, uid: 1000, gid: 42, modified: 1_000_000_000)
        let header = try TarHeader.encode(entry)
        #expect(header.count == 512)
        let member = try #require(
            try parseTar(header + [1, 2, 3] + [UInt8](repeating: 0, count: 509) + TarHeader.endOfArchive).first)
        #expect(
            member
                == ParsedMember(
                    path: "usr/bin/passwd", type: "0", mode: 0o4755, uid: 1000, gid: 42, size: 3,
                    modified: 1_000_000_000, linkTarget: "", contents: [1, 2, 3]))
        // The fields as ustar spells them: zero-padded octal and a NUL.
        #expect(Array(header[100..<108]) == Array("0004755\0".utf8))
        #expect(Array(header[108..<116]) == Array("0001750\0".utf8))
        #expect(Array(header[136..<148]) == Array("07346545000\0".utf8))
    }

    @Test func sgidStickyDirectoriesAndSpecialFiles() throws {
        var archive: [UInt8] = []
        archive += try TarHeader.encode(
            TarEntry("srv/shared", kind: .directory, mode: 0o2775, uid: 0, gid: 1002, modified: 7))
        archive += try TarHeader.encode(TarEntry("tmp", kind: .directory, mode: 0o1777))
        archive += try TarHeader.encode(TarEntry("dev/null", kind: .characterDevice(major: 1, minor: 3), mode: 0o666))
        archive += try TarHeader.encode(
            TarEntry("dev/loop0", kind: .blockDevice(major: 7, minor: 0), mode: 0o660, gid: 6))
        archive += try TarHeader.encode(TarEntry("run/fifo", kind: .fifo, mode: 0o600))
        let members = try parseTar(archive + TarHeader.endOfArchive)
        #expect(members.map(\.path) == ["srv/shared/", "tmp/", "dev/null", "dev/loop0", "run/fifo"])
        #expect(members.map(\.type) == ["5", "5", "3", "4", "6"])
        #expect(members.map(\.mode) == [0o2775, 0o1777, 0o666, 0o660, 0o600])
        #expect(members[0].gid == 1002 && members[0].modified == 7)
        #expect(members[2].deviceMajor == 1 && members[2].deviceMinor == 3)
        #expect(members[3].deviceMajor == 7 && members[3].gid == 6)
    }

    @Test func hardLinkMemberNamesTheFirstPath() throws {
        let header = try TarHeader.encode(
            TarEntry(
                "data/b", kind: .hardLink(target: Array("data/a".utf8)), mode: 0o640, uid: 1001, gid: 1002,
                modified: 1_500_000_000))
        let member = try #require(try parseTar(header + TarHeader.endOfArchive).first)
        #expect(
            member
                == ParsedMember(
                    path: "data/b", type: "1", mode: 0o640, uid: 1001, gid: 1002, size: 0, modified: 1_500_000_000,
                    linkTarget: "data/a"))
    }

    @Test func longPathsSplitIntoThePrefixOrGoToPaxRecords() throws {
        // 160 bytes with a slash that leaves a name of at most 100: ustar's prefix holds the rest.
        let splittable = String(repeating: "p", count: 99) + "/" + String(repeating: "n", count: 60)
        let split = try TarHeader.encode(TarEntry(splittable, kind: .regularFile(size: 0), mode: 0o644))
        #expect(split.count == 512, "no PAX header")
        #expect(try parseTar(split + TarHeader.endOfArchive).first?.path == splittable)

        // A last component of 150 bytes fits neither field.
        let long = "home/agent/" + String(repeating: "x", count: 150)
        let pax = try TarHeader.encode(TarEntry(long, kind: .regularFile(size: 0), mode: 0o600, uid: 1000, gid: 1000))
        #expect(pax.count == 512 * 3, "PAX header, one block of records, ustar header")
        #expect(pax[156] == UInt8(ascii: "x"))
        let member = try #require(try parseTar(pax + TarHeader.endOfArchive).first)
        #expect(member.path == long)
        #expect(member.pax == ["path": long])
        #expect(member.uid == 1000 && member.mode == 0o600)

        // A 300-byte path with short components still fits no 155/100 split from the end.
        let deep = (0..<30).map { _ in "abcdefghi" }.joined(separator: "/")
        #expect(
            try parseTar(try TarHeader.encode(TarEntry(deep, kind: .directory, mode: 0o755)) + TarHeader.endOfArchive)
                .first?.path == deep + "/")

        let target = String(repeating: "t/", count: 80) + "end"
        let link = try #require(
            try parseTar(
                try TarHeader.encode(TarEntry("l", kind: .symbolicLink(target: Array(target.utf8)), mode: 0o777))
                    + TarHeader.endOfArchive
            ).first)
        #expect(link.linkTarget == target && link.pax == ["linkpath": target] && link.type == "2")
    }

    @Test func bigIDsSizesAndTimesGoToPaxRecords() throws {
        let size: Int64 = 9 << 30
        let header = try TarHeader.encode(
            TarEntry(
                "big", kind: .regularFile(size: size), mode: 0o644, uid: 3_000_000, gid: 2_097_152, modified: -86_400))
        let member = try #require(try parseTar(header + TarHeader.endOfArchive, readContents: false).first)
        #expect(member.pax == ["size": "9663676416", "uid": "3000000", "gid": "2097152", "mtime": "-86400"])
        #expect(member.size == size && member.uid == 3_000_000 && member.gid == 2_097_152 && member.modified == -86_400)
        // The largest values ustar holds need no record.
        let edge = try TarHeader.encode(
            TarEntry("edge", kind: .regularFile(size: (1 << 33) - 1), mode: 0o644, uid: 2_097_151, gid: 2_097_151))
        #expect(edge.count == 512)
    }

    @Test func paxRecordLengthsCountThemselves() {
        for length in 0..<1200 {
            let record = TarHeader.record("path", [UInt8](repeating: UInt8(ascii: "a"), count: length))
            let declared = Int(String(decoding: record.prefix { $0 != 32 }, as: UTF8.self))
            #expect(declared == record.count, "value of \(length) bytes")
        }
    }

    @Test func rejectsWhatTarCannotHold() {
        #expect(throws: TarError.self) { try TarHeader.encode(TarEntry("", kind: .directory, mode: 0o755)) }
        #expect(throws: TarError.self) { try TarHeader.encode(TarEntry(path: [97, 0, 98], kind: .fifo, mode: 0o644)) }
        #expect(throws: TarError.self) { try TarHeader.encode(TarEntry("a", kind: .fifo, mode: 0o644, uid: -1)) }
    }

    @Test func gnuTarReadsOwnersModesLinksAndPaxRecords() throws {
        var writer = TarWriter()
        try writer.addDirectory(
            "home/agent", mode: 0o700, uid: 1000, gid: 1000, modified: Date(timeIntervalSince1970: 1_000_000_000))
        try writer.addFile("etc/shadow", contents: Array("root:*:1::::::\n".utf8), mode: 0o640, gid: 42)
        try writer.addFile("usr/bin/passwd", contents: [0x7f], mode: 0o4755)
        try writer.addFile("data/a", contents: Array("same\n".utf8), uid: 1001, gid: 1002)
        try writer.addHardLink("data/b", target: "data/a", uid: 1001, gid: 1002)
        try writer.addSymlink("bin/sh", target: "busybox")
        try writer.addFile("opt/" + String(repeating: "x", count: 150), contents: [], uid: 3_000_000, gid: 3_000_001)
        let listing = try gnuTarListing(writer.finish())
        #expect(
            listing == [
                "drwx------ 1000/1000 0 2001-09-09 01:46:40 home/agent/",
                "-rw-r----- 0/42 15 1970-01-01 00:00:00 etc/shadow",
                "-rwsr-xr-x 0/0 1 1970-01-01 00:00:00 usr/bin/passwd",
                "-rw-r--r-- 1001/1002 5 1970-01-01 00:00:00 data/a",
                "hrw-r--r-- 1001/1002 0 1970-01-01 00:00:00 data/b link to data/a",
                "lrwxrwxrwx 0/0 0 1970-01-01 00:00:00 bin/sh -> busybox",
                "-rw-r--r-- 3000000/3000001 0 1970-01-01 00:00:00 opt/" + String(repeating: "x", count: 150),
            ])
    }
}

@Suite(.serialized) struct DirectoryArchiverTests {
    /// A temporary directory removed when `body` returns.
    private func withTree<T>(_ body: (String) throws -> T) throws -> T {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ccorc-archiver-\(getpid())-\(UInt32.random(in: 0..<UInt32.max))"
        ).path
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: root) }
        return try body(root)
    }

    private func write(
        _ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, owner: (uid_t, gid_t)? = nil, modified: Int? = nil
    ) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        if let owner { #expect(chown(path, owner.0, owner.1) == 0, "chown needs root") }
        #expect(chmod(path, mode) == 0)
        if let modified {
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: TimeInterval(modified))], ofItemAtPath: path)
        }
    }

    private func archive(_ root: String, chunkSize: Int = DirectoryArchiver.defaultChunkSize) throws -> [UInt8] {
        let archiver = try DirectoryArchiver(directory: root, chunkSize: chunkSize)
        var bytes: [UInt8] = []
        while let chunk = try archiver.nextChunk() {
            #expect(chunk.count <= chunkSize + 4 * 512 + 1024)
            bytes += chunk
        }
        return bytes
    }

    @Test func keepsOwnersModesTimesAndLinksInAStableOrder() throws {
        try #require(getuid() == 0, "the tree's owners need root to set (chown)")
        try withTree { root in
            try write(
                root + "/home/agent/notes", Array("mine\n".utf8), mode: 0o600, owner: (1000, 1000),
                modified: 1_000_000_000)
            #expect(chown(root + "/home/agent", 1000, 1000) == 0 && chmod(root + "/home/agent", 0o700) == 0)
            try write(root + "/etc/shadow", Array("root:*:1::::::\n".utf8), mode: 0o640, owner: (0, 42))
            try write(root + "/usr/bin/passwd", [0x7f, 0x45], mode: 0o4755, owner: (0, 0), modified: 1_234_567_890)
            try write(
                root + "/data/a", Array(repeating: 0xab, count: 3000), mode: 0o640, owner: (1001, 1002),
                modified: 1_500_000_000)
            #expect(link(root + "/data/a", root + "/data/b") == 0)
            #expect(symlink("passwd", root + "/usr/bin/chsh") == 0)
            #expect(mkfifo(root + "/run.fifo", 0o620) == 0 && chmod(root + "/run.fifo", 0o620) == 0)
            #expect(mknod(root + "/listener.sock", S_IFSOCK | 0o644, 0) == 0)
            try FileManager.default.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: false)
            #expect(chmod(root + "/tmp", 0o1777) == 0)
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: 1_100_000_000)], ofItemAtPath: root + "/home/agent")

            let bytes = try archive(root)
            #expect(
                try archive(root, chunkSize: 700) == bytes, "the same tree gives the same archive, however it is cut")
            let members = try parseTar(bytes)
            #expect(
                members.map(\.path) == [
                    "data/", "data/a", "data/b", "etc/", "etc/shadow", "home/", "home/agent/", "home/agent/notes",
                    "run.fifo", "tmp/", "usr/", "usr/bin/", "usr/bin/chsh", "usr/bin/passwd",
                ], "sorted per directory, depth first, no socket")
            func member(_ path: String) throws -> ParsedMember { try #require(members.first { $0.path == path }) }
            let notes = try member("home/agent/notes")
            #expect(
                notes.type == "0" && notes.uid == 1000 && notes.gid == 1000 && notes.mode == 0o600
                    && notes.modified == 1_000_000_000)
            #expect(notes.contents == Array("mine\n".utf8))
            let home = try member("home/agent/")
            #expect(
                home.type == "5" && home.uid == 1000 && home.gid == 1000 && home.mode == 0o700
                    && home.modified == 1_100_000_000)
            let shadow = try member("etc/shadow")
            #expect(shadow.uid == 0 && shadow.gid == 42 && shadow.mode == 0o640)
            let passwd = try member("usr/bin/passwd")
            #expect(passwd.mode == 0o4755 && passwd.modified == 1_234_567_890 && passwd.contents == [0x7f, 0x45])
            let first = try member("data/a")
            let second = try member("data/b")
            #expect(
                first.type == "0" && first.size == 3000 && first.uid == 1001 && first.gid == 1002 && first.mode == 0o640
            )
            #expect(
                second
                    == ParsedMember(
                        path: "data/b", type: "1", mode: 0o640, uid: 1001, gid: 1002, size: 0, modified: 1_500_000_000,
                        linkTarget: "data/a"))
            let chsh = try member("usr/bin/chsh")
            #expect(chsh.type == "2" && chsh.linkTarget == "passwd")
            let fifo = try member("run.fifo")
            #expect(fifo.type == "6" && fifo.mode == 0o620)
            #expect(try member("tmp/").mode == 0o1777)
        }
    }

    @Test func aMissingRootFailsBeforeAnyChunk() throws {
        try withTree { root in
            #expect { try DirectoryArchiver(directory: root + "/absent") } throws: {
                ($0 as? TarError)?.code == .notFound
                    && ($0 as? TarError)?.message == root + "/absent: no such directory"
            }
            try write(root + "/file", [1])
            #expect { try DirectoryArchiver(directory: root + "/file") } throws: {
                ($0 as? TarError)?.code == .notADirectory
            }
        }
    }

    @Test func aFileThatShrinksWhileReadFailsNamingIt() throws {
        try withTree { root in
            try write(root + "/big", [UInt8](repeating: 7, count: 3 << 20))
            let archiver = try DirectoryArchiver(directory: root, chunkSize: 1 << 20)
            _ = try archiver.nextChunk()
            #expect(truncate(root + "/big", 1 << 20) == 0)
            #expect {
                _ = try archiver.nextChunk()
                _ = try archiver.nextChunk()
            } throws: { error in
                let error = error as? TarError
                return error?.code == .changed && error?.path == root + "/big"
                    && error?.message
                        == "\(root)/big changed size while being read (3145728 bytes when opened, 1048576 now)"
            }
            #expect(try archiver.nextChunk() == nil, "nothing more after an error")
        }
    }

    @Test func aFileThatGrowsWhileReadFailsNamingIt() throws {
        try withTree { root in
            try write(root + "/log", [UInt8](repeating: 1, count: 1500))
            let archiver = try DirectoryArchiver(directory: root, chunkSize: 1024)
            _ = try archiver.nextChunk()
            let handle = try #require(FileHandle(forWritingAtPath: root + "/log"))
            handle.seekToEndOfFile()
            handle.write(Data([2, 2]))
            try handle.close()
            #expect { while try archiver.nextChunk() != nil {} } throws: {
                ($0 as? TarError)?.message
                    == "\(root)/log changed size while being read (1500 bytes when opened, 1502 now)"
            }
        }
    }

    @Test func aPathThatVanishesMidWalkFailsNamingIt() throws {
        try withTree { root in
            try write(root + "/a", [UInt8](repeating: 1, count: 4096))
            try write(root + "/b", [2])
            let archiver = try DirectoryArchiver(directory: root, chunkSize: 1024)
            _ = try archiver.nextChunk()
            try FileManager.default.removeItem(atPath: root + "/b")
            #expect { while try archiver.nextChunk() != nil {} } throws: { error in
                let error = error as? TarError
                return error?.code == .vanished && error?.message == "\(root)/b vanished while being archived"
            }
        }
    }

    @Test func theInMemoryArchiveIsTheStream() throws {
        try withTree { root in
            try write(root + "/x/y", Array("z".utf8), modified: 1_600_000_000)
            let members = try parseTar(try TarWriter.archive(directory: root))
            #expect(members.map(\.path) == ["x/", "x/y"])
            #expect(members[1].modified == 1_600_000_000 && members[1].contents == [UInt8(ascii: "z")])
        }
    }
}
