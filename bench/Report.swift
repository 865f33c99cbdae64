import Foundation

/// One benchmark line: our figure beside its peer's, measured in the same run.
struct Comparison {
    var name: String
    var ours: Double
    var peerName: String
    var peer: Double?
    var unit: String

    /// Peer over ours: above 1 means we are faster.
    var speedup: Double? { peer.map { $0 / ours } }
}

/// Prints benchmark comparisons as an aligned table.
enum Report {
    static func section(_ title: String) {
        say("\n## \(title)")
    }

    static func line(_ comparison: Comparison) {
        let ours = format(comparison.ours, comparison.unit)
        let peer = comparison.peer.map { format($0, comparison.unit) } ?? "n/a"
        // A figure of 0 (no requests at all) has no finite ratio: say so rather than print inf.
        let ratio =
            comparison.ours == 0
            ? (comparison.peer.map { $0 > 0 ? "unbounded (ours is 0)" : "-" } ?? "-")
            : comparison.speedup.map { String(format: "%.2fx", $0) } ?? "-"
        say(
            pad(comparison.name, 48) + pad("ccorc " + ours, 22) + pad(comparison.peerName + " " + peer, 36)
                + "peer/ours " + ratio)
    }

    static func note(_ text: String) { say("   " + text) }

    static func format(_ value: Double, _ unit: String) -> String {
        switch unit {
        case "s":
            return value < 1e-3
                ? String(format: "%.1f µs", value * 1e6)
                : value < 1 ? String(format: "%.2f ms", value * 1e3) : String(format: "%.2f s", value)
        default: return String(format: "%.1f %@", value, unit)
        }
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
    }
}

/// Writes a line to stdout at once (print is block-buffered when stdout is not a terminal).
func say(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}

/// The median of a set of samples (seconds).
func median(_ samples: [Double]) -> Double {
    let sorted = samples.sorted()
    guard !sorted.isEmpty else { return .nan }
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Runs `body` `count` times and returns each run's wall time in seconds. Stops with
/// `BenchInterrupted` once the run has been interrupted.
func timeEach(_ count: Int, _ body: () throws -> Void) throws -> [Double] {
    var samples: [Double] = []
    samples.reserveCapacity(count)
    for _ in 0..<count {
        try BenchResources.shared.checkpoint()
        let start = DispatchTime.now().uptimeNanoseconds
        try body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return samples
}

/// Async variant of `timeEach`.
func timeEachAsync(_ count: Int, _ body: () async throws -> Void) async throws -> [Double] {
    var samples: [Double] = []
    samples.reserveCapacity(count)
    for _ in 0..<count {
        try BenchResources.shared.checkpoint()
        let start = DispatchTime.now().uptimeNanoseconds
        try await body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return samples
}
