import Foundation
import Glibc

/// `ccorc-bench [engine|tmux|exec|sessions|health|cleanup|cleanup-jobs|abi|all] [--containers N] [--sessions N]
/// [--jobs N] [--abi-sessions N] [--abi-calls N]`: prints each figure beside its peer. `all` leaves out the slow
/// `cleanup-jobs` sweep.
@main
struct BenchMain {
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        func takeCount(_ flag: String, default value: Int) -> Int {
            guard let index = arguments.firstIndex(of: flag), index + 1 < arguments.count, let count = Int(arguments[index + 1]) else {
                return value
            }
            arguments.removeSubrange(index...index + 1)
            return count
        }
        let containers = takeCount("--containers", default: 1000)
        let sessions = takeCount("--sessions", default: 1000)
        let cleanupJobs = takeCount("--jobs", default: 0)
        let abiSessions = takeCount("--abi-sessions", default: 100)
        let abiCalls = takeCount("--abi-calls", default: 1000)
        let suites = Set(arguments.isEmpty || arguments == ["all"] ? ["engine", "tmux", "exec", "sessions", "health", "cleanup", "abi"] : arguments)
        let binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        say("ccorc benchmarks: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Date())")
        do {
            if suites.contains("engine") { try await runEngineBenchmark(containerCount: containers) }
            if suites.contains("tmux") { try await runTmuxBenchmark() }
            if suites.contains("sessions") { try await runSessionBenchmark(binDirectory: binDirectory, sessionCount: sessions) }
            if suites.contains("cleanup") {
                try await runCleanupBenchmark(binDirectory: binDirectory, sessionCount: sessions, jobs: cleanupJobs > 0 ? cleanupJobs : nil, jobsSweep: false)
            }
            if suites.contains("cleanup-jobs") {
                try await runCleanupBenchmark(binDirectory: binDirectory, sessionCount: min(sessions, 300), jobs: nil, jobsSweep: true)
            }
            if suites.contains("health") { try await runHealthBenchmark(binDirectory: binDirectory, sessionCount: sessions) }
            if suites.contains("abi") { try await runABIBenchmark(binDirectory: binDirectory, sessionCount: abiSessions, calls: abiCalls) }
            if suites.contains("exec") { try await runExecBenchmark(ccdk: binDirectory + "/ccdk") }
        } catch {
            FileHandle.standardError.write(Data("ccorc-bench: \(error)\n".utf8))
            exit(1)
        }
    }
}
