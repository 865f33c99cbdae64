import CCOrcKit
import Foundation

/// A 100 MB volume copied from the engine to a private second one (`scripts/extra-engine.sh`)
/// through `EngineTransfer.copyVolume`, beside two curls piping the same archive endpoints
/// between the same kind of helper containers.
func runTransferBenchmark() async throws {
    let engine = try EngineClient()
    let image = "ccorc-busybox:latest"
    if !(try await engine.imageExists(image)) { _ = try await BusyboxImage.importImage(into: engine, reference: image) }
    let prefix = "ccorc-bench-\(getpid())-"
    BenchResources.shared.registerNamePrefix(prefix)
    // Short: the second engine's containerd puts its socket under it.
    let directory = "/tmp/ccorc-b\(getpid() % 100_000)"
    let socket = try runExtraEngineScript(["start", directory])
    Report.note("second engine: \(socket)")
    do {
        let target = try EngineClient(host: EngineHost(socketPath: socket))
        _ = try await BusyboxImage.importImage(into: target, reference: image)
        try await measureTransfer(engine, target, image: image, prefix: prefix)
    } catch {
        stopExtraEngine(directory)
        throw error
    }
    stopExtraEngine(directory)
}

private let fileCount = 10
private let fileSize = 10 << 20

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

    var peer: [Double] = []
    for _ in 0..<3 {
        try? await target.removeVolume(volume)
        _ = try await target.createVolume(name: volume)
        let reader = try await engine.createContainer(helperSpec(prefix + "peer-src", image: image, volume: volume))
        let writer = try await target.createContainer(helperSpec(prefix + "peer-dst", image: image, volume: volume))
        let version = try await engine.apiVersion()
        let pipeline =
            "curl -sSf --unix-socket \(engine.host.socketPath) 'http://d/v\(version)/containers/\(reader)/archive?path=/ccorc-volume'"
            + " | curl -sSf --unix-socket \(target.host.socketPath) -T - -X PUT -H 'Content-Type: application/x-tar'"
            + " 'http://d/v\(version)/containers/\(writer)/archive?path=/'"
        peer += try timeEach(1) { try runQuietly("/bin/sh", ["-c", pipeline]) }
        try await engine.removeContainer(reader, force: true)
        try await target.removeContainer(writer, force: true)
    }
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

private let extraEngineScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../scripts/extra-engine.sh").standardized.path

/// Runs `scripts/extra-engine.sh` and returns what it printed (the socket, for `start`).
///
/// Through posix_spawn with an empty signal mask and default actions, not Foundation's `Process`:
/// `Process` learns of an exit when a socket it hands the child closes, and the dockerd the script
/// leaves running would hold that socket open (and would inherit a blocked SIGTERM from a thread
/// that blocks it, and then not stop).
private func runExtraEngineScript(_ arguments: [String]) throws -> String {
    let outputPath = "/tmp/ccorc-bench-\(getpid())-extra-engine.out"
    defer { unlink(outputPath) }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    var defaults = sigset_t()
    sigemptyset(&defaults)
    for signalNumber in [SIGINT, SIGTERM, SIGHUP, SIGPIPE] { sigaddset(&defaults, signalNumber) }
    posix_spawnattr_setsigdefault(&attributes, &defaults)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = ([extraEngineScript] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, extraEngineScript, &actions, &attributes, argv, environ)
    guard spawned == 0 else {
        throw CommandFailed(description: "cannot start \(extraEngineScript): \(String(cString: strerror(spawned)))")
    }
    let token = BenchResources.shared.track(pid: pid)
    let status = BenchResources.shared.reap(pid, token)
    guard status == 0 else {
        throw CommandFailed(
            description: "extra-engine.sh \(arguments.joined(separator: " ")) exited with wait status \(status)")
    }
    let printed = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
    return printed.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// Stops the second engine by its pid (its script does) and removes its directory.
private func stopExtraEngine(_ directory: String) {
    _ = try? runExtraEngineScript(["stop", directory])
    try? FileManager.default.removeItem(atPath: directory)
}
