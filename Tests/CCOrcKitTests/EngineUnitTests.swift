import Foundation
import Synchronization
import Testing

@testable import CCOrcKit

@Suite struct EngineUnitTests {
    @Test func demultiplexesFramesAcrossChunkBoundaries() {
        var frames: [UInt8] = []
        func frame(_ stream: UInt8, _ text: String) -> [UInt8] {
            let payload = Array(text.utf8)
            let n = payload.count
            return [
                stream, 0, 0, 0, UInt8(n >> 24 & 0xff), UInt8(n >> 16 & 0xff), UInt8(n >> 8 & 0xff), UInt8(n & 0xff),
            ] + payload
        }
        frames = frame(1, "hello\n") + frame(2, "oops\n") + frame(1, String(repeating: "x", count: 300))
        var demux = StreamDemultiplexer(raw: false)
        var out: [StreamFrame] = []
        // Feed one byte at a time: every split point must work.
        for byte in frames { out += demux.feed([byte]) }
        #expect(out.map(\.stream) == [.stdout, .stderr, .stdout])
        #expect(String(decoding: out[1].payload, as: UTF8.self) == "oops\n")
        #expect(out[2].payload.count == 300)
        #expect(demux.pendingByteCount == 0)
    }

    @Test func rawStreamsPassThrough() {
        var demux = StreamDemultiplexer(raw: true)
        #expect(demux.feed(Array("abc".utf8)) == [StreamFrame(stream: .stdout, payload: Array("abc".utf8))])
    }

    @Test(
        arguments: [
            ("512m", 536_870_912), ("4g", 4_294_967_296), ("1.5g", 1_610_612_736), ("64k", 65_536), ("100", 100),
            ("2GiB", 2_147_483_648), ("16M", 16_777_216),
        ] as [(String, Int64)])
    func parsesMemorySizes(_ text: String, _ bytes: Int64) throws {
        #expect(try ResourceLimits.parseMemory(text) == bytes)
    }

    @Test(arguments: ["-1", "4x", "0", "", "m", "1.2.3g", "0k", "abc"])
    func rejectsBadMemorySizes(_ text: String) {
        #expect(throws: EngineError.self) { try ResourceLimits.parseMemory(text) }
    }

    @Test func parsesCPUCounts() throws {
        #expect(try ResourceLimits.parseCPUs("0.5") == 500_000_000)
        #expect(try ResourceLimits.parseCPUs("2") == 2_000_000_000)
        for bad in ["-1", "0", "x", "", "1e3", "0.0000001"] {
            #expect(throws: EngineError.self) { try ResourceLimits.parseCPUs(bad) }
        }
    }

    @Test func formatsSizes() {
        #expect(ResourceLimits.formatBytes(67_108_864) == "64MiB")
        #expect(ResourceLimits.formatBytes(1_610_612_736) == "1.50GiB")
        #expect(ResourceLimits.formatCPUs(500_000_000) == "0.5")
    }

