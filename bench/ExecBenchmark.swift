import CCOrcKit
import Foundation

/// `ccdk exec` start-up beside the docker CLI, and launch-to-prompt of a shell.
func runExecBenchmark(ccdk: String) async throws {
    let engine = try EngineClient()
    let image = "ccorc-busybox:latest"
    if !(try await engine.imageExists(image)) { _ = try await BusyboxImage.importImage(into: engine, reference: image) }
    // Under the run's prefix, so that the cleanup finds it whichever way the run ends.
    let name = "ccorc-bench-\(getpid())-exec"
    BenchResources.shared.registerNamePrefix("ccorc-bench-\(getpid())-")
    var spec = ContainerSpec(image: image, name: name)
    spec.command = ["sleep", "1000"]
    spec.networkMode = "none"
    spec.labels = [OwnershipLabels.managed: "true"]
    _ = try await engine.createContainer(spec)
    do {
        try await engine.startContainer(name)
        try await measureExec(ccdk: ccdk, container: name)
    } catch {
        try? await engine.removeContainer(name, force: true)
        throw error
    }
    try await engine.removeContainer(name, force: true)
}

private func measureExec(ccdk: String, container name: String) async throws {

    Report.section("Exec start-up: launch to exit of `true` in a running container, median of 30, runs alternating")
    // Every docker CLI installed is a peer (Debian's and a newer one may both be there). The engine's
    // own exec time drifts by several ms over a minute, so the commands take turns.
    let dockers = ["/usr/bin/docker", "/usr/local/bin/docker"].filter {
        FileManager.default.isExecutableFile(atPath: $0)
    }
    var ours: [Double] = []
    var peers = [[Double]](repeating: [], count: dockers.count)
    for _ in 0..<30 {
        ours += try timeEach(1) { try runQuietly(ccdk, ["exec", name, "--", "true"]) }
        for (index, docker) in dockers.enumerated() {
            peers[index] += try timeEach(1) { try runQuietly(docker, ["exec", name, "true"]) }
        }
    }
    for (docker, samples) in zip(dockers, peers) {
        Report.line(
            Comparison(
                name: "ccdk exec NAME -- true", ours: median(ours), peerName: "\(docker) exec", peer: median(samples),
                unit: "s"))
    }
    if dockers.isEmpty {
        Report.line(
            Comparison(
                name: "ccdk exec NAME -- true", ours: median(ours), peerName: "docker exec", peer: nil, unit: "s"))
        Report.note("no docker CLI installed: the peer was skipped")
    }

    Report.section("Launch to a remote shell's first prompt, median of 20")
    var prompts: [Double] = []
    for _ in 0..<20 { prompts.append(try timeToPrompt(ccdk, name)) }
    Report.line(
        Comparison(
            name: "ccdk exec -i NAME -- sh -i, first prompt", ours: median(prompts), peerName: "-", peer: nil, unit: "s"
        ))
}

/// Starts an interactive shell through ccdk and returns the seconds until its prompt arrives.
private func timeToPrompt(_ ccdk: String, _ container: String) throws -> Double {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ccdk)
    process.arguments = ["exec", "-i", container, "--", "sh", "-i"]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    try BenchResources.shared.checkpoint()
    let start = DispatchTime.now().uptimeNanoseconds
    try process.run()
    let token = BenchResources.shared.track(pid: process.processIdentifier)
    defer { BenchResources.shared.untrack(token) }
    var seen = Data()
    // busybox's ash prints its banner and its prompt ("~ # ") on stdout.
    while !String(decoding: seen, as: UTF8.self).contains("# ") {
        let chunk = output.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        seen += chunk
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    return elapsed
}
