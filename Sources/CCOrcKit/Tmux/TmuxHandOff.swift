#if canImport(Glibc)
    import Glibc
#endif

/// How a command gives the user's terminal to a tmux session: by moving the tmux client it runs in,
/// or by attaching a new client on the terminal.
///
/// `switch-client` only works for a client of the server that holds the session: typed in a pane of
/// another server (the user's own tmux while ccorc uses `CCORC_TMUX_SERVER`, or the other way
/// round) it finds no client and fails with "no current client". There the new client is nested
/// inside the outer one instead, as `TMUX= tmux attach` does.
public enum TmuxHandOff: Equatable, Sendable {
    /// The terminal is a client of the session's server: move that client to the session.
    case switchClient
    /// Attach a new client on the terminal (nested when the terminal is a pane of another server),
    /// with `TMUX` and `TMUX_PANE` removed from its environment so that tmux does not refuse to nest.
    case attach

    /// Decides how to reach a session on the server listening at `serverSocket` from a terminal
    /// whose environment holds `tmuxVariable` (`$TMUX`).
    ///
    /// - Parameters:
    ///   - tmuxVariable: `$TMUX` (`SOCKET,PID,SESSION`); nil or empty outside tmux.
    ///   - serverSocket: the socket path of the server holding the session (`TmuxServer.socketPath`).
    ///   - sameSocket: whether two socket paths name the same socket; `sameFile` by default, so that
    ///     two spellings of one path (a relative `-S`, a symbolic link) count as one server.
    public static func choose(
        tmuxVariable: String?, serverSocket: String, sameSocket: (String, String) -> Bool = sameFile
    ) -> TmuxHandOff {
        guard let client = clientSocket(tmuxVariable: tmuxVariable) else { return .attach }
        return sameSocket(client, serverSocket) ? .switchClient : .attach
    }

    /// The socket path of the server whose client `$TMUX` describes, nil outside tmux. tmux writes
    /// `$TMUX` as the socket path, the server's pid and the session's index joined by commas; the
    /// path itself may contain commas, so the last two fields are the ones dropped.
    public static func clientSocket(tmuxVariable: String?) -> String? {
        guard let value = tmuxVariable, !value.isEmpty else { return nil }
        var fields = value.split(separator: ",", omittingEmptySubsequences: false)
        if fields.count >= 3 { fields.removeLast(2) }
        let path = fields.joined(separator: ",")
        return path.isEmpty ? nil : path
    }

    /// tmux's subcommand and arguments for handing the terminal to `session`.
    public func arguments(session: String) -> [String] {
        let target = TmuxTarget.session(session).rawValue
        switch self {
        case .switchClient: return ["switch-client", "-t", target]
        case .attach: return ["attach-session", "-t", target]
        }
    }

    /// Whether `first` and `second` name one file (same device and inode), or, when either cannot be
    /// examined, are the same string.
    public static func sameFile(_ first: String, _ second: String) -> Bool {
        var a = stat()
        var b = stat()
        guard stat(first, &a) == 0, stat(second, &b) == 0 else { return first == second }
        return a.st_dev == b.st_dev && a.st_ino == b.st_ino
    }
}

extension TmuxHandOff {
    /// Moves the tmux client this process runs in to `session` (`tmux switch-client -t SESSION`)
    /// and returns, this process still running in its pane: what a full-screen command such as
    /// `ccorc top` does, so that the user finds it again in the window they left.
    /// - Parameter tmux: tmux's command line before the subcommand, e.g. `["tmux", "-L", NAME]`.
    /// - Throws: `TmuxError.Code.commandFailed` with tmux's own message (`no current client`).
    public static func switchClient(tmux: [String], session: String) async throws {
        let arguments = Array(tmux.dropFirst()) + TmuxHandOff.switchClient.arguments(session: session)
        let result = try await TmuxChildProcess.run(
            executable: tmux.first ?? "tmux", arguments: arguments, keepingTmuxVariables: true)
        guard result.status == 0 else {
            let message = result.errorOutput.trimmingWhitespaceAndNewlines()
            throw TmuxError(
                .commandFailed, message.isEmpty ? "tmux switch-client exited with status \(result.status)" : message,
                command: (tmux + TmuxHandOff.switchClient.arguments(session: session)).joined(separator: " "))
        }
    }
}
