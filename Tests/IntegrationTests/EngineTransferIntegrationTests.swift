import Foundation
import Synchronization
import Testing

@testable import CCOrcKit

/// Volumes and images copied from the test engine to a private second engine
/// (`EngineTransfer`), read back file by file on the target.
@Suite(.serialized) struct EngineTransferIntegrationTests {
    /// The tree every copy test writes into its source volume.
    private struct Fixture {
        let random: [UInt8]
        let modified = 1_700_000_000
        let archive: [UInt8]

        init(randomBytes: Int = 5_000_000) throws {
            var generator = SystemRandomNumberGenerator()
            random = (0..<randomBytes).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let time = Date(timeIntervalSince1970: Double(modified))
            var writer = TarWriter()
            try writer.addDirectory("a", mode: 0o755, modified: time)
            try writer.addDirectory("a/b", mode: 0o750, uid: 1000, gid: 1000, modified: time)
            try writer.addFile("a/b/deep.txt", contents: Array("deep\n".utf8), mode: 0o644, modified: time)
            try writer.addSymlink("link", target: "a/b/deep.txt", modified: time)
            try writer.addFile(
                "secret", contents: Array("s3cret\n".utf8), mode: 0o600, uid: 1000, gid: 1000, modified: time)
            try writer.addFile("empty", contents: [], mode: 0o644, modified: time)
            try writer.addFile("random.bin", contents: random, mode: 0o640, uid: 0, gid: 1000, modified: time)
            archive = writer.finish()
        }
    }

    @Test func aVolumeArrivesWithContentsOwnersModesTimesAndLinks() async throws {
        let fixture = try Fixture()
        try await ExtraEngine.with { _, target in
            try await TestEngine.isolated("xfer") { engine, prefix in
                let volume = prefix + "-vol"
                let labels = ["ccorc.test": prefix, OwnershipLabels.session: "moving"]
                try await fill(volume, labels: labels, on: engine, prefix: prefix, archive: fixture.archive)
                // The volume's root too: the agent's user owns it (extracted at /, as the engine sets
                // a member's owner on an existing directory but never on the one it extracts into).
                let time = Date(timeIntervalSince1970: Double(fixture.modified))
                try await put(
                    volume, on: engine, prefix: prefix, at: "/",
                    archive: try tar { try $0.addDirectory("data", mode: 0o700, uid: 1000, gid: 1000, modified: time) })

                let report = try await EngineTransfer.copyVolume(
                    volume, from: engine, to: target, helperImage: TestEngine.image)
                #expect(report.createdTargetVolume)
                #expect(report.fileCount == 5)
                #expect(report.directoryCount == 3)  // the volume's root, a, a/b
                #expect(report.contentBytes == Int64(fixture.random.count + 5 + 7))
                #expect(report.bytesRelayed >= report.contentBytes)

                #expect(try await target.inspectVolume(volume).labels == labels)
                let entries = try await readBack(volume, on: target, prefix: prefix)
                let byPath = Dictionary(entries.map { (normalized($0.path), $0) }) { first, _ in first }
                #expect(
                    byPath.keys.sorted() == [".", "a", "a/b", "a/b/deep.txt", "empty", "link", "random.bin", "secret"])
                let secret = try #require(byPath["secret"])
                #expect((secret.type, secret.mode & 0o7777, secret.uid, secret.gid) == ("0", 0o600, 1000, 1000))
                #expect(secret.contents == Array("s3cret\n".utf8))
                #expect(secret.modified == fixture.modified)
                let link = try #require(byPath["link"])
                #expect((link.type, link.linkTarget) == ("2", "a/b/deep.txt"))
                let random = try #require(byPath["random.bin"])
                #expect((random.mode & 0o7777, random.uid, random.gid) == (0o640, 0, 1000))
                #expect(random.contents == fixture.random)
                #expect(byPath["empty"]?.contents == [])
                #expect(byPath["empty"]?.type == "0")
                let root = try #require(byPath["."])
                #expect(
                    (root.type, root.mode & 0o7777, root.uid, root.gid, root.modified) == (
                        "5", 0o700, 1000, 1000, fixture.modified
                    ))
                let inner = try #require(byPath["a/b"])
                #expect(
                    (inner.type, inner.mode & 0o7777, inner.uid, inner.modified) == ("5", 0o750, 1000, fixture.modified)
                )
                #expect(byPath["a/b/deep.txt"]?.contents == Array("deep\n".utf8))

                // The same tree on both sides, by the cheap check too.
                let comparison = try await EngineTransfer.verifyVolumeCopy(
                    volume, from: engine, to: target, helperImage: TestEngine.image)
                #expect(comparison.matches, "\(comparison.source) vs \(comparison.target)")
                #expect(comparison.source.fileCount == 5)
                #expect(comparison.source.contentBytes == report.contentBytes)

