/// A failure of a session operation, naming the session and the step.
public struct SessionError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, for callers that switch on it.
    public enum Code: String, Sendable {
        case notFound, alreadyExists, imageMissing, containersMissing, stepFailed, tmuxConflict, invalidArgument
        /// The operation was asked to stop (Ctrl-C) and undid what it had made.
        case interrupted
    }
    /// The class of the failure.
    public var code: Code
    /// The one-line message.
    public var message: String
    /// The command that fixes it, when the message names one.
    public var suggestedFix: String?
    public var description: String { message }

    /// Creates an error.
    public init(_ code: Code, _ message: String, suggestedFix: String? = nil) {
        self.code = code
        self.message = message
        self.suggestedFix = suggestedFix
    }

    /// The command that lists the registered sessions, which a "not found" error points at.
    public static let listCommand = "ccorc list"

    /// "session NAME not found (see `ccorc list`)": no session of that name is registered.
    public static func sessionNotFound(_ name: SessionName) -> SessionError {
        SessionError(.notFound, "session \(name) not found (see `\(listCommand)`)", suggestedFix: listCommand)
    }
}
