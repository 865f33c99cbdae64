import Foundation
import Synchronization

@testable import CCOrcKit

/// A private tmux server for one test (`tmux -L ccorc-test-…`), with a plain `tmux` command line
/// beside the control client to check what tmux really holds. The server is killed at the end.
struct TmuxTestServer {
    let name: String
    let server: TmuxServer

    init() {
        name = "ccorc-test-\(getpid())-\(UUID().uuidString.prefix(8))"
        server = .named(name)
    }

    /// Runs `tmux -L NAME ARGUMENTS` as its own process; returns status and stdout.
    @discardableResult
    func tmux(_ arguments: String...) throws -> (status: Int32, output: String) {
        try tmux(arguments)
    }

    @discardableResult
    func tmux(_ arguments: [String]) throws -> (status: Int32, output: String) {
        // A file, not a pipe, for stdout: a server started by this command keeps inherited
        // descriptors, and a pipe would not reach its end until the server exits.
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent(
            "ccorc-tmux-out-\(UUID().uuidString)"
        ).path
        defer { unlink(outputPath) }
        let pid = try tmuxSpawnWithCleanSignals(["tmux", "-L", name] + arguments, stdoutPath: outputPath)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let data = FileManager.default.contents(atPath: outputPath) ?? Data()
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return (exitStatus, String(decoding: data, as: UTF8.self))
    }

    /// Session names as a separate `tmux list-sessions` sees them; empty when no server runs.
    func sessionNames() throws -> [String] {
        let result = try tmux("list-sessions", "-F", "#{session_name}")
        guard result.status == 0 else { return [] }
        return result.output.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init)
    }

    /// Whether a server answers on this test's socket.
    func isRunning() throws -> Bool {
        try tmux("list-sessions").status == 0 || (try tmux("show-options", "-g", "-s", "escape-time").status == 0)
    }

    /// Kills the server if it runs and removes its socket file.
    func cleanUp() {
        _ = try? tmux("kill-server")
        unlink(server.socketPath())
    }

    /// Runs `body` with a fresh client on this server, then closes it and kills the server.
    static func with(_ body: (TmuxTestServer, TmuxControlClient) async throws -> Void) async throws {
        let test = TmuxTestServer()
        let client = TmuxControlClient(server: test.server)
        do {
            try await body(test, client)
        } catch {
            client.close()
            test.cleanUp()
            throw error
        }
        client.close()
        test.cleanUp()
    }
}

/// Collects notifications from a stream in the background, for assertions.
final class TmuxNotificationRecorder: Sendable {
    private final class Log: Sendable {
        let entries = Mutex<[(Date, TmuxNotification)]>([])
    }
    private let log = Log()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<TmuxNotification>) {
        let log = self.log
        task = Task {
            for await notification in stream {
                log.entries.withLock { $0.append((Date(), notification)) }
            }
        }
    }

    var notifications: [TmuxNotification] { log.entries.withLock { $0.map(\.1) } }

    /// Waits up to `timeout` seconds for a notification matching `predicate`.
    func waitFor(timeout: Double = 30, _ predicate: (TmuxNotification) -> Bool) async -> TmuxNotification? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let match = notifications.first(where: predicate) { return match }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return notifications.first(where: predicate)
    }

    deinit { task.cancel() }
}

/// Polls `condition` every 20 ms for up to `timeout` seconds.
func tmuxEventually(timeout: Double = 5, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}

/// Starts a process with an empty signal mask and default signal actions, stdin from `stdinDescriptor`
/// (or /dev/null), stdout to `stdoutPath` and stderr to `stderrPath` (each /dev/null when nil).
///
/// Foundation's `Process` passes on the signal mask of the calling thread, where test threads
/// block SIGTERM: a tmux server started that way never exits on `kill-server` (which is SIGTERM).
func tmuxSpawnWithCleanSignals(
    _ arguments: [String], stdoutPath: String? = nil, stderrPath: String? = nil, stdinDescriptor: Int32? = nil
) throws -> pid_t {
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    if let stdinDescriptor {
        posix_spawn_file_actions_adddup2(&actions, stdinDescriptor, 0)
    } else {
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
    }
    posix_spawn_file_actions_addopen(&actions, 1, stdoutPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    posix_spawn_file_actions_addopen(&actions, 2, stderrPath ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o600)
    var attributes = cleanSignalSpawnAttributes(ownProcessGroup: false)
    defer { posix_spawnattr_destroy(&attributes) }
    var environment = ProcessInfo.processInfo.environment
    environment.removeValue(forKey: "TMUX")
    environment["TERM"] = environment["TERM"] ?? "xterm"
    let argv = arguments.map { strdup($0) } + [nil]
    let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
        argv.forEach { free($0) }
        envp.forEach { free($0) }
    }
    var pid: pid_t = 0
    let status = posix_spawnp(&pid, arguments[0], &actions, &attributes, argv, envp)
    guard status == 0 else { throw TmuxError(.spawnFailed, "cannot start \(arguments[0])", systemError: status) }
    return pid
}
