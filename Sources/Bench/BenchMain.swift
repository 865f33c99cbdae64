import Foundation

/// `ccorc-bench [engine|tmux|all] [--containers N]`: prints each figure beside its peer.
@main
struct BenchMain {
    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var containers = 1000
        if let index = arguments.firstIndex(of: "--containers"), index + 1 < arguments.count, let count = Int(arguments[index + 1]) {
            containers = count
            arguments.removeSubrange(index...index + 1)
        }
        let suites = Set(arguments.isEmpty || arguments == ["all"] ? ["engine", "tmux"] : arguments)
        print("ccorc benchmarks: \(ProcessInfo.processInfo.activeProcessorCount) cores, \(Date())")
        do {
            if suites.contains("engine") { try await runEngineBenchmark(containerCount: containers) }
        } catch {
            FileHandle.standardError.write(Data("ccorc-bench: \(error)\n".utf8))
            exit(1)
        }
    }
}
