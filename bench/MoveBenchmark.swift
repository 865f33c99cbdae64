import CCOrcKit
import Foundation

/// `ccorc move` of a session whose state volume holds 100 MiB, from the engine to a private second
/// one (`scripts/extra-engine.sh`) and back, beside two curls piping the same archive endpoints
/// between the same kind of helper containers; and the volume copy alone, through the library.
func runMoveBenchmark(binDirectory: String) async throws {
    try await withBenchSessions(binDirectory: binDirectory) { manager, environment, tag in
        try await ExtraBenchEngine.with(1, image: "ccorc-busybox:latest") { extras in
            try await measureMove(
                manager, extras[0], environment: environment, binDirectory: binDirectory, tag: tag)
            try await measureTransfer(
                manager.engine, extras[0].client, image: "ccorc-busybox:latest", prefix: tag + "-")
        }
    }
}

private func measureMove(
    _ manager: SessionManager, _ far: ExtraBenchEngine, environment: [String: String], binDirectory: String,
    tag: String
) async throws {
    Report.section(
        "ccorc move of a session with \(fileCount) files of \(fileSize >> 20) MiB in its state volume, to a second engine and back, median of 4"
    )
    let config = NSTemporaryDirectory() + "ccorc-bench-\(tag)-docker"
    BenchResources.shared.registerPath(config)
    let meta = config + "/contexts/meta/far"
    try FileManager.default.createDirectory(atPath: meta, withIntermediateDirectories: true)
    try #"{"Name":"far","Metadata":{},"Endpoints":{"docker":{"Host":"\#(far.dockerHost)"}}}"#
        .write(toFile: meta + "/meta.json", atomically: true, encoding: .utf8)
    var environment = environment
    environment["DOCKER_CONFIG"] = config
    environment["DOCKER_HOST"] = ""
    let ccorc = binDirectory + "/ccorc"
    let name = "\(tag)-mover"
    try runQuietly(ccorc, ["launch", name, "--agents", "leader", "--detach"], environment: environment)
    let volume = SessionManager.volumeName(SessionName(rawValue: name)!, try AgentRole("leader"))
    try await fillVolume(volume, on: manager.engine, image: "ccorc-busybox:latest", prefix: tag + "-")
    var moves: [Double] = []
    for round in 0..<4 {
        let target = round % 2 == 0 ? "far" : "default"
        moves += try timeEach(1) { try runQuietly(ccorc, ["move", name, "--to", target], environment: environment) }
    }
    // Back on the main engine, so that the run's cleanup finds it.
    let megabytes = Double(fileCount * fileSize) / 1e6
    let peer = try await curlPipeline(
        volume, from: manager.engine, to: far.client, image: "ccorc-busybox:latest", prefix: tag + "-")
    Report.line(
        Comparison(
            name: "ccorc move, 100 MiB state (a process)", ours: median(moves), peerName: "curl GET | curl -T - PUT",
            peer: median(peer), unit: "s"))
    Report.note(
        String(
            format:
                "throughput: ccorc move %.0f MB/s (stop, image check, copy, containers, both sides read again to compare, registry, source removed), curl pipeline %.0f MB/s (the copy alone)",
            megabytes / median(moves), megabytes / median(peer)))
    try runQuietly(ccorc, ["cleanup", "--remove", name, "--yes"], environment: environment)
}

/// The peer: `curl GET archive | curl -T - PUT archive` between helper containers mounting the
/// volume on each side, 3 times; the target volume is removed again each time.
private func curlPipeline(
    _ volume: String, from engine: EngineClient, to target: EngineClient, image: String, prefix: String
) async throws -> [Double] {
    var peer: [Double] = []
    for _ in 0..<3 {
        try? await target.removeVolume(volume)
        _ = try await target.createVolume(name: volume)
        let reader = try await engine.createContainer(helperSpec(prefix + "peer-src", image: image, volume: volume))
        let writer = try await target.createContainer(helperSpec(prefix + "peer-dst", image: image, volume: volume))
        let version = try await engine.apiVersion()
        let pipeline =
            "curl -sSf --unix-socket \(engine.host.socketPath!) 'http://d/v\(version)/containers/\(reader)/archive?path=/ccorc-volume'"
            + " | curl -sSf --unix-socket \(target.host.socketPath!) -T - -X PUT -H 'Content-Type: application/x-tar'"
            + " 'http://d/v\(version)/containers/\(writer)/archive?path=/'"
        peer += try timeEach(1) { try runQuietly("/bin/sh", ["-c", pipeline]) }
        try await engine.removeContainer(reader, force: true)
        try await target.removeContainer(writer, force: true)
    }
    try? await target.removeVolume(volume)
    return peer
}

