import Foundation
import Testing

@testable import CCOrcKit

/// A directory imported through the streaming archiver, read back from the engine: the tar of the
/// container's root filesystem that `GET /containers/{id}/archive` returns, listed by GNU tar.
@Suite(.serialized) struct ImageArchiveIntegrationTests {
    private let shadow = Array("root:*:19000::::::\nagent:*:19000::::::\n".utf8)

    @Test func anImportedTreeKeepsOwnersModesTimesAndLinks() async throws {
        try #require(getuid() == 0, "the tree's owners need root to set (chown, mknod)")
        try await TestEngine.isolated("tarstream") { engine, prefix in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(prefix + "-tree").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            let random = try makeTree(at: root)

            let reference = "\(prefix):v1"
            let container = prefix + "-read"
            do {
                try await readBack(engine, root: root, reference: reference, container: container, random: random)
            } catch {
                await remove(engine, container: container, image: reference)
                throw error
            }
            await remove(engine, container: container, image: reference)
            #expect(try await engine.imageExists(reference) == false)
        }
    }

    @Test func anUnreadableFileAbortsTheImportWithOneLine() async throws {
        try await TestEngine.isolated("tarstream-err") { engine, prefix in
            let root = FileManager.default.temporaryDirectory.appendingPathComponent(prefix + "-tree").path
            defer { try? FileManager.default.removeItem(atPath: root) }
            // 20 MB before the unreadable file: more than the stream buffers, so the upload is
            // under way when the archiver reaches it.
            try write(root + "/a-big", [UInt8](repeating: 0x5a, count: 20_000_000))
            try write(root + "/secret", Array("no\n".utf8), mode: 0o000, owner: (1000, 1000))
            let tag = "\(prefix):v1"
            // Root without CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH obeys a file's mode 000.
            let dropDAC = [
                "/usr/bin/setpriv", "--inh-caps=-dac_override,-dac_read_search",
                "--bounding-set=-dac_override,-dac_read_search", "--",
            ]
            let result = try await Products.run("ccdk", ["image", "import", root, "-t", tag], launcher: dropDAC)
            #expect(result.status == 1)
            #expect(result.stderr == "ccdk: cannot read \(root)/secret: Permission denied\n")
            #expect(result.stdout.isEmpty)
            #expect(try await engine.imageExists(tag) == false, "an aborted upload makes no image")
            if try await engine.imageExists(tag) { try await engine.removeImage(tag, force: true) }
        }
    }

    @Test func aMissingDirectoryFailsBeforeAnyRequest() async throws {
        // Nothing listens on this socket: a request would fail with "cannot reach the Docker engine".
        let noEngine = ["DOCKER_HOST": "unix:///nonexistent/ccorc-tarstream.sock"]
        let missing = "/nonexistent/ccorc-tarstream-tree"
        let imported = try await Products.run(
            "ccdk", ["image", "import", missing, "-t", "tarstream-missing:v1"], environment: noEngine)
        #expect(imported.status == 1)
        #expect(imported.stderr == "ccdk: \(missing): no such file or directory\n")
        let built = try await Products.run(
            "ccdk", ["image", "build", missing, "-t", "tarstream-missing:v1"], environment: noEngine)
        #expect(built.status == 1)
        #expect(built.stderr == "ccdk: \(missing): no such directory\n")
    }

