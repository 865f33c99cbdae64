// Exec and attach endpoints: /containers/{id}/exec, /exec/{id}/start, /exec/{id}/resize,
// /exec/{id}/json, /containers/{id}/attach, /containers/{id}/resize.

/// A command to run inside a running container (`POST /containers/{id}/exec`).
public struct ExecSpec: Sendable {
    /// The command and its arguments.
    public var command: [String]
    /// Allocate a pseudo-terminal.
    public var tty = false
    /// Connect the caller's input.
    public var attachStdin = false
    /// `KEY=VALUE` pairs added to the container's environment.
    public var environment: [String] = []
    /// The user to run as; nil uses the container's.
    public var user: String?
    /// The working directory; nil uses the container's.
    public var workingDirectory: String?

    /// A spec for `command`; set the other properties as needed.
    public init(command: [String]) {
        self.command = command
    }

    var json: JSONValue {
        var body: [String: JSONValue] = [
            "Cmd": JSONValue(strings: command), "Tty": .bool(tty), "AttachStdin": .bool(attachStdin),
            "AttachStdout": true, "AttachStderr": true,
        ]
        if !environment.isEmpty { body["Env"] = JSONValue(strings: environment) }
        if let user { body["User"] = .string(user) }
        if let workingDirectory { body["WorkingDir"] = .string(workingDirectory) }
        return .object(body)
    }
}

/// The state of an exec instance (`GET /exec/{id}/json`).
public struct ExecState: Sendable {
    /// Whether the command is still running.
    public var running: Bool
    /// Its exit code once it ended; nil while running.
    public var exitCode: Int?
    /// Its pid on the host.
    public var pid: Int
}

extension EngineClient {
    /// Creates an exec instance in a running container and returns its ID.
    public func createExec(_ container: String, _ spec: ExecSpec) async throws -> String {
        let reply = try await json(.post, "/containers/\(pathSegment(container))/exec", body: spec.json)
        guard let id = reply["Id"]?.string else {
            throw EngineError(
                .malformedReply, "exec create reply without an Id", operation: "POST /containers/{id}/exec")
        }
        return id
    }

    /// Starts an exec instance and returns the raw stream to and from its process
    /// (`POST /exec/{id}/start`, upgraded). Without a TTY the output is multiplexed
    /// (see `StreamDemultiplexer`).
    /// - Parameter setupTimeout: seconds until the engine must have switched protocols; the stream
    ///   itself has no timeout.
    public func startExec(
        _ execID: String, tty: Bool, setupTimeout: Double = HijackedConnection.defaultSetupTimeout
    ) async throws -> HijackedConnection {
        let body: JSONValue = ["Detach": false, "Tty": .bool(tty)]
        return try await hijack(
            .post, "/exec/\(pathSegment(execID))/start", body: body.serializedBytes(), setupTimeout: setupTimeout)
    }

    /// Reads an exec instance's state (`GET /exec/{id}/json`).
    public func inspectExec(_ execID: String) async throws -> ExecState {
        let reply = try await json(.get, "/exec/\(pathSegment(execID))/json")
        guard let running = reply["Running"]?.bool else {
            throw EngineError(.malformedReply, "exec inspect reply without Running", operation: "GET /exec/{id}/json")
        }
        return ExecState(
            running: running, exitCode: running ? nil : reply["ExitCode"]?.int.map(Int.init),
            pid: Int(reply["Pid"]?.int ?? 0))
    }

    /// Waits until an exec instance has ended and returns its exit code; its stream having ended,
    /// the engine records the code within moments.
    public func execExitCode(_ execID: String) async throws -> Int {
        for attempt in 0..<200 {
            let state = try await inspectExec(execID)
            if !state.running, let code = state.exitCode { return code }
            try await Task.sleep(for: .milliseconds(attempt < 20 ? 1 : 10))
        }
        throw EngineError(
            .server, "exec \(execID.prefix(12)) still running after its stream ended", operation: "GET /exec/{id}/json")
    }

    /// Sets an exec instance's terminal size (`POST /exec/{id}/resize`).
    public func resizeExec(_ execID: String, rows: Int, columns: Int) async throws {
        _ = try await send(
            .post, "/exec/\(pathSegment(execID))/resize", query: [("h", String(rows)), ("w", String(columns))])
    }

    /// Attaches to a container's main process (`POST /containers/{id}/attach`, upgraded).
    /// - Parameters:
    ///   - logs: also replay what it printed before.
    ///   - setupTimeout: seconds until the engine must have switched protocols; the stream itself
    ///     has no timeout.
    public func attachContainer(
        _ container: String, stdin: Bool, logs: Bool = false,
        setupTimeout: Double = HijackedConnection.defaultSetupTimeout
    ) async throws -> HijackedConnection {
        let query = try await path(
            "/containers/\(pathSegment(container))/attach",
            query: [
                ("stream", "1"), ("stdin", EngineClient.flag(stdin)), ("stdout", "1"), ("stderr", "1"),
                ("logs", EngineClient.flag(logs)),
            ], versioned: true)
        return try await hijack(.post, query, body: nil, prebuilt: true, setupTimeout: setupTimeout)
    }

    /// Sets a container's terminal size (`POST /containers/{id}/resize`).
    public func resizeContainer(_ container: String, rows: Int, columns: Int) async throws {
        _ = try await send(
            .post, "/containers/\(pathSegment(container))/resize", query: [("h", String(rows)), ("w", String(columns))])
    }

    private func hijack(
        _ method: Method, _ path: String, body: [UInt8]?, prebuilt: Bool = false, setupTimeout: Double
    ) async throws -> HijackedConnection {
        let fullPath = prebuilt ? path : try await self.path(path, query: [], versioned: true)
        do {
            return try HijackedConnection(
                endpoint: transport.endpoint, library: transport.library, method: method.rawValue, path: fullPath,
                body: body,
                setupTimeout: setupTimeout)
        } catch let error as TransportError {
            throw classify(error, operation: "\(method.rawValue) \(path)")
        }
    }
}
