import Foundation
import Glibc

/// `ccorc-bench [engine|tmux|exec|sessions|all] [--containers N]`: prints each figure beside its peer.
@main
struct BenchMain {
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var containers = 1000
        if let index = arguments.firstIndex(of: "--containers"), index + 1 < arguments.count, let count = Int(arguments[index + 1]) {
            containers = count
            arguments.removeSubrange(index...index + 1)
        }
        let suites = Set(arguments.isEmpty || arguments == ["all"] ? ["engine", "tmux", "exec", "sessions"] : arguments)
        let binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        say("ccorc benchmarks: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Date())")
        do {
            if suites.contains("engine") { try await runEngineBenchmark(containerCount: containers) }
            if suites.contains("tmux") { try await runTmuxBenchmark() }
            if suites.contains("sessions") { try await runSessionBenchmark(binDirectory: binDirectory, sessionCount: containers) }
            if suites.contains("exec") { try await runExecBenchmark(ccdk: binDirectory + "/ccdk") }
        } catch {
            FileHandle.standardError.write(Data("ccorc-bench: \(error)\n".utf8))
            exit(1)
        }
    }
}
