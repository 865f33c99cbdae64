// Which kind each area's errors are: the one place an error is classified. The CLIs turn the kind
// into an exit status and the C ABI into a ccorc_status, without looking at the area types.

extension EngineError: CCOrcError {
    /// Classified as moby's client classifies statuses; an unreachable engine is its own kind.
    public var kind: ErrorKind {
        switch code {
        case .notFound: return .notFound
        case .conflict: return .conflict
        case .invalidArgument, .invalidInput, .unsupportedHost: return .invalidInput
        case .unreachable, .tls: return .engineUnreachable
        case .forbidden, .server, .unexpectedStatus, .transport, .malformedReply, .cancelled: return .engine
        }
    }

    /// The engine code, e.g. `notFound` or `unreachable`.
    public var codeName: String { code.rawValue }

    /// For an unreachable engine, starting it.
    public var suggestedFix: String? {
        code == .unreachable ? "start dockerd, or point DOCKER_HOST at its socket" : nil
    }
}

extension TransportError: CCOrcError {
    /// `.engine`: libcurl failed talking to the engine.
    public var kind: ErrorKind { .engine }
}

extension CgroupError: CCOrcError {
    /// `.engine`: a container's cgroup is the engine's.
    public var kind: ErrorKind { .engine }
    /// `cgroup`.
    public var codeName: String { "cgroup" }
}

extension SessionError: CCOrcError {
    /// Exhaustive: a code added to the library needs its own decision here.
    public var kind: ErrorKind {
        switch code {
        case .notFound, .imageMissing: return .notFound
        case .alreadyExists: return .alreadyExists
        case .tmuxConflict: return .conflict
        case .invalidArgument: return .invalidInput
        case .containersMissing, .stepFailed, .interrupted: return .session
        }
    }

    /// The session code, e.g. `notFound` or `stepFailed`.
    public var codeName: String { code.rawValue }
}

extension MoveError: CCOrcError {
    /// `.session`: a move failed at a step (the session is intact where it was).
    public var kind: ErrorKind { .session }
    /// `interrupted` or `moveFailed`.
    public var codeName: String { interrupted ? "interrupted" : "moveFailed" }
}

extension RegistryError: CCOrcError {
    /// Names registered or not, and bad names, are their own kinds; the rest is the registry's.
    public var kind: ErrorKind {
        switch code {
        case .alreadyExists: return .alreadyExists
        case .notFound: return .notFound
        case .invalidName: return .invalidInput
        case .corrupt, .busy, .io, .schemaTooNew, .other: return .registry
        }
    }

    /// `registry`.
    public var codeName: String { "registry" }

    /// For a corrupt registry, rebuilding it from the engine.
    public var suggestedFix: String? { code == .corrupt ? "ccorc recover" : nil }
}

extension TmuxError: CCOrcError {
    /// A target tmux cannot find and a name or argument it refuses are their own kinds.
    public var kind: ErrorKind {
        switch code {
        case .notFound: return .notFound
        case .invalidName, .invalidArgument: return .invalidInput
        case .commandFailed, .serverNotRunning, .connectionLost, .protocolError, .spawnFailed, .socketDirectory,
            .timedOut, .closed:
            return .tmux
        }
    }

    /// `tmux`.
    public var codeName: String { "tmux" }
}

extension TarError: CCOrcError {
    /// `archive`.
    public var codeName: String { "archive" }
}

// Internal (the default kind): the message says what.
extension JSONError: CCOrcError {}
extension FileReadError: CCOrcError {}
extension PrivateFileError: CCOrcError {}
extension ExportFileError: CCOrcError {}
extension LegacyImportError: CCOrcError {}

extension DamagedRegistryRow: CCOrcError {
    /// The `ccorc forget` command that drops the row.
    public var suggestedFix: String? { forgetCommand }
}
