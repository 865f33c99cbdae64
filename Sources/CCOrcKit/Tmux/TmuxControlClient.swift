import Dispatch
import Synchronization

/// A tmux client that keeps one `tmux -C` control-mode connection open and talks the control
/// protocol over it, instead of starting a `tmux` process per command.
///
/// The connection is made lazily by the first call. It never creates a session by itself: when no
/// server listens on the socket, or the server has no session to attach to, queries answer "no
/// sessions" without starting one, and the first `newSession` starts the server (a plain
/// `tmux new-session -d` for exactly that session; the control client then attaches to it).
///
/// The control client attaches with the client flags `no-output,ignore-size`: a user's client keeps
/// its window size and pane output does not flood the pipe. tmux counts it in `session_attached`;
/// reported attached counts leave control-mode clients out.
///
/// When tmux ends the connection (the server exits, or the session the control client is attached
/// to is destroyed by someone else), a `.disconnected` notification is sent, commands in flight fail
/// with `.connectionLost`, and the next call reconnects once before failing. Queries that lose
/// their connection that way (`listSessions`, `hasSession`, `listPanes`, `displayMessage`) are
/// sent once more by themselves.
public final class TmuxControlClient: Sendable {
    /// The server this client talks to.
    public let server: TmuxServer
    /// The tmux executable: a path, or a name looked up in `PATH`.
    public let tmuxPath: String
    /// The socket path passed to tmux with `-S`.
    public let socketPath: String

    private enum ConnectOutcome: Sendable {
        case connected
        case noServer
        case failed(TmuxError)
    }

    private struct State {
        var connection: TmuxConnection?
        var connecting = false
        var connectWaiters: [CheckedContinuation<ConnectOutcome, Never>] = []
        var hasConnectedBefore = false
        var streams: [Int: AsyncStream<TmuxNotification>.Continuation] = [:]
        var nextStreamID = 0
        var subscriptions: [String: TmuxCommandLine] = [:]
        /// Connections that have served calls and have not yet ended.
        var installed: Set<ObjectIdentifier> = []
        var closed = false
    }

    private let state = Mutex(State())
    private let faults: FaultInjection

    /// One `killSessions` at a time. A kill that takes the session this control client is
    /// attached to first moves the client to a refuge chosen from a listing; a concurrent kill of
    /// that refuge would end the client (tmux's `detach-on-destroy`) and every command in flight
    /// on it.
    private let killOrder = AsyncLimiter(width: 1)

    /// A client for `server`; nothing is started until the first call.
    ///
    /// - Parameters:
    ///   - server: the default server, `-L NAME` or `-S PATH`.
    ///   - tmuxPath: the tmux executable, looked up in `PATH` when it has no `/`.
    ///   - faults: commands to fail on purpose, for tests (see `FaultInjection`); none by default.
    public init(server: TmuxServer = .default, tmuxPath: String = "tmux", faults: FaultInjection = FaultInjection()) {
        self.server = server
        self.faults = faults
        self.tmuxPath = tmuxPath
        self.socketPath = server.socketPath()
    }

    deinit {
        let (connection, streams) = state.withLock { ($0.connection, Array($0.streams.values)) }
        connection?.close()
        streams.forEach { $0.finish() }
    }

    // MARK: Notifications