private let fileCount = 10
private let fileSize = 10 << 20

/// The volume copy alone, through the library, beside the same curl pipeline.
private func measureTransfer(
    _ engine: EngineClient, _ target: EngineClient, image: String, prefix: String
)
    async throws
{
    let volume = prefix + "xfer"
    _ = try await engine.createVolume(name: volume, labels: [OwnershipLabels.managed: "true"])
    let fill = try await timeEachAsync(1) { try await fillVolume(volume, on: engine, image: image, prefix: prefix) }
    Report.note(String(format: "filled the source volume in %.1f s", fill[0]))
    let megabytes = Double(fileCount * fileSize) / 1e6

    Report.section(
        "Volume copy between two engines on this host: \(fileCount) files of \(fileSize >> 20) MiB of random bytes, median of 3"
    )
    let rssBefore = peakResidentMegabytes()
    var ours: [Double] = []
    var report: VolumeCopyReport?
    for _ in 0..<3 {
        try? await target.removeVolume(volume)
        ours += try await timeEachAsync(1) {
            report = try await EngineTransfer.copyVolume(volume, from: engine, to: target, helperImage: image)
        }
    }
    let rssAfter = peakResidentMegabytes()

    let peer = try await curlPipeline(volume, from: engine, to: target, image: image, prefix: prefix)
    _ = try await EngineTransfer.copyVolume(volume, from: engine, to: target, helperImage: image)
    let comparison = try await EngineTransfer.verifyVolumeCopy(volume, from: engine, to: target, helperImage: image)
    Report.line(
        Comparison(
            name: "EngineTransfer.copyVolume, 100 MiB", ours: median(ours), peerName: "curl GET | curl -T - PUT",
            peer: median(peer), unit: "s"))
    Report.note(
        String(
            format:
                "throughput: ccorc %.0f MB/s (helpers and volume made and removed included), curl pipeline %.0f MB/s",
            megabytes / median(ours), megabytes / median(peer)))
    if let report {
        Report.note(
            "copied \(report.fileCount) files, \(report.directoryCount) directories, \(report.bytesRelayed) bytes of tar"
        )
    }
    Report.note(
        String(
            format:
                "peak RSS of this process: %.0f MB before the copies, %.0f MB after (the relay holds at most %d MiB)",
            rssBefore, rssAfter, EngineTransfer.defaultBufferLimit >> 20))

    let verify = try await timeEachAsync(3) {
        _ = try await EngineTransfer.verifyVolumeCopy(volume, from: engine, to: target, helperImage: image)
    }
    Report.line(
        Comparison(
            name: "EngineTransfer.verifyVolumeCopy, both sides", ours: median(verify), peerName: "-", peer: nil,
            unit: "s"))
    Report.note("the copies \(comparison.matches ? "match" : "DIFFER"): \(comparison.source)")

    try? await target.removeVolume(volume)
    try await engine.removeVolume(volume)
}

/// Writes `fileCount` files of random bytes into the volume through a container that never runs,
/// one archive per file.
private func fillVolume(_ volume: String, on engine: EngineClient, image: String, prefix: String) async throws {
    let container = try await engine.createContainer(helperSpec(prefix + "fill", image: image, volume: volume))
    var generator = SystemRandomNumberGenerator()
    for index in 0..<fileCount {
        var contents = [UInt8](repeating: 0, count: fileSize)
        contents.withUnsafeMutableBytes { buffer in
            let words = buffer.bindMemory(to: UInt64.self)
            for word in words.indices { words[word] = generator.next() }
        }
        var writer = TarWriter()
        try writer.addFile("file-\(index)", contents: contents, uid: 1000, gid: 1000)
        try await engine.copyToContainer(container, path: "/ccorc-volume", archive: .bytes(writer.finish()))
    }
    try await engine.removeContainer(container, force: true)
}

private func helperSpec(_ name: String, image: String, volume: String) -> ContainerSpec {
    var spec = ContainerSpec(image: image, name: name)
    spec.command = ["true"]
    spec.networkMode = "none"
    spec.labels = [OwnershipLabels.managed: "true"]
    spec.mounts = [MountSpec(kind: .volume, source: volume, target: EngineTransfer.mountPath)]
    return spec
}

/// The most memory this process has held, in MB (getrusage's ru_maxrss is in KiB).
private func peakResidentMegabytes() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_maxrss) * 1024 / 1e6
}
