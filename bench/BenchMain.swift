import Foundation
import Glibc

/// `ccorc-bench [SUITE...] [options]`: prints each figure beside its peer (`--help` lists the
/// suites and options). Whatever a run starts is removed when it ends, fails or is interrupted.
@main
struct BenchMain {
    static func main() async {
        let options: BenchOptions
        switch BenchOptions.parse(Array(CommandLine.arguments.dropFirst())) {
        case .help:
            print(BenchOptions.usage)
            exit(0)
        case .usageError(let message):
            printToStandardError("ccorc-bench: \(message)")
            exit(2)
        case .run(let parsed):
            options = parsed
        }
        let resources = BenchResources.shared
        resources.installSignalHandlers()
        let suites = options.suites
        let binDirectory = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().path
        say("ccorc benchmarks: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Date())")
        do {
            if suites.contains("engine") { try await runEngineBenchmark(containerCount: options.containers) }
            if suites.contains("tmux") { try await runTmuxBenchmark() }
            if suites.contains("sessions") {
                try await runSessionBenchmark(binDirectory: binDirectory, sessionCount: options.sessions)
            }
            if suites.contains("cleanup") {
                try await runCleanupBenchmark(
                    binDirectory: binDirectory, sessionCount: options.sessions, jobs: options.jobs, jobsSweep: false)
            }
            if suites.contains("cleanup-jobs") {
                try await runCleanupBenchmark(
                    binDirectory: binDirectory, sessionCount: min(options.sessions, 300), jobs: nil, jobsSweep: true)
            }
            if suites.contains("cleanup-crash") {
                try await runCleanupCrashCheck(
                    binDirectory: binDirectory, sessionCount: options.crashSessions, rounds: options.crashRounds,
                    killAfter: options.crashAfter)
            }
            if suites.contains("health") {
                try await runHealthBenchmark(binDirectory: binDirectory, sessionCount: options.sessions)
            }
            if suites.contains("watch") {
                try await runWatchBenchmark(
                    binDirectory: binDirectory, sessionCount: options.sessions, seconds: options.watchSeconds,
                    rounds: options.watchRounds)
            }
            if suites.contains("abi") {
                try await runABIBenchmark(
                    binDirectory: binDirectory, sessionCount: options.abiSessions, calls: options.abiCalls)
            }
            if suites.contains("exec") { try await runExecBenchmark(ccdk: binDirectory + "/ccdk") }
            if suites.contains("engines") {
                try await runEnginesBenchmark(binDirectory: binDirectory, sessionsPerEngine: options.engineSessions)
            }
            if suites.contains("move") { try await runMoveBenchmark(binDirectory: binDirectory) }
        } catch {
            // After a signal the suite's error is only the interruption, already reported.
            if resources.stopSignal == nil { printToStandardError("ccorc-bench: \(error)") }
            await resources.cleanUp()
            resources.exit(1)
        }
        await resources.cleanUp()
        resources.exit(0)
    }
}
