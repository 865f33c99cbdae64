import CCOrcKit
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Starts `arguments` with every signal at its default action and none blocked, stdin from `input`
/// or /dev/null, stdout to `output`, stderr to /dev/null, and `closing` closed in the child; its
/// environment is this process's with `environment` set over it.
///
/// Both halves matter for tmux: a blocked signal is inherited through exec (task threads block
/// SIGTERM, and a tmux server started with it blocked never exits on kill-server), and so is an
/// ignored one (a background job of a non-interactive shell starts with SIGINT ignored).
func spawnWithCleanSignals(
    _ arguments: [String], input: Int32?, output: Int32, closing: Int32?, environment: [String: String] = [:]
) -> Result<pid_t, TmuxError> {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let input {
        posix_spawn_file_actions_adddup2(&actions, input, 0)
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    posix_spawn_file_actions_adddup2(&actions, output, 1)
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
    if let closing { posix_spawn_file_actions_addclose(&actions, closing) }
    if input != output { posix_spawn_file_actions_addclose(&actions, output) }
    var attributes = posix_spawnattr_t()
    posix_spawnattr_init(&attributes)
    defer { posix_spawnattr_destroy(&attributes) }
    var noSignals = sigset_t()
    sigemptyset(&noSignals)
    var defaultSignals = sigset_t()
    sigfillset(&defaultSignals)
    sigdelset(&defaultSignals, SIGKILL)
    sigdelset(&defaultSignals, SIGSTOP)
    posix_spawnattr_setsigmask(&attributes, &noSignals)
    posix_spawnattr_setsigdefault(&attributes, &defaultSignals)
    posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
    let argv = arguments.map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    let envp: [UnsafeMutablePointer<CChar>?]? =
        environment.isEmpty
        ? nil
        : ProcessInfo.processInfo.environment.merging(environment) { $1 }.map { strdup("\($0.key)=\($0.value)") }
            + [nil]
    defer { envp?.forEach { free($0) } }
    var pid: pid_t = 0
    let status =
        envp.map { posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, $0) }
        ?? posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, environ)
    return status == 0
        ? .success(pid) : .failure(TmuxError(.spawnFailed, "cannot start \(arguments[0])", systemError: status))
}

/// Starts `tmux` processes the way a shell would (stdout read to its end), for the peer figures
/// and for the cleanup.
enum TmuxBenchProcess {
    /// Runs `arguments` to completion; returns what it printed on stdout.
    @discardableResult
    static func run(_ arguments: [String]) throws -> String {
        try runWithStatus(arguments).output
    }

    /// Runs `arguments` to completion; returns its exit status (128 + N for signal N) and stdout.
    static func runWithStatus(_ arguments: [String]) throws -> (status: Int32, output: String) {
        var pipeEnds: [Int32] = [-1, -1]
        guard pipe(&pipeEnds) == 0 else { throw TmuxError(.spawnFailed, "pipe", systemError: errno) }
        let spawned = spawnWithCleanSignals(arguments, input: nil, output: pipeEnds[1], closing: pipeEnds[0])
        close(pipeEnds[1])
        let pid: pid_t
        do {
            pid = try spawned.get()
        } catch {
            close(pipeEnds[0])
            throw error
        }
        let token = BenchResources.shared.track(pid: pid)
        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
            if count < 0 && errno == EINTR { continue }
            if count <= 0 { break }
            output += buffer[0..<count]
        }
        close(pipeEnds[0])
        let status = BenchResources.shared.reap(pid, token)
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, String(decoding: output, as: UTF8.self))
    }
}

/// Starts a program with its input empty and its output discarded; the caller waits for it.
func startQuietly(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Process {
    try BenchResources.shared.checkpoint()
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}

/// Runs a program with its output discarded; throws if its exit status is outside `accepting`.
/// The process is registered while it runs, so that an interrupted run stops it.
func runQuietly(
    _ path: String, _ arguments: [String], environment: [String: String] = [:], accepting: ClosedRange<Int32> = 0...0
) throws {
    let status = try runWithStatus(path, arguments, environment: environment)
    if !accepting.contains(status) {
        throw CommandFailed(description: "\(path) \(arguments.prefix(4).joined(separator: " ")) exited \(status)")
    }
}

/// Runs a program with its output discarded, registered while it runs (see `runQuietly`).
/// - Returns: its exit status.
func runWithStatus(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Int32 {
    let process = try startQuietly(path, arguments, environment: environment)
    let token = BenchResources.shared.track(pid: process.processIdentifier)
    process.waitUntilExit()
    BenchResources.shared.untrack(token)
    return process.terminationStatus
}

/// A peer command failed during a benchmark.
struct CommandFailed: Error, CustomStringConvertible {
    var description: String
}
