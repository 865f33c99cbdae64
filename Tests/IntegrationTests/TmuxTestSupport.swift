import CCOrcKit
import Foundation
import Synchronization

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
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["tmux", "-L", name] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment.removeValue(forKey: "TMUX")
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
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
    func waitFor(timeout: Double = 5, _ predicate: (TmuxNotification) -> Bool) async -> TmuxNotification? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let match = notifications.first(where: predicate) { return match }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return nil
    }

    deinit { task.cancel() }
}

/// Polls `condition` every 20 ms for up to `timeout` seconds.
func eventually(timeout: Double = 5, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(timeout)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
