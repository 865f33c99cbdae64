/// What kind of failure an error is, shared by every area's error type.
///
/// The kinds are the distinctions the two front ends make: each kind is one `ccorc_status` of the
/// C ABI (CCOrcC's `ErrorKind.status`) and one exit status of the CLIs (CLISupport's
/// `ErrorKind.exitStatus`). An area's own `Code` stays finer; its error says which kind each code is.
public enum ErrorKind: String, Sendable, Hashable, CaseIterable {
    /// No such session, container, image, volume or tmux target.
    case notFound
    /// A session of that name is already registered (or being launched).
    case alreadyExists
    /// The engine or tmux refused because of the current state (a name in use, a foreign tmux session).
    case conflict
    /// A malformed or out-of-range argument: a name, role, mount, limit, option or input file.
    case invalidInput
    /// Nothing answers on the engine's socket.
    case engineUnreachable
    /// Any other failure of the engine or of reaching it (including reading its cgroups).
    case engine
    /// tmux failed (no server, a broken control pipe, a command tmux rejected).
    case tmux
    /// The SQLite registry failed (locked, corrupt, unwritable, newer schema).
    case registry
    /// A session operation failed at a step (creating containers, containers missing on resume).
    case session
    /// This build does not provide the operation.
    case unsupported
    /// Anything else; the message says what.
    case `internal`
}

/// An error of the ccorc vocabulary: a kind to classify it by, a one-line message and, where there
/// is one, the command or step that fixes it.
///
/// Every public error type of the driver adopts it, so the CLIs and the C ABI classify an error by
/// its `kind` alone. The message is `description`: the line the CLI prints after `ccorc: ` and the
/// C ABI puts in `ccorc_error.message`. (The requirement is not called `code` or `message`
/// because the area types already have properties of those names, with their own meaning.)
public protocol CCOrcError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure, which decides the exit status and the C status.
    var kind: ErrorKind { get }
    /// The error's case as one word, e.g. `notFound` or `registry`: the `code` of the CLIs' `--json`
    /// error object. `failed` for errors that have no case of their own to report.
    var codeName: String { get }
    /// What fixes it, e.g. `ccorc recover`; nil when there is nothing to suggest.
    var suggestedFix: String? { get }
}

extension CCOrcError {
    /// `.internal`: an error of no other kind.
    public var kind: ErrorKind { .internal }
    /// `failed`: the error reports no case of its own.
    public var codeName: String { "failed" }
    /// Nothing to suggest.
    public var suggestedFix: String? { nil }
}