    /// Files of several owners and kinds; returns the contents of `data/random`, which spans
    /// several archive chunks.
    private func makeTree(at root: String) throws -> [UInt8] {
        let manager = FileManager.default
        try manager.createDirectory(atPath: root + "/bin", withIntermediateDirectories: true)
        #expect(
            manager.createFile(
                atPath: root + "/bin/busybox",
                contents: try Data(contentsOf: URL(fileURLWithPath: BusyboxImage.defaultBinary))))
        #expect(chmod(root + "/bin/busybox", 0o755) == 0)
        #expect(symlink("busybox", root + "/bin/sh") == 0)
        try write(
            root + "/etc/passwd", Array("root:x:0:0::/root:/bin/sh\nagent:x:1000:1000::/home/agent:/bin/sh\n".utf8))
        try write(root + "/etc/shadow", shadow, mode: 0o640, owner: (0, 42))
        try write(
            root + "/home/agent/notes", Array("mine\n".utf8), mode: 0o600, owner: (1000, 1000), modified: 1_000_000_000)
        #expect(
            symlink("notes", root + "/home/agent/latest") == 0 && lchown(root + "/home/agent/latest", 1000, 1001) == 0)
        try write(
            root + "/usr/bin/tool", [0x7f, 0x45, 0x4c, 0x46], mode: 0o4755, owner: (0, 0), modified: 1_234_567_890)
        try write(root + "/opt/other", Array("other\n".utf8), mode: 0o644, owner: (1001, 1002))
        var random = [UInt8](repeating: 0, count: 3 << 20 + 123)
        for index in random.indices { random[index] = UInt8.random(in: 0...255) }
        try write(root + "/data/random", random, owner: (1001, 1002))
        try write(root + "/data/a", Array("same\n".utf8), mode: 0o640, owner: (1001, 1002), modified: 1_500_000_000)
        #expect(link(root + "/data/a", root + "/data/b") == 0)
        try manager.createDirectory(atPath: root + "/srv/shared", withIntermediateDirectories: true)
        #expect(chown(root + "/srv/shared", 0, 1002) == 0 && chmod(root + "/srv/shared", 0o2775) == 0)
        // makedev(1, 3), /dev/null's numbers (glibc's makedev is a macro).
        #expect(
            mknod(root + "/srv/null-device", S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0
                && chmod(root + "/srv/null-device", 0o666) == 0)
        #expect(mkfifo(root + "/srv/fifo", 0o620) == 0 && chmod(root + "/srv/fifo", 0o620) == 0)
        #expect(mknod(root + "/srv/listener.sock", S_IFSOCK | 0o644, 0) == 0)
        try manager.createDirectory(atPath: root + "/tmp", withIntermediateDirectories: true)
        #expect(chmod(root + "/tmp", 0o1777) == 0)
        // Directory times last: adding a child changes its directory's.
        #expect(chown(root + "/home/agent", 1000, 1000) == 0 && chmod(root + "/home/agent", 0o700) == 0)
        try manager.setAttributes(
            [.modificationDate: Date(timeIntervalSince1970: 1_100_000_000)], ofItemAtPath: root + "/home/agent")
        return random
    }

    private func readBack(
        _ engine: EngineClient, root: String, reference: String, container: String, random: [UInt8]
    ) async throws {
        let (repository, tag) = ImageReference.split(reference)
        _ = try await engine.importImage(directory: root, repository: repository, tag: tag, changes: ["CMD [\"sh\"]"])
        var spec = TestEngine.spec(container, command: ["sh"])
        spec.image = reference
        let id = try await engine.createContainer(spec)
        let archive = try await engine.send(.get, "/containers/\(id)/archive", query: [("path", "/")]).body
        let listing = String(
            decoding: try gnuTar(["--numeric-owner", "--full-time", "-tvf", "-"], input: archive), as: UTF8.self)
        var lines: [String: String] = [:]
        for line in listing.split(separator: "\n") {
            // "MODE UID/GID SIZE DATE TIME /path[ -> target| link to target]", spaces collapsed.
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 6 else { continue }
            let path = fields[5].hasPrefix("/") ? String(fields[5].dropFirst()) : String(fields[5])
            lines[path] = (fields[0..<5].map(String.init) + [path] + fields[6...].map(String.init)).joined(
                separator: " ")
        }
        let expected = [
            "home/agent/": "drwx------ 1000/1000 0 2004-11-09 11:33:20 home/agent/",
            "home/agent/notes": "-rw------- 1000/1000 5 2001-09-09 01:46:40 home/agent/notes",
            "etc/shadow": "-rw-r----- 0/42 \(shadow.count)",
            "usr/bin/tool": "-rwsr-xr-x 0/0 4 2009-02-13 23:31:30 usr/bin/tool",
            "opt/other": "-rw-r--r-- 1001/1002 6",
            "srv/shared/": "drwxrwsr-x 0/1002 0",
            "srv/null-device": "crw-rw-rw- 0/0 1,3",
            "srv/fifo": "prw--w---- 0/0 0",
            "tmp/": "drwxrwxrwt 0/0 0",
        ]
        for (path, line) in expected {
            let actual = try #require(lines[path], "\(path) is in the image")
            if line.hasSuffix(" " + path) {
                #expect(actual == line)
            } else {
                // The expectation stops before the time where the time is the test's own (now).
                #expect(actual.hasPrefix(line + " "), "\(actual)")
            }
        }
        // data/a and data/b are one file: the second path is a hard link to the first.
        #expect(lines["data/a"] == "-rw-r----- 1001/1002 5 2017-07-14 02:40:00 data/a")
        #expect(lines["data/b"] == "hrw-r----- 1001/1002 0 2017-07-14 02:40:00 data/b link to data/a")
        #expect(
            lines["bin/sh"]?.hasPrefix("lrwxrwxrwx 0/0 0 ") == true
                && lines["bin/sh"]?.hasSuffix(" bin/sh -> busybox") == true)
        #expect(
            lines["home/agent/latest"]?.hasPrefix("lrwxrwxrwx 1000/1001 0 ") == true
                && lines["home/agent/latest"]?.hasSuffix(" -> notes") == true)
        #expect(lines["srv/listener.sock"] == nil, "sockets are not archived")
        let extracted = try gnuTar(["-xOf", "-", "--wildcards", "*data/random"], input: archive)
        #expect(extracted.count == random.count)
        #expect(extracted == random, "contents that span several chunks arrive intact")
    }

    private func remove(_ engine: EngineClient, container: String, image: String) async {
        try? await engine.removeContainer(container, force: true)
        try? await engine.removeImage(image, force: true)
    }

    private func write(
        _ path: String, _ bytes: [UInt8], mode: mode_t = 0o644, owner: (uid_t, gid_t)? = nil, modified: Int? = nil
    ) throws {
        try FileManager.default.createDirectory(
            atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        if let owner { #expect(chown(path, owner.0, owner.1) == 0) }
        #expect(chmod(path, mode) == 0)
        if let modified {
            try FileManager.default.setAttributes(
                [.modificationDate: Date(timeIntervalSince1970: TimeInterval(modified))], ofItemAtPath: path)
        }
    }

    /// Runs GNU tar over `input` (times in UTC) and returns its standard output.
    private func gnuTar(_ arguments: [String], input: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/tar")
        process.arguments = arguments
        process.environment = ["TZ": "UTC", "LC_ALL": "C"]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = FileHandle.nullDevice
        try process.run()
        let writer = stdin.fileHandleForWriting
        DispatchQueue.global().async {
            writer.write(Data(input))
            try? writer.close()
        }
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0, "tar \(arguments.joined(separator: " "))")
        return [UInt8](output)
    }
}
