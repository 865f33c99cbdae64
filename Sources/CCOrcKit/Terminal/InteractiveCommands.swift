import Dispatch
import Glibc

/// What an interactive command in a container should look like.
public struct InteractiveOptions: Sendable {
    /// Give the remote process a TTY (and put the local terminal in raw mode).
    public var tty: Bool
    /// Forward local input.
    public var stdin: Bool
    /// The user to run as (exec only).
    public var user: String?
    /// The working directory (exec only).
    public var workingDirectory: String?
    /// Extra `KEY=VALUE` pairs (exec only).
    public var environment: [String] = []
    /// The detach sequence (TTY only).
    public var detachKeys: DetachKeys?

    /// Options with the given TTY and input settings.
    public init(tty: Bool, stdin: Bool, detachKeys: DetachKeys? = nil) {
        self.tty = tty
        self.stdin = stdin
        self.detachKeys = detachKeys
    }
}

extension EngineClient {
    /// Runs `command` in a running container with the local terminal attached, like `docker exec`.
    /// - Returns: the remote exit code, or nil when the user detached (the process goes on).
    /// - Throws: `EngineError` naming the container and the command that would start it when it is
    ///   stopped or missing.
    public func execInteractive(container: String, command: [String], options: InteractiveOptions) async throws -> Int?
    {
        var spec = ExecSpec(command: command)
        spec.tty = options.tty
        spec.attachStdin = options.stdin
        spec.user = options.user
        spec.workingDirectory = options.workingDirectory
        spec.environment = options.environment
        let execID: String
        do {
            execID = try await createExec(container, spec)
        } catch let error as EngineError where error.code == .conflict {
            throw EngineError(
                .conflict, "container \(container) is not running (start it with `ccdk start \(container)`)",
                status: error.status, operation: error.operation)
        } catch let error as EngineError where error.code == .notFound {
            throw EngineError(
                .notFound, "no such container \(container) (create it with `ccdk run -d \(container)`)",
                status: error.status, operation: error.operation)
        }
        let connection = try await startExec(execID, tty: options.tty)
        let outcome = try await pumpWithTerminal(connection, options: options) { rows, columns in
            try await self.resizeExec(execID, rows: rows, columns: columns)
        }
        return outcome == .detached ? nil : try await execExitCode(execID)
    }

    /// Attaches the local terminal to a container's main process, like `docker attach`.
    /// - Returns: the container's exit code, or nil when the user detached.
    public func attachInteractive(container: String, options: InteractiveOptions) async throws -> Int? {
        let details = try await inspectContainer(container)
        guard details.state.isUp else {
            throw EngineError(
                .conflict, "container \(details.name) is not running (start it with `ccdk start \(details.name)`)")
        }
        var options = options
        options.tty = details.tty
        let connection = try await attachContainer(details.id, stdin: options.stdin)
        let outcome = try await pumpWithTerminal(connection, options: options) { rows, columns in
            try await self.resizeContainer(details.id, rows: rows, columns: columns)
        }
        return outcome == .detached ? nil : try await waitContainer(details.id)
    }

    /// Creates, attaches to and starts a temporary container that is removed when it ends, like
    /// `docker run --rm -it`.
    /// - Returns: the container's exit code, or nil when the user detached.
    public func runInteractive(_ spec: ContainerSpec, options: InteractiveOptions) async throws -> Int? {
        var spec = spec
        spec.tty = options.tty
        spec.openStdin = options.stdin
        spec.stdinOnce = options.stdin
        spec.autoRemove = true
        let id = try await createContainer(spec)
        let connection: HijackedConnection
        do {
            connection = try await attachContainer(id, stdin: options.stdin)
        } catch {
            try? await removeContainer(id, force: true, volumes: true)
            throw error
        }
        // Ask for the exit code before starting, so that a fast exit and the removal cannot race it.
        let exitCode = Task { try await self.waitContainer(id, condition: "next-exit") }
        do {
            try await startContainer(id)
        } catch {
            exitCode.cancel()
            try? await removeContainer(id, force: true, volumes: true)
            throw error
        }
        let outcome = try await pumpWithTerminal(connection, options: options) { rows, columns in
            try await self.resizeContainer(id, rows: rows, columns: columns)
        }
        if outcome == .detached {
            exitCode.cancel()
            return nil
        }
        return try await exitCode.value
    }

    /// Pumps a stream with the local terminal in raw mode (for a TTY) and the remote size kept in
    /// step with the local one; the terminal is restored on every path out.
    private func pumpWithTerminal(
        _ connection: HijackedConnection, options: InteractiveOptions,
        resize: @escaping @Sendable (Int, Int) async throws -> Void
    ) async throws -> StreamOutcome {
        var pump = InteractiveStream(tty: options.tty, detachKeys: options.detachKeys)
        pump.input = options.stdin ? STDIN_FILENO : -1
        guard options.tty else { return try await pump.run(connection) }

        let raw = options.stdin && LocalTerminal.enterRawMode(STDIN_FILENO)
        defer { if raw { LocalTerminal.restore() } }
        @Sendable func sendSize() {
            if let size = LocalTerminal.size(STDOUT_FILENO) ?? LocalTerminal.size(STDIN_FILENO) {
                Task { try? await resize(size.rows, size.columns) }
            }
        }
        sendSize()
        signal(SIGWINCH, SIG_IGN)
        let windowChanges = DispatchSource.makeSignalSource(signal: SIGWINCH, queue: .global())
        windowChanges.setEventHandler(handler: sendSize)
        windowChanges.resume()
        defer { windowChanges.cancel() }
        return try await pump.run(connection)
    }
}