    @Test func readsDockerHost() throws {
        #expect(try EngineHost(dockerHost: nil).socketPath == "/var/run/docker.sock")
        #expect(try EngineHost(dockerHost: "").socketPath == "/var/run/docker.sock")
        #expect(try EngineHost(dockerHost: "unix:///tmp/x.sock").socketPath == "/tmp/x.sock")
        for unsupported in ["tcp://1.2.3.4:x", "ssh://host", "unix://relative", "tcp://a:1:2"] {
            #expect {
                try EngineHost(dockerHost: unsupported)
            } throws: { ($0 as? EngineError)?.code == .unsupportedHost }
        }
    }

    @Test func comparesAPIVersions() {
        #expect(APIVersion.minimum("1.41", "1.43") == "1.41")
        #expect(APIVersion.minimum("1.45", "1.43") == "1.43")
        #expect(APIVersion.isOlder("1.9", than: "1.10"))
    }

    @Test func classifiesStatusesLikeMoby() {
        #expect(EngineError.code(forStatus: 404) == .notFound)
        #expect(EngineError.code(forStatus: 409) == .conflict)
        #expect(EngineError.code(forStatus: 400) == .invalidArgument)
        #expect(EngineError.code(forStatus: 500) == .server)
    }

    @Test func encodesCreateBodies() {
        var spec = ContainerSpec(image: "img", name: "n")
        spec.memory = 64 << 20
        spec.nanoCPUs = 500_000_000
        spec.networkMode = "none"
        spec.mounts = [MountSpec(kind: .volume, source: "vol", target: "/root/.claude")]
        spec.labels = ["ccorc.managed": "true"]
        let json = spec.json
        #expect(json["HostConfig"]?["Memory"]?.int == 67_108_864)
        #expect(json["HostConfig"]?["NanoCpus"]?.int == 500_000_000)
        #expect(json["HostConfig"]?["NetworkMode"]?.string == "none")
        #expect(json["HostConfig"]?["Mounts"]?.array?.first?["Source"]?.string == "vol")
        #expect(json["Labels"]?["ccorc.managed"]?.string == "true")
        #expect(json["Cmd"] == nil)
    }

    @Test func parsesMounts() throws {
        let volume = try MountSpec(parsing: "state:/root/.claude")
        #expect(volume.kind == .volume && !volume.readOnly)
        let bind = try MountSpec(parsing: "/srv/data:/data:ro")
        #expect(bind.kind == .bind && bind.readOnly)
        for bad in ["x", "a:relative", ":/x", "a:/b:rx"] {
            #expect(throws: EngineError.self) { try MountSpec(parsing: bad) }
        }
    }

    @Test func encodesFilters() throws {
        let text = try #require(EngineClient.filtersQuery(["label": ["ccorc.session=a b"], "name": []]))
        #expect(try JSONValue.parse(text) == ["label": ["ccorc.session=a b"]])
        #expect(EngineClient.filtersQuery([:]) == nil)
        #expect(EngineClient.percentEncode("a b&c=d/é") == "a%20b%26c%3Dd%2F%C3%A9")
    }

    @Test func parsesEngineTimes() throws {
        let date = try #require(EngineTime.parse("2026-11-25T22:10:02.5Z"))
        #expect(abs(date.timeIntervalSince1970.truncatingRemainder(dividingBy: 1) - 0.5) < 1e-6)
        #expect(EngineTime.parse("0001-01-01T00:00:00Z") == nil)
        #expect(EngineTime.parse("garbage") == nil)
    }

    @Test func splitsImageReferences() {
        #expect(ImageReference.split("a/b:1") == ("a/b", "1"))
        #expect(ImageReference.split("host:5000/b") == ("host:5000/b", "latest"))
        #expect(ImageReference.split("plain") == ("plain", "latest"))
    }
}

@Suite struct SupportTests {
    @Test(
        arguments: [
            ("feature-*", "feature-auth", true), ("feature-*", "hotfix-auth", false), ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("[ab]x", "bx", true), ("[!ab]x", "bx", false), ("[a-c]*", "cat", true), ("*-team-*", "x-team-2025", true),
            ("*", "", true), ("a*b*c", "aXbYbZc", true), ("a*b*c", "aXbYbZ", false),
        ] as [(String, String, Bool)])
    func matchesGlobs(_ pattern: String, _ name: String, _ expected: Bool) throws {
        #expect(try GlobPattern(pattern).matches(name) == expected)
    }

    @Test func rejectsUnclosedBrackets() {
        #expect(throws: EngineError.self) { try GlobPattern("a[bc") }
    }

    @Test func writesTarArchivesThatTarReads() throws {
        var writer = TarWriter()
        try writer.addDirectory("bin")
        try writer.addFile("bin/hello", contents: Array("hi\n".utf8), mode: 0o755)
        try writer.addSymlink("bin/hey", target: "hello")
        let long = String(repeating: "d", count: 90) + "/" + String(repeating: "f", count: 60)
        try writer.addFile(long, contents: [1, 2, 3])
        let archive = writer.finish()
        #expect(archive.count % 512 == 0)
        // GNU tar reads it: the symlink, the mode and the name split into prefix and name.
        let listing = try gnuTarListing(archive).joined(separator: "\n")
        #expect(listing.contains("bin/hey -> hello"))
        #expect(listing.contains("rwxr-xr-x"))
        #expect(listing.contains(long))
    }

    @Test func runsWithBoundedConcurrency() async {
        let inFlight = Mutex(0)
        let peak = Mutex(0)
        let results = await forEachConcurrently(Array(0..<50), width: 4) { item in
            inFlight.withLock {
                $0 += 1
                let now = $0
                peak.withLock { $0 = max($0, now) }
            }
            try await Task.sleep(for: .milliseconds(2))
            inFlight.withLock { $0 -= 1 }
            if item == 7 { throw EngineError(.conflict, "seven") }
        }
        #expect(results.count == 50)
        #expect(results.filter { $0.error != nil }.map(\.item) == [7])
        #expect(peak.withLock { $0 } <= 4)
        #expect(peak.withLock { $0 } >= 2)
    }

    @Test func rendersAlignedTables() {
        var table = TextTable(headers: ["NAME", "STATE"])
        table.append(["a-long-name", "running"])
        #expect(table.render() == "NAME          STATE\na-long-name   running")
        // Non-ASCII cells are measured in characters, not bytes.
        var marks = TextTable(headers: ["TMUX", "NAME"])
        marks.append(["✓", "é"])
        marks.append(["✗✗✗✗✗", "x"])
        #expect(marks.render() == "TMUX    NAME\n✓       é\n✗✗✗✗✗   x")
    }
}
