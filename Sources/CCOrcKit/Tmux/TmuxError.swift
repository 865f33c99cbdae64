import Glibc

/// An error from the tmux control-mode client, with a code to switch on and the cause as tmux or
/// the system reported it.
public struct TmuxError: Error, CustomStringConvertible, Sendable, Hashable {
    /// What went wrong, in classes a caller can act on.
    public enum Code: String, Sendable, Hashable {
        /// tmux ran the command and answered `%error`; `message` holds tmux's own text.
        case commandFailed
        /// tmux could not find the session, window or pane named by a target ("can't find …").
        case notFound
        /// No tmux server answers on the socket (or it has no sessions to attach to).
        case serverNotRunning
        /// The control-mode pipe broke or the server exited while a command was in flight.
        case connectionLost
        /// A session or window name that tmux forbids or would rewrite (`.`, `:`, control characters).
        case invalidName
        /// An argument that cannot be passed to tmux at all (a NUL byte, a bad subscription name).
        case invalidArgument
        /// tmux answered something the protocol does not allow (an unmatched `%end`, a malformed line).
        case protocolError
        /// The `tmux -C` child process could not be started.
        case spawnFailed
        /// tmux's socket directory is missing, cannot be made, or is one tmux refuses (another
        /// user's, or open to others).
        case socketDirectory
        /// tmux did not finish the control-mode handshake in time.
        case timedOut
        /// The client was closed with `close()`.
        case closed
    }

    /// The class of the failure.
    public var code: Code
    /// tmux's own `%error` text, the child's stderr, or a description of the cause.
    public var message: String
    /// The command line that failed, as written to tmux, when one was involved.
    public var command: String?
    /// The `errno` of a failed system call, when one was involved.
    public var systemError: Int32?

    /// Creates an error; `message` should say what a user can do about it where possible.
    public init(_ code: Code, _ message: String, command: String? = nil, systemError: Int32? = nil) {
        self.code = code
        self.message = message
        self.command = command
        self.systemError = systemError
    }

    /// Classifies a `%error` reply: "can't find …" is `.notFound`, anything else `.commandFailed`.
    static func fromReply(_ reply: TmuxReply, command: String) -> TmuxError {
        let text = reply.text
        return TmuxError(text.hasPrefix("can't find") ? .notFound : .commandFailed, text, command: command)
    }

    /// One line for a user: the class, the cause and, if any, the command.
    public var description: String {
        var text = "tmux \(code.rawValue): \(message)"
        if let systemError { text += " (\(String(cString: strerror(systemError))))" }
        if let command { text += " [command: \(command)]" }
        return text
    }
}
