import CCOrcKit
import Foundation

/// Listing sessions through the C ABI, every call on one handle, beside `ccorc list --json`
/// processes over the same sessions. The two alternate in rounds, so that a change in the engine's
/// load (it is shared) weighs on both alike.
func runABIBenchmark(binDirectory: String, sessionCount: Int, calls: Int) async throws {
    let clientPath = binDirectory + "/ccorc-abi-bench"
    guard FileManager.default.isExecutableFile(atPath: clientPath) else {
        throw CommandFailed(description: "\(clientPath) is missing: `make bench` compiles it against libccorc")
    }
    try await withBenchSessions(binDirectory: binDirectory) { manager, environment, tag in
        Report.section(
            "list sessions over \(sessionCount) sessions (\(sessionCount * 3) containers), \(calls) calls each")
        try await registerBenchSessions(manager, tag: tag, count: sessionCount)
        let client = try ABIClient(clientPath, [environment["CCORC_HOME"]!, environment["CCORC_TMUX_SERVER"]!])
        defer { client.finish() }
        let ccorc = binDirectory + "/ccorc"
        let rounds = 10
        var abi: [Double] = []
        var processes: [Double] = []
        var bytes = 0
        for round in 0..<rounds {
            let count = calls / rounds + (round < calls % rounds ? 1 : 0)
            let measured = try client.measure(count)
            bytes = measured.bytes
            abi += measured.samples
            processes += try timeEach(count) { try runQuietly(ccorc, ["list", "--json"], environment: environment) }
        }
        Report.line(
            Comparison(
                name: "\(calls) x ccorc_list_sessions, one handle", ours: abi.reduce(0, +),
                peerName: "\(calls) x ccorc list --json", peer: processes.reduce(0, +), unit: "s"))
        Report.line(
            Comparison(
                name: "one ccorc_list_sessions call, median", ours: median(abi),
                peerName: "one ccorc list --json", peer: median(processes), unit: "s"))
        let everyContainer = try await manager.engine.listContainers(
            all: true, filters: ["label": [OwnershipLabels.session]]
        ).count
        Report.note(
            "\(bytes) bytes of JSON a call; each call lists the \(everyContainer) session containers on the engine")
    }
}

/// The C client, kept running so that every call goes through one handle.
private final class ABIClient {
    private let process = Process()
    private var token: BenchResources.ChildToken?
    private let input = Pipe()
    private let output = Pipe()
    private var pending = Data()

    init(_ path: String, _ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(["TMUX": ""]) { $1 }
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        token = BenchResources.shared.track(pid: process.processIdentifier)
    }

    /// Makes `count` calls; returns the size of the last result and each call's time in seconds.
    func measure(_ count: Int) throws -> (bytes: Int, samples: [Double]) {
        input.fileHandleForWriting.write(Data("\(count)\n".utf8))
        while !pending.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw CommandFailed(description: "ccorc-abi-bench ended early") }
            pending.append(chunk)
        }
        let end = pending.firstIndex(of: UInt8(ascii: "\n"))!
        let fields = String(decoding: pending[..<end], as: UTF8.self).split(separator: " ")
        pending.removeSubrange(...end)
        let samples = fields.dropFirst().compactMap { Double($0) }
        guard let bytes = fields.first.flatMap({ Int($0) }), samples.count == count else {
            throw CommandFailed(description: "ccorc-abi-bench printed an unexpected line")
        }
        return (bytes, samples)
    }

    func finish() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
        if let token { BenchResources.shared.untrack(token) }
    }
}
