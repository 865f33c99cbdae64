import CCOrcKit
import Foundation

/// Engine client and cgroup reader figures beside raw curl and the engine's stats endpoint.
func runEngineBenchmark(containerCount: Int) async throws {
    let engine = try EngineClient()
    try await engine.ping()
    let socket = engine.host.socketPath!
    let version = try await engine.apiVersion()
    let image = "ccorc-busybox:latest"
    if !(try await engine.imageExists(image)) { _ = try await BusyboxImage.importImage(into: engine, reference: image) }

    Report.section("Engine API round trips (GET /_ping), median per call over 20 batches of 500")
    let batch = 500
    var asyncSamples: [Double] = []
    var blockingSamples: [Double] = []
    var curlSamples: [Double] = []
    for _ in 0..<20 {
        asyncSamples += try await timeEachAsync(1) { for _ in 0..<batch { try await engine.ping() } }.map {
            $0 / Double(batch)
        }
        blockingSamples += try timeEach(1) { for _ in 0..<batch { try engine.pingBlocking() } }.map {
            $0 / Double(batch)
        }
        let urls = Array(repeating: "http://localhost/_ping", count: batch)
        curlSamples += try timeEach(1) {
            try runQuietly("/usr/bin/curl", ["-s", "-o", "/dev/null", "--unix-socket", socket] + urls)
        }.map { $0 / Double(batch) }
    }
    Report.line(
        Comparison(
            name: "ping, blocking call", ours: median(blockingSamples), peerName: "curl CLI, one connection",
            peer: median(curlSamples), unit: "s"))
    Report.line(
        Comparison(
            name: "ping, async call (multi handle)", ours: median(asyncSamples), peerName: "curl CLI, one connection",
            peer: median(curlSamples), unit: "s"))

    let prefix = "ccorc-bench-\(getpid())"
    BenchResources.shared.registerNamePrefix(prefix + "-")
    Report.section("Listing \(containerCount) created containers (GET /containers/json?all=1), median of 15")
    let createStart = Date()
    let names = (0..<containerCount).map { "\(prefix)-\($0)" }
    let created = await forEachConcurrently(names, width: 16) { name in
        try BenchResources.shared.checkpoint()
        var spec = ContainerSpec(image: image, name: name)
        spec.command = ["sleep", "1000"]
        spec.networkMode = "none"
        spec.labels = [OwnershipLabels.managed: "true", "ccorc.bench": prefix]
        _ = try await engine.createContainer(spec)
    }
    let createSeconds = Date().timeIntervalSince(createStart)
    if let failure = created.first(where: { $0.error != nil })?.error { throw failure }
    Report.note(
        String(
            format: "created %d containers in %.1f s (%.0f/s, 16 in flight)", containerCount, createSeconds,
            Double(containerCount) / createSeconds))

    do {
        let total = try await engine.listContainers(all: true).count
        var ours: [Double] = []
        var raw: [Double] = []
        for _ in 0..<15 {
            ours += try await timeEachAsync(1) { _ = try await engine.listContainers(all: true) }
            raw += try timeEach(1) {
                try runQuietly(
                    "/usr/bin/curl",
                    [
                        "-s", "-o", "/dev/null", "--unix-socket", socket,
                        "http://localhost/v\(version)/containers/json?all=1",
                    ])
            }
        }
        Report.line(
            Comparison(
                name: "list \(total) containers, parsed into values", ours: median(ours),
                peerName: "curl --unix-socket", peer: median(raw), unit: "s"))
        Report.note(String(format: "driver / curl = %.2f (target at most 1.2)", median(ours) / median(raw)))

        Report.section("One running container's memory and CPU")
        let running = names[0]
        try await engine.startContainer(running)
        let details = try await engine.inspectContainer(running)
        let reader = CgroupReader()
        guard let location = reader.locate(containerID: details.id, pid: details.pid) else {
            throw CommandFailed(description: "no cgroup found for the benchmark container")
        }
        let usageSamples = try timeEach(2000) { _ = try reader.usage(at: location, includeLimits: false) }
        let cgroupSamples = try timeEach(2000) { _ = try reader.usage(at: location) }
        let locateSamples = try timeEach(2000) { _ = try reader.usage(containerID: details.id) }
        var statsSamples: [Double] = []
        for _ in 0..<5 { statsSamples += try await timeEachAsync(1) { _ = try await engine.oneShotStats(running) } }
        Report.line(
            Comparison(
                name: "memory + CPU usage, 3 cgroup files", ours: median(usageSamples),
                peerName: "engine one-shot stats", peer: median(statsSamples), unit: "s"))
        Report.line(
            Comparison(
                name: "usage + limits, 6 cgroup files", ours: median(cgroupSamples), peerName: "engine one-shot stats",
                peer: median(statsSamples), unit: "s"))
        Report.line(
            Comparison(
                name: "usage + limits, cgroup located each call", ours: median(locateSamples),
                peerName: "engine one-shot stats", peer: median(statsSamples), unit: "s"))
    } catch {
        await removeBenchContainers(engine, names)
        throw error
    }
    await removeBenchContainers(engine, names)
}

private func removeBenchContainers(_ engine: EngineClient, _ names: [String]) async {
    let start = Date()
    let results = await forEachConcurrently(names, width: 16) { try await engine.removeContainer($0, force: true) }
    let seconds = Date().timeIntervalSince(start)
    Report.note(
        String(
            format: "removed %d containers in %.1f s (%.0f/s, 16 in flight), %d failed", names.count, seconds,
            Double(names.count) / seconds, results.filter { $0.error != nil }.count))
}