                // A changed file on the target no longer matches.
                let changed = Array("S3CRET\n".utf8)
                try await put(
                    volume, on: target, prefix: prefix,
                    archive: try tar { try $0.addFile("secret", contents: changed, mode: 0o600, uid: 1000, gid: 1000) })
                let after = try await EngineTransfer.verifyVolumeCopy(
                    volume, from: engine, to: target, helperImage: TestEngine.image)
                #expect(!after.matches)

                #expect(try await helpers(of: volume, on: engine).isEmpty)
                #expect(try await helpers(of: volume, on: target).isEmpty)
                try await target.removeVolume(volume)
            }
        }
    }

    @Test func aMissingSourceVolumeFailsAndLeavesNothing() async throws {
        try await ExtraEngine.with { _, target in
            try await TestEngine.isolated("xfer-missing") { engine, prefix in
                let volume = prefix + "-none"
                let error = try await #require(throws: EngineError.self) {
                    try await EngineTransfer.copyVolume(volume, from: engine, to: target, helperImage: TestEngine.image)
                }
                #expect(error.code == .notFound)
                #expect(
                    error.description
                        == "copying volume \(volume) from \(engine.host) to \(target.host): inspecting the volume on \(engine.host) failed: get \(volume): no such volume"
                )
                #expect(try await engine.listVolumes(filters: ["name": [volume]]).isEmpty)
                #expect(try await target.listVolumes(filters: ["name": [volume]]).isEmpty)
                #expect(try await helpers(of: nil, on: target).isEmpty)
            }
        }
    }

    @Test func aFailedUploadRemovesBothHelpersAndTheVolumeItCreated() async throws {
        let fixture = try Fixture()
        try await ExtraEngine.with { extra, _ in
            try await TestEngine.isolated("xfer-fault") { engine, prefix in
                let volume = prefix + "-vol"
                try await fill(
                    volume, labels: ["ccorc.test": prefix], on: engine, prefix: prefix, archive: fixture.archive)
                // The target's fifth request is the upload: HEAD /_ping, GET /volumes/X,
                // POST /volumes/create, POST /containers/create, PUT archive (checked in the trace).
                let trace = FileManager.default.temporaryDirectory.appendingPathComponent(prefix + "-trace").path
                defer { try? FileManager.default.removeItem(atPath: trace) }
                let target = try EngineClient(
                    host: EngineHost(socketPath: extra.socketPath),
                    faults: FaultInjection(failingStep: 5, tracePath: trace))
                let error = try await #require(throws: EngineError.self) {
                    try await EngineTransfer.copyVolume(volume, from: engine, to: target, helperImage: TestEngine.image)
                }
                let steps = try String(contentsOfFile: trace, encoding: .utf8).split(separator: "\n")
                #expect(steps.count >= 5 && steps[4].contains("engine PUT /containers/"), "\(steps)")
                #expect(error.code == .server)
                #expect(
                    error.description.hasPrefix(
                        "copying volume \(volume) from \(engine.host) to \(target.host): PUT archive to \(target.host) failed: fault injected at step 5"
                    ), "\(error)")
                #expect(try await helpers(of: volume, on: engine).isEmpty)
                #expect(try await helpers(of: nil, on: target).isEmpty)
                #expect(
                    try await target.listVolumes(filters: ["name": [volume]]).isEmpty, "the volume it created is gone")
                #expect(try await engine.inspectVolume(volume).name == volume, "the source is untouched")
            }
        }
    }

    @Test func aTargetEngineKilledMidwayFailsAndLeavesNoHelperAtTheSource() async throws {
        let fixture = try Fixture()
        try await ExtraEngine.with { extra, target in
            try await TestEngine.isolated("xfer-stop") { engine, prefix in
                let volume = prefix + "-vol"
                try await fill(
                    volume, labels: ["ccorc.test": prefix], on: engine, prefix: prefix, archive: fixture.archive)
                let copy = try await slowCopyUnderWay(volume, from: engine, to: target)
                // SIGKILL: on SIGTERM dockerd finishes the requests in flight first. Its containerd
                // dies with it; `restart` then finds the pid file stale and starts it again.
                let pid = try String(contentsOfFile: extra.directory + "/dockerd.pid", encoding: .utf8)
                #expect(kill(try #require(pid_t(pid.trimmingCharacters(in: .whitespacesAndNewlines))), SIGKILL) == 0)
                let outcome = await copy.result
                // A killed dockerd leaves its data root's bind mount behind (busy until its containerd is
                // gone: detach it); the next one mounts it again.
                #expect(umount2(extra.directory + "/data", Int32(MNT_DETACH)) == 0)
                try await extra.restart()
                let error = try #require(throws: EngineError.self) { try outcome.get() }
                #expect(
                    error.description.hasPrefix(
                        "copying volume \(volume) from \(engine.host) to \(target.host): PUT archive to \(target.host) failed: "
                    ), "\(error)")
                #expect(try await helpers(of: volume, on: engine).isEmpty)
            }
        }
    }

    @Test func aCancelledCopyRemovesBothHelpers() async throws {
        let fixture = try Fixture()
        try await ExtraEngine.with { _, target in
            try await TestEngine.isolated("xfer-cancel") { engine, prefix in
                let volume = prefix + "-vol"
                try await fill(
                    volume, labels: ["ccorc.test": prefix], on: engine, prefix: prefix, archive: fixture.archive)
                let copy = try await slowCopyUnderWay(volume, from: engine, to: target)
                copy.cancel()
                let outcome = await copy.result
                let error = try #require(throws: EngineError.self) { try outcome.get() }
                #expect(error.code == .cancelled, "\(error)")
                #expect(try await helpers(of: volume, on: engine).isEmpty)
                #expect(try await helpers(of: nil, on: target).isEmpty)
                #expect(try await target.listVolumes(filters: ["name": [volume]]).isEmpty)
            }
        }
    }

    @Test func ensureImageCopiesAnImageTheTargetLacks() async throws {
        try await ExtraEngine.with { _, target in
            try await TestEngine.isolated("xfer-img") { engine, prefix in
                let repository = prefix + "-img"
                let reference = repository + ":v1"
                try await engine.tagImage(TestEngine.image, repository: repository, tag: "v1")
                #expect(try await target.imageExists(reference) == false)

                #expect(try await EngineTransfer.ensureImage(reference, from: engine, on: target))
                #expect(try await target.imageID(reference) == (try await engine.imageID(reference)))
                #expect(try await EngineTransfer.ensureImage(reference, from: engine, on: target) == false)

                let missing = prefix + "-none:v1"
                let error = try await #require(throws: EngineError.self) {
                    try await EngineTransfer.ensureImage(missing, from: engine, on: target)
                }
                #expect(error.code == .notFound)
                #expect(
                    error.description.hasPrefix(
                        "copying image \(missing) from \(engine.host) to \(target.host): inspecting the image on \(engine.host) failed: "
                    ), "\(error)")
                #expect(error.message.lowercased().contains("no such image"))
                try await target.removeImage(reference)
                #expect(try await target.imageExists(reference) == false)
            }
        }
    }

    // MARK: - Helpers

    /// Creates `volume` with `labels` and extracts `archive` into it through a container that never runs.
    /// Starts a copy slowed to 20 ms a chunk past its first 512 KiB (slow enough that what a
    /// test does next happens before the last byte) and returns once it is past that point.
    private func slowCopyUnderWay(
        _ volume: String, from engine: EngineClient, to target: EngineClient
    ) async throws -> Task<VolumeCopyReport, Error> {
        let started = Mutex(false)
        let copy = Task {
            try await EngineTransfer.copyVolume(
                volume, from: engine, to: target, helperImage: TestEngine.image, bufferLimit: 256 << 10
            ) { total in
                if total > 512 << 10 {
                    started.withLock { $0 = true }
                    usleep(20_000)
                }
            }
        }
        while !started.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(10)) }
        return copy
    }

    private func fill(
        _ volume: String, labels: [String: String], on engine: EngineClient, prefix: String, archive: [UInt8]
    ) async throws {
        _ = try await engine.createVolume(name: volume, labels: labels)
        try await put(volume, on: engine, prefix: prefix, archive: archive)
    }

    private func put(
        _ volume: String, on engine: EngineClient, prefix: String, at path: String = "/data", archive: [UInt8]
    ) async throws {
        let container = try await engine.createContainer(spec(prefix + "-put", volume: volume))
        try await engine.copyToContainer(container, path: path, archive: .bytes(archive))
        try await engine.removeContainer(container, force: true)
    }

    /// Every member of the volume's tree, read through a container that never runs.
    private func readBack(_ volume: String, on engine: EngineClient, prefix: String) async throws -> [TarReader.Entry] {
        let container = try await engine.createContainer(spec(prefix + "-read", volume: volume))
        do {
            let archive = try #require(try await engine.copyFromContainer(container, path: "/data/."))
            try await engine.removeContainer(container, force: true)
            return try TarReader.entries(archive)
        } catch {
            try? await engine.removeContainer(container, force: true)
            throw error
        }
    }

    private func spec(_ name: String, volume: String) -> ContainerSpec {
        var spec = TestEngine.spec(name, command: ["true"])
        spec.mounts = [MountSpec(kind: .volume, source: volume, target: "/data")]
        return spec
    }

    private func tar(_ build: (inout TarWriter) throws -> Void) throws -> [UInt8] {
        var writer = TarWriter()
        try build(&writer)
        return writer.finish()
    }

    /// `./a/b`, `a/b/` and `a/b` alike.
    private func normalized(_ path: String) -> String {
        var path = path
        if path.hasPrefix("./") { path.removeFirst(2) }
        while path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        return path.isEmpty ? "." : path
    }

    /// Transfer helpers left on `engine`, of `volume` or of any volume.
    private func helpers(of volume: String?, on engine: EngineClient) async throws -> [String] {
        var filters = ["label": ["\(EngineTransfer.helperLabel)=1"]]
        if let volume { filters["volume"] = [volume] }
        return try await engine.listContainers(all: true, filters: filters).map(\.name)
    }
}