    /// A new stream of everything tmux pushes (sessions appearing and disappearing, windows,
    /// subscriptions, `%exit`) plus `.disconnected`/`.reconnected`. Each access makes a new stream;
    /// every stream sees every notification from the moment it is made. The stream ends at `close()`.
    ///
    /// Up to 4,096 notifications are buffered per stream; older ones are dropped beyond that.
    public var notifications: AsyncStream<TmuxNotification> {
        let (stream, continuation) = AsyncStream<TmuxNotification>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        let id: Int? = state.withLock { state in
            guard !state.closed else { return nil }
            defer { state.nextStreamID += 1 }
            state.streams[state.nextStreamID] = continuation
            return state.nextStreamID
        }
        guard let id else {
            continuation.finish()
            return stream
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.streams.removeValue(forKey: id) }
        }
        return stream
    }

    private func broadcast(_ notification: TmuxNotification) {
        let streams = state.withLock { Array($0.streams.values) }
        for stream in streams { stream.yield(notification) }
    }

    // MARK: Sessions

    /// All sessions of the server (`list-sessions`), or none when no server is running.
    ///
    /// Attached counts are of clients not in control mode (`list-clients`, in the same round trip).
    public func listSessions() async throws -> [TmuxSession] {
        try await query {
            guard let connection = try await liveConnection() else { return [] }
            // The clients in the same round trip: other ccorc processes' control clients are
            // attached too, and are no more a user's than this one's.
            let replies = try await send(
                [
                    TmuxCommandLine("list-sessions", "-F", TmuxFormats.session),
                    TmuxCommandLine("list-clients", "-F", TmuxFormats.client),
                ], on: connection)
            try Self.requireSuccess(replies[0], "list-sessions")
            let terminals = replies[1].succeeded ? TmuxFormats.terminalClients(replies[1].lines) : nil
            // Read after the reply: notifications before it (a %session-changed) are already applied.
            let own = connection.attachedSessionID
            return try replies[0].lines.map { line in
                var session = try TmuxFormats.session(line, controlClientSessionID: own)
                if let terminals { session.attached = terminals[session.id] ?? 0 }
                return session
            }
        }
    }

    /// Whether a session with exactly this name exists; false when no server is running.
    ///
    /// - Throws: `.invalidName` for a name tmux forbids.
    public func hasSession(_ name: String) async throws -> Bool {
        try TmuxNames.validateSessionName(name)
        return try await query {
            guard let connection = try await liveConnection() else { return false }
            // The name back from display-message rather than has-session's status: with an exact
            // target tmux still resolves a name that matches a client to that client's session, and
            // display-message prints an empty name for a target that does not exist.
            let reply = try await send(
                [
                    TmuxCommandLine(
                        "display-message", "-p", "-t", TmuxTarget.session(name).rawValue, "--", "#{session_name}")
                ], on: connection)[0]
            try Self.requireSuccess(reply, "display-message")
            return reply.lines == [name]
        }
    }

    /// Creates a detached session (`new-session -d -P -F`); the first one starts the server, and
    /// no other session is ever created.
    ///
    /// - Returns: the new session as tmux reports it.
    /// - Throws: `.invalidName`, `.invalidArgument`, `.commandFailed` (for example "duplicate session").
    public func newSession(_ options: TmuxNewSessionOptions) async throws -> TmuxSession {
        try TmuxNames.validateSessionName(options.name)
        if let windowName = options.windowName { try TmuxNames.validateWindowName(windowName) }
        var arguments = ["-s", TmuxQuoting.formatLiteral(options.name)]
        if let windowName = options.windowName { arguments += ["-n", TmuxQuoting.formatLiteral(windowName)] }
        if let directory = options.workingDirectory { arguments += ["-c", TmuxQuoting.formatLiteral(directory)] }
        arguments += try Self.environmentArguments(options.environment)
        if let width = options.width { arguments += ["-x", String(width)] }
        if let height = options.height { arguments += ["-y", String(height)] }
        arguments += ["-P", "-F", TmuxFormats.session]
        let commandArguments = options.command.isEmpty ? [] : ["--"] + options.command
        let pipeCommand = TmuxCommandLine("new-session", ["-d"] + arguments + commandArguments)
        try pipeCommand.validate()

        // With no server (or no session) to attach to, a plain `tmux new-session -d` creates it, so
        // the first session is made exactly like the others (detached, default size) and the
        // control client attaches afterwards like any later connection.
        let creation = ["new-session", "-d"] + arguments + commandArguments
        switch try await obtainConnection(creating: creation) {
        case .existing(let connection):
            let reply = try await TmuxServerLock.around(socketPath: socketPath) {
                try await send([pipeCommand], on: connection)[0]
            }
            try Self.requireSuccess(reply, "new-session")
            guard let line = reply.lines.first else { throw TmuxError(.protocolError, "new-session printed nothing") }
            return try TmuxFormats.session(line, controlClientSessionID: nil)
        case .created(let line):
            return try TmuxFormats.session(line, controlClientSessionID: nil)
        }
    }

    /// Adds a window to a session (`new-window -P -F`).
    ///
    /// - Parameters:
    ///   - session: the session's exact name.
    ///   - options: name, command, directory, environment, position; by default the window does not
    ///     become current and takes the session's first free index. A position next to a window
    ///     names that window by id, which must be one of `session`'s.
    public func newWindow(
        session: String, _ options: TmuxNewWindowOptions = TmuxNewWindowOptions()
    ) async throws -> TmuxWindow {
        try TmuxNames.validateSessionName(session)
        if let name = options.name { try TmuxNames.validateWindowName(name) }
        var arguments = options.select ? [] : ["-d"]
        switch options.position {
        case .firstFreeIndex: arguments += ["-t", TmuxTarget.session(session).rawValue]
        case .after(let window): arguments += ["-a", "-t", TmuxTarget.id(window).rawValue]
        case .before(let window): arguments += ["-b", "-t", TmuxTarget.id(window).rawValue]
        }
        if let name = options.name { arguments += ["-n", TmuxQuoting.formatLiteral(name)] }
        if let directory = options.workingDirectory { arguments += ["-c", TmuxQuoting.formatLiteral(directory)] }
        arguments += try Self.environmentArguments(options.environment)
        arguments += ["-P", "-F", TmuxFormats.window]
        if !options.command.isEmpty { arguments += ["--"] + options.command }
        let reply = try await runOne(TmuxCommandLine("new-window", arguments))
        guard let line = reply.lines.first else { throw TmuxError(.protocolError, "new-window printed nothing") }
        return try TmuxFormats.window(line)
    }

    /// Kills a session.
    ///
    /// If it is the session this control client is attached to, the client first switches to
    /// another session (tmux's default `detach-on-destroy on` would otherwise end it); if it was the
    /// last session, the connection ends with it (and with it, normally, the server).
    ///
    /// - Throws: `.notFound` when no such session exists, `.serverNotRunning` when no server runs.
    public func killSession(_ name: String) async throws {
        let results = try await killSessions([name])
        if let error = results[name] ?? nil { throw error }
    }

    /// Kills several sessions in one round trip; returns each name's error, or nil where it succeeded.
    ///
    /// Invalid names are reported without being sent. The session this control client is attached
    /// to is handled as `killSession` describes.
    ///
    /// - Throws: only when the server cannot be reached at all.
    public func killSessions(_ names: [String]) async throws -> [String: TmuxError?] {
        var results: [String: TmuxError?] = [:]
        var valid: [String] = []
        for name in names {
            do {
                try TmuxNames.validateSessionName(name)
                if !valid.contains(name) { valid.append(name) }
            } catch let error as TmuxError {
                results[name] = error
            }
        }
        guard !valid.isEmpty else { return results }
        return try await killOrder.run { try await kill(valid, results: results) }
    }

    /// `killSessions` for valid names, one call at a time (see `killOrder`).
    private func kill(_ valid: [String], results: [String: TmuxError?]) async throws -> [String: TmuxError?] {
        var results = results
        guard let connection = try await liveConnection() else {
            for name in valid {
                results[name] = TmuxError(.serverNotRunning, "no tmux server is running on \(socketPath)")
            }
            return results
        }
        var commands: [(line: String, expectsExit: Bool)] = []
        var ordered = valid
        if let own = connection.attachedSessionName, let ownIndex = ordered.firstIndex(of: own) {
            let listing = try await send([TmuxCommandLine("list-sessions", "-F", "#{session_name}")], on: connection)[0]
            let doomed = Set(valid)
            if listing.succeeded, let refuge = listing.lines.first(where: { !doomed.contains($0) }) {
                commands.append(
                    (TmuxCommandLine("switch-client", "-t", TmuxTarget.session(refuge).rawValue).rendered, false))
            } else {
                // Nowhere to go: kill it last; tmux then ends this control client.
                ordered.remove(at: ownIndex)
                ordered.append(own)
            }
        }
        let switchCount = commands.count
        let lastSession = switchCount == 0 ? connection.attachedSessionName : nil
        for name in ordered {
            commands.append(
                (TmuxCommandLine("kill-session", "-t", TmuxTarget.session(name).rawValue).rendered, name == lastSession)
            )
        }
        let replies = try await TmuxServerLock.around(socketPath: socketPath) {
            try await submit(commands, on: connection)
        }
        for (offset, name) in ordered.enumerated() {
            let reply = replies[switchCount + offset]
            results[name] =
                reply.succeeded ? nil : TmuxError.fromReply(reply, command: commands[switchCount + offset].line)
        }
        if let lastSession, results[lastSession] == .some(nil) {
            // tmux ends this control client now; wait for it, so that the next call starts afresh
            // instead of writing to a connection that is going away.
            await connection.waitUntilEnded()
        }
        return results
    }

    /// Kills the server (`kill-server`) with all its sessions: only for a server the caller owns.
    /// Does nothing when no server is running.
    ///
    /// Returns once tmux has ended this control client: a tmux 3.3a server that is exiting waits
    /// for its control clients, and was seen to wait forever when the program that owned the pipe
    /// exited at once.
    public func killServer() async throws {
        guard let connection = try await liveConnection() else { return }
        _ = try await submit([(TmuxCommandLine("kill-server").rendered, true)], on: connection)
        await connection.waitUntilEnded()
    }

    // MARK: Panes

    /// All panes of all windows of a session (`list-panes -s`).
    ///
    /// - Throws: `.notFound` for a missing session, `.serverNotRunning` when no server runs.
    public func listPanes(session: String) async throws -> [TmuxPane] {
        try TmuxNames.validateSessionName(session)
        let reply = try await query {
            try await runOne(
                TmuxCommandLine("list-panes", "-s", "-t", TmuxTarget.session(session).rawValue, "-F", TmuxFormats.pane))
        }
        return try TmuxFormats.panes(reply.lines)
    }

    /// Every pane of every session (`list-panes -a`), by session id (`$N`); empty when no server
    /// runs.
    public func listAllPanes() async throws -> [String: [TmuxPane]] {
        let lines: [String]
        do {
            lines = try await query {
                try await runOne(TmuxCommandLine("list-panes", "-a", "-F", "#{session_id}\t" + TmuxFormats.pane))
            }.lines
        } catch let error as TmuxError where error.code == .serverNotRunning {
            return [:]
        }
        // A line that does not start with a session id continues the previous pane's command.
        var linesBySession: [String: [String]] = [:]
        var current: String?
        for line in lines {
            if line.hasPrefix("$"), let tab = line.firstIndex(of: "\t") {
                current = String(line[..<tab])
                linesBySession[current!, default: []].append(String(line[line.index(after: tab)...]))
            } else if let current {
                linesBySession[current, default: []].append(line)
            }
        }
        return try linesBySession.mapValues(TmuxFormats.panes)
    }

    /// Sends keys to a pane (`send-keys`).
    ///
    /// - Parameters:
    ///   - target: the pane (`%N`), window, or `.session(name)` for its active pane.
    ///   - keys: key names such as `Enter` and `C-c`, or with `literal` text sent as is.
    ///   - literal: passes `-l`, so that keys are text rather than key names.
    public func sendKeys(target: TmuxTarget, keys: [String], literal: Bool = false) async throws {
        let arguments = ["-t", target.rawValue] + (literal ? ["-l"] : []) + ["--"] + keys
        _ = try await runOne(TmuxCommandLine("send-keys", arguments))
    }

    /// The visible contents of a pane (`capture-pane -p`), one line per screen line.
    ///
    /// - Parameters:
    ///   - target: the pane.
    ///   - startLine: the first line to capture; negative numbers reach into the history, nil is
    ///     the top of the visible screen.
    public func capturePane(target: TmuxTarget, startLine: Int? = nil) async throws -> String {
        var arguments = ["-p", "-t", target.rawValue]
        if let startLine { arguments += ["-S", String(startLine)] }
        return try await runOne(TmuxCommandLine("capture-pane", arguments)).text
    }

    /// Sets an option (`set-option`).
    ///
    /// - Parameters:
    ///   - name: the option name.
    ///   - value: its value, passed literally (no format expansion).
    ///   - scope: server, session, window or pane option.
    ///   - target: what it applies to; nil is the current session or window of this control
    ///     client, so pass a target unless `global` is set.
    ///   - global: sets the global value (`-g`) instead of one target's.
    public func setOption(
        _ name: String, value: String, scope: TmuxOptionScope = .session, target: TmuxTarget? = nil,
        global: Bool = false
    ) async throws {
        var arguments: [String] = []
        switch scope {
        case .server: arguments.append("-s")
        case .session: break
        case .window: arguments.append("-w")
        case .pane: arguments.append("-p")
        }
        if global { arguments.append("-g") }
        if let target { arguments += ["-t", target.rawValue] }
        arguments += ["--", name, value]
        _ = try await runOne(TmuxCommandLine("set-option", arguments))
    }

    /// Expands a format for a target (`display-message -p`), the cheapest single-target query.
    ///
    /// tmux's `display-message` does not fail for a target that does not exist: it expands the
    /// format with empty values. The session id is therefore asked for in front of the format, and
    /// an empty one means the target is missing.
    ///
    /// - Throws: `.notFound` when the target does not exist.
    public func displayMessage(target: TmuxTarget, format: String) async throws -> String {
        let command = TmuxCommandLine("display-message", "-p", "-t", target.rawValue, "--", "#{session_id}:" + format)
        let text = try await query { try await runOne(command) }.text
        guard text.hasPrefix("$"), let colon = text.firstIndex(of: ":") else {
            throw TmuxError(.notFound, "can't find \(target.rawValue)", command: command.rendered)
        }
        return String(text[text.index(after: colon)...])
    }

    // MARK: Subscriptions

    /// Subscribes to a format (`refresh-client -B NAME:TARGET:FORMAT`, tmux 3.2+); changes arrive as
    /// `.subscriptionChanged`. Subscriptions are renewed after a reconnection.
    ///
    /// tmux 3.3a checks subscriptions once a second and only in the session this control client is
    /// attached to: `TARGET` is `""` for that session, `%N`/`@N` for one of its panes or windows, or
    /// `%*`/`@*` for all of them. To watch every session, subscribe to a format that loops over
    /// them, such as `#{S:#{session_name}=#{session_windows} }`. For sub-millisecond events use the
    /// notifications (`%sessions-changed`, `%window-close`, …), which tmux sends at once.
    ///
    /// - Throws: `.invalidArgument` for a name that is empty or contains `:` or a space.
    public func subscribe(name: String, target: String = "", format: String) async throws {
        guard !name.isEmpty, !name.contains(":"), !name.contains(" "), !target.contains(":") else {
            throw TmuxError(
                .invalidArgument,
                "subscription name \(name.debugDescription) or target \(target.debugDescription) cannot be used (no ':' or spaces)"
            )
        }
        let command = TmuxCommandLine("refresh-client", "-B", "\(name):\(target):\(format)")
        try command.validate()
        state.withLock { $0.subscriptions[name] = command }
        _ = try await runOne(command)
    }

    /// Ends a subscription (`refresh-client -B NAME`).
    public func unsubscribe(name: String) async throws {
        state.withLock { _ = $0.subscriptions.removeValue(forKey: name) }
        _ = try await runOne(TmuxCommandLine("refresh-client", "-B", name))
    }

    // MARK: Raw commands

    /// Runs commands pipelined: all are written before any reply is read, and the replies come back
    /// in order. A command tmux rejects gives a reply with `succeeded == false`, not an error.
    ///
    /// - Throws: `.serverNotRunning` when no server runs, `.connectionLost` if tmux goes away,
    ///   `.invalidArgument` for a command that cannot be written.
    public func run(_ commands: [TmuxCommandLine]) async throws -> [TmuxReply] {
        for command in commands { try command.validate() }
        guard let connection = try await liveConnection() else {
            throw TmuxError(.serverNotRunning, "no tmux server with a session is running on \(socketPath)")
        }
        return try await send(commands, on: connection)
    }

    /// Runs commands pipelined and waits on the calling thread; for code that is not async.
    @available(*, noasync, message: "use run(_:) from async code")
    public func runBlocking(_ commands: [TmuxCommandLine]) throws -> [TmuxReply] {
        let box = Mutex<Result<[TmuxReply], any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task {
            let result: Result<[TmuxReply], any Error>
            do { result = .success(try await self.run(commands)) } catch { result = .failure(error) }
            box.withLock { $0 = result }
            done.signal()
        }
        done.wait()
        return try box.withLock { $0! }.get()
    }

    /// The name of the session this client's control connection is attached to, if connected.
    public var attachedSessionName: String? {
        state.withLock { $0.connection }?.attachedSessionName
    }

    /// Closes the connection and ends the notification streams; later calls fail with `.closed`.
    public func close() {
        let (connection, streams) = state.withLock { state in
            state.closed = true
            defer { state.streams = [:] }
            return (state.connection, Array(state.streams.values))
        }
        connection?.close()
        streams.forEach { $0.finish() }
    }

    // MARK: Connection management

    private enum Obtained {
        case existing(TmuxConnection)
        /// A session was created by a separate `tmux new-session`; its `-P -F` line.
        case created(String)
    }

    /// Runs a query, and once more when the connection it went out on ended before the reply: tmux
    /// ends this control client when a kill (from another task, on the same client) takes the last
    /// session, and a command written after that kill is never answered. A query changes nothing,
    /// so it is safe to send again; the second answer comes from a new connection, or from the
    /// absence of a server.
    private func query<Result>(_ body: () async throws -> Result) async throws -> Result {
        do {
            return try await body()
        } catch let error as TmuxError where error.code == .connectionLost {
            return try await body()
        }
    }

    /// Runs one command and throws tmux's `%error` as a `TmuxError`.
    private func runOne(_ command: TmuxCommandLine) async throws -> TmuxReply {
        try command.validate()
        guard let connection = try await liveConnection() else {
            throw TmuxError(
                .serverNotRunning, "no tmux server with a session is running on \(socketPath)",
                command: command.rendered)
        }
        let reply = try await send([command], on: connection)[0]
        try Self.requireSuccess(reply, command.rendered)
        return reply
    }

    private func send(_ commands: [TmuxCommandLine], on connection: TmuxConnection) async throws -> [TmuxReply] {
        try await submit(commands.map { ($0.rendered, false) }, on: connection)
    }

    private func submit(
        _ commands: [(line: String, expectsExit: Bool)], on connection: TmuxConnection
    ) async throws -> [TmuxReply] {
        try injectFault(commands.map(\.line).joined(separator: "; "))
        return try await withCheckedThrowingContinuation { continuation in
            connection.submit(commands) { continuation.resume(with: $0) }
        }
    }

    /// Fails a command that a test asked to fail, as tmux's own error would (see `FaultInjection`).
    private func injectFault(_ command: @autoclosure () -> String) throws {
        if let message = faults.failure(of: .tmux, command()) {
            throw TmuxError(.commandFailed, message, command: command())
        }
    }

    private static func requireSuccess(_ reply: TmuxReply, _ command: String) throws {
        if !reply.succeeded { throw TmuxError.fromReply(reply, command: command) }
    }

    private static func environmentArguments(_ environment: [String: String]) throws -> [String] {
        var arguments: [String] = []
        for (name, value) in environment.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty, !name.contains("=") else {
                throw TmuxError(.invalidArgument, "environment variable name \(name.debugDescription) is not usable")
            }
            arguments += ["-e", name + "=" + value]
        }
        return arguments
    }

    /// The live connection, connecting once if there is none; nil when no server (or no session)
    /// exists, which is an answer rather than an error for queries.
    private func liveConnection() async throws -> TmuxConnection? {
        do {
            switch try await obtainConnection(creating: nil) {
            case .existing(let connection): return connection
            case .created: return nil
            }
        } catch is NoServer {
            return nil
        }
    }

    /// Returns the live connection or makes one. With `creating`, a missing server or session is
    /// resolved by running that `new-session -d` first.
    private func obtainConnection(creating startUp: [String]?) async throws -> Obtained {
        while true {
            enum Step {
                case use(TmuxConnection)
                case wait, connect, closed
            }
            let step: Step = state.withLock { state in
                if state.closed { return .closed }
                if let connection = state.connection, connection.isAlive { return .use(connection) }
                if state.connecting { return .wait }
                state.connecting = true
                return .connect
            }
            switch step {
            case .closed:
                throw TmuxError(.closed, "the tmux client was closed")
            case .use(let connection):
                return .existing(connection)
            case .wait:
                let outcome = await withCheckedContinuation { continuation in
                    state.withLock { $0.connectWaiters.append(continuation) }
                }
                switch outcome {
                case .connected: continue
                case .failed(let error): throw error
                case .noServer:
                    if startUp == nil { throw NoServer() }
                    continue
                }
            case .connect:
                let result: Obtained?
                do {
                    result = try await TmuxServerLock.around(socketPath: socketPath) {
                        try await connect(creating: startUp)
                    }
                } catch {
                    let failure = error as? TmuxError ?? TmuxError(.connectionLost, "\(error)")
                    finishConnecting(.failed(failure))
                    throw failure
                }
                finishConnecting(result == nil ? .noServer : .connected)
                guard let result else { throw NoServer() }
                return result
            }
        }
    }

    /// Thrown inside `obtainConnection` when there is nothing to attach to; callers see `nil`.
    private struct NoServer: Error {}

    private func finishConnecting(_ outcome: ConnectOutcome) {
        let waiters = state.withLock { state in
            state.connecting = false
            defer { state.connectWaiters = [] }
            return state.connectWaiters
        }
        waiters.forEach { $0.resume(returning: outcome) }
    }

    /// One connection attempt: attach to an existing session, or, when `creation` is given and there
    /// is nothing to attach to, run that `new-session -d` as its own `tmux` process (which starts the
    /// server) and attach to the session it made.
    private func connect(creating creation: [String]?) async throws -> Obtained? {
        try server.validate()
        if TmuxSocketProbe.isListening(at: socketPath) {
            do {
                let (connection, _) = try await open(["attach-session", "-f", "no-output,ignore-size"])
                return .existing(connection)
            } catch let error as TmuxError where error.code == .serverNotRunning {
                // No session to attach to, most likely a server exiting with its last session: a
                // session to be made goes to the next server, once this one has stopped listening.
                if creation != nil { await waitUntilServerStopsListening() }
            } catch let error as TmuxError where error.code == .connectionLost {
                // A server whose last session just closed accepts the attach, then exits ("server
                // exited unexpectedly"): fall through once it has stopped listening.
                await waitUntilServerStopsListening()
            }
        }
        guard let creation else { return nil }
        try server.prepareSocketDirectory()
        try injectFault((["tmux"] + creation).joined(separator: " "))
        let arguments = ["-S", socketPath, "-u"] + creation.map(TmuxQuoting.argumentVectorWord)
        var result = try await TmuxChildProcess.run(executable: tmuxPath, arguments: arguments)
        if result.status != 0 && result.errorOutput.contains("server exited unexpectedly") {
            // It reached a server on its way out, after the probe above: once more, on a new one.
            await waitUntilServerStopsListening()
            result = try await TmuxChildProcess.run(executable: tmuxPath, arguments: arguments)
        }
        guard result.status == 0 else {
            let message =
                result.errorOutput.isEmpty ? "tmux new-session exited with status \(result.status)" : result.errorOutput
            throw TmuxError(.commandFailed, message, command: (["tmux"] + creation).joined(separator: " "))
        }
        guard let line = result.output.split(separator: "\n").first.map(String.init) else {
            // tmux exits 0 when it cannot create a `-S` socket, and says why on stderr.
            let reason = result.errorOutput.trimmingWhitespaceAndNewlines()
            throw TmuxError(
                .protocolError,
                reason.isEmpty ? "new-session printed nothing" : "new-session printed nothing: \(reason)")
        }
        // Attach now so that notifications flow; if the session is already gone (its command
        // ended), the next call connects again.
        let name = try TmuxFormats.session(line, controlClientSessionID: nil).name
        _ = try? await open(["attach-session", "-t", TmuxTarget.session(name).rawValue, "-f", "no-output,ignore-size"])
        return .created(line)
    }

    /// Waits, up to a second, until nothing listens on the socket: a server that has lost its
    /// last session keeps listening for a moment while it exits.
    private func waitUntilServerStopsListening() async {
        let deadline = ContinuousClock.now + .seconds(1)
        while TmuxSocketProbe.isListening(at: socketPath) && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private func open(_ command: [String]) async throws -> (TmuxConnection, TmuxConnection.Handshake) {
        let (connection, handshake) = try await TmuxConnection.open(
            executable: tmuxPath,
            arguments: ["-S", socketPath, "-u", "-C"] + command,
            onNotification: { [weak self] in self?.broadcast($0) },
            onEnd: { [weak self] connection, error in self?.connectionEnded(connection, error) })
        let (wasConnected, subscriptions, closed) = state.withLock { state in
            state.connection = connection
            state.installed.insert(ObjectIdentifier(connection))
            defer { state.hasConnectedBefore = true }
            return (state.hasConnectedBefore, Array(state.subscriptions.values), state.closed)
        }
        if closed { connection.close() }
        if !subscriptions.isEmpty {
            connection.submit(subscriptions.map { ($0.rendered, false) }) { _ in }
        }
        if wasConnected { broadcast(.reconnected) }
        return (connection, handshake)
    }

    private func connectionEnded(_ connection: TmuxConnection, _ error: TmuxError) {
        let wasInstalled = state.withLock { state in
            if state.connection === connection { state.connection = nil }
            return state.installed.remove(ObjectIdentifier(connection)) != nil
        }
        if wasInstalled && error.code != .closed { broadcast(.disconnected(error)) }
    }
}
