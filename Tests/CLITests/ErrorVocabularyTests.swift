import CCOrcHeader
import CLISupport
import Testing

@testable import CCOrcC
@testable import CCOrcKit

/// Every error case of the driver, with the `--json` code, exit status and C status it has always
/// had: the classification in `ErrorKinds.swift` and the two mappings from kinds must keep them.
@Suite struct ErrorVocabularyTests {
    /// One error, and what the CLIs and the C ABI make of it.
    struct Expectation: CustomTestStringConvertible, Sendable {
        var error: any CCOrcError
        var kind: ErrorKind
        var codeName: String
        var exitStatus: Int32 = 1
        var status: ccorc_status

        var testDescription: String { "\(type(of: error)) \(codeName) \(kind)" }
    }

    static func engine(_ code: EngineError.Code, _ kind: ErrorKind, _ status: ccorc_status) -> Expectation {
        Expectation(error: EngineError(code, "engine says no"), kind: kind, codeName: code.rawValue, status: status)
    }

    static func session(_ code: SessionError.Code, _ kind: ErrorKind, _ status: ccorc_status) -> Expectation {
        Expectation(
            error: SessionError(code, "session step failed"), kind: kind, codeName: code.rawValue, status: status)
    }

    static func registry(_ code: RegistryError.Code, _ kind: ErrorKind, _ status: ccorc_status) -> Expectation {
        Expectation(error: RegistryError(code, "registry says no"), kind: kind, codeName: "registry", status: status)
    }

    static func tmux(_ code: TmuxError.Code, _ kind: ErrorKind, _ status: ccorc_status) -> Expectation {
        Expectation(error: TmuxError(code, "tmux says no"), kind: kind, codeName: "tmux", status: status)
    }

    static func tar(_ code: TarError.Code) -> Expectation {
        Expectation(
            error: TarError(code, "cannot archive"), kind: .internal, codeName: "archive", status: CCORC_ERR_INTERNAL)
    }

    static let table: [Expectation] = [
        engine(.notFound, .notFound, CCORC_ERR_NOT_FOUND),
        engine(.conflict, .conflict, CCORC_ERR_CONFLICT),
        engine(.invalidArgument, .invalidInput, CCORC_ERR_INVALID_ARGUMENT),
        engine(.forbidden, .engine, CCORC_ERR_ENGINE),
        engine(.server, .engine, CCORC_ERR_ENGINE),
        engine(.unexpectedStatus, .engine, CCORC_ERR_ENGINE),
        engine(.unreachable, .engineUnreachable, CCORC_ERR_ENGINE_UNREACHABLE),
        engine(.transport, .engine, CCORC_ERR_ENGINE),
        engine(.malformedReply, .engine, CCORC_ERR_ENGINE),
        engine(.unsupportedHost, .invalidInput, CCORC_ERR_INVALID_ARGUMENT),
        engine(.invalidInput, .invalidInput, CCORC_ERR_INVALID_ARGUMENT),
        engine(.cancelled, .engine, CCORC_ERR_ENGINE),

        session(.notFound, .notFound, CCORC_ERR_NOT_FOUND),
        session(.alreadyExists, .alreadyExists, CCORC_ERR_ALREADY_EXISTS),
        session(.imageMissing, .notFound, CCORC_ERR_NOT_FOUND),
        session(.containersMissing, .session, CCORC_ERR_SESSION),
        session(.stepFailed, .session, CCORC_ERR_SESSION),
        session(.tmuxConflict, .conflict, CCORC_ERR_CONFLICT),
        session(.invalidArgument, .invalidInput, CCORC_ERR_INVALID_ARGUMENT),
        session(.interrupted, .session, CCORC_ERR_SESSION),

        registry(.alreadyExists, .alreadyExists, CCORC_ERR_ALREADY_EXISTS),
        registry(.notFound, .notFound, CCORC_ERR_NOT_FOUND),
        registry(.corrupt, .registry, CCORC_ERR_REGISTRY),
        registry(.busy, .registry, CCORC_ERR_REGISTRY),
        registry(.io, .registry, CCORC_ERR_REGISTRY),
        registry(.schemaTooNew, .registry, CCORC_ERR_REGISTRY),
        registry(.invalidName, .invalidInput, CCORC_ERR_INVALID_ARGUMENT),
        registry(.other, .registry, CCORC_ERR_REGISTRY),

        tmux(.commandFailed, .tmux, CCORC_ERR_TMUX),
        tmux(.notFound, .notFound, CCORC_ERR_NOT_FOUND),
        tmux(.serverNotRunning, .tmux, CCORC_ERR_TMUX),
        tmux(.connectionLost, .tmux, CCORC_ERR_TMUX),
        tmux(.invalidName, .invalidInput, CCORC_ERR_INVALID_ARGUMENT),
        tmux(.invalidArgument, .invalidInput, CCORC_ERR_INVALID_ARGUMENT),
        tmux(.protocolError, .tmux, CCORC_ERR_TMUX),
        tmux(.spawnFailed, .tmux, CCORC_ERR_TMUX),
        tmux(.socketDirectory, .tmux, CCORC_ERR_TMUX),
        tmux(.timedOut, .tmux, CCORC_ERR_TMUX),
        tmux(.closed, .tmux, CCORC_ERR_TMUX),

        tar(.notFound), tar(.notADirectory), tar(.unreadable), tar(.changed), tar(.vanished), tar(.unrepresentable),
        tar(.other),

        Expectation(
            error: CgroupError(code: .notFound, message: "no cgroup"), kind: .engine, codeName: "cgroup",
            status: CCORC_ERR_ENGINE),
        Expectation(
            error: CgroupError(code: .unreadable, message: "unreadable"), kind: .engine, codeName: "cgroup",
            status: CCORC_ERR_ENGINE),
        Expectation(
            error: TransportError(code: .couldNotConnect, message: "no"), kind: .engine, codeName: "failed",
            status: CCORC_ERR_ENGINE),
        Expectation(
            error: TransportError(code: .timedOut, message: "slow"), kind: .engine, codeName: "failed",
            status: CCORC_ERR_ENGINE),
        Expectation(
            error: TransportError(code: .cancelled, message: "stop"), kind: .engine, codeName: "failed",
            status: CCORC_ERR_ENGINE),
        Expectation(
            error: TransportError(code: .requestBodyFailed, message: "body"), kind: .engine, codeName: "failed",
            status: CCORC_ERR_ENGINE),
        Expectation(
            error: TransportError(code: .replyTooLarge, message: "big"), kind: .engine, codeName: "failed",
            status: CCORC_ERR_ENGINE),
        Expectation(
            error: TransportError(code: .other, message: "curl"), kind: .engine, codeName: "failed",
            status: CCORC_ERR_ENGINE),
        Expectation(
            error: MoveError(reason: "move a to b: copy failed", leftOnTarget: [], interrupted: false), kind: .session,
            codeName: "moveFailed", status: CCORC_ERR_SESSION),
        Expectation(
            error: MoveError(
                reason: "move a to b: interrupted", leftOnTarget: ["volume a-leader-state"], interrupted: true),
            kind: .session, codeName: "interrupted", status: CCORC_ERR_SESSION),
        Expectation(error: JSONError(message: "bad"), kind: .internal, codeName: "failed", status: CCORC_ERR_INTERNAL),
        Expectation(
            error: FileReadError(description: "cannot read x"), kind: .internal, codeName: "failed",
            status: CCORC_ERR_INTERNAL),
        Expectation(
            error: PrivateFileError("open", "/x", errno: 13), kind: .internal, codeName: "failed",
            status: CCORC_ERR_INTERNAL),
        Expectation(
            error: ExportFileError("f.json", "bad"), kind: .internal, codeName: "failed", status: CCORC_ERR_INTERNAL),
        Expectation(
            error: LegacyImportError(description: "bad"), kind: .internal, codeName: "failed",
            status: CCORC_ERR_INTERNAL),
        Expectation(
            error: DamagedRegistryRow(key: "x", reason: "bad config"), kind: .internal, codeName: "failed",
            status: CCORC_ERR_INTERNAL),

        Expectation(
            error: BoundaryError.invalid("NULL"), kind: .invalidInput, codeName: "failed",
            status: CCORC_ERR_INVALID_ARGUMENT),
        Expectation(
            error: BoundaryError(.notFound, "no file"), kind: .notFound, codeName: "failed", status: CCORC_ERR_NOT_FOUND
        ),
        Expectation(
            error: BoundaryError(.internal, "out of memory"), kind: .internal, codeName: "failed",
            status: CCORC_ERR_INTERNAL),
        Expectation(
            error: CommandLineFailure("--drop goes with --fix-broken"), kind: .internal, codeName: "failed",
            status: CCORC_ERR_INTERNAL),
    ]

    @Test(arguments: table) func classification(_ row: Expectation) {
        #expect(row.error.kind == row.kind)
        #expect(row.error.codeName == row.codeName)
        #expect(row.error.kind.exitStatus == row.exitStatus)
        #expect(status(of: row.error) == row.status)
    }

    /// Every kind has its own C status, and an error outside the vocabulary is INTERNAL.
    @Test func everyKindHasItsOwnStatus() {
        struct Stranger: Error {}
        #expect(Set(ErrorKind.allCases.map(\.status.rawValue)).count == ErrorKind.allCases.count)
        #expect(ErrorKind.unsupported.status == CCORC_ERR_UNSUPPORTED)
        #expect(status(of: Stranger()) == CCORC_ERR_INTERNAL)
    }

    /// The one "session not found" error: its text, code and the command it suggests.
    @Test func sessionNotFound() throws {
        let error = SessionError.sessionNotFound(try SessionName("team"))
        #expect(error.description == "session team not found (see `ccorc list`)")
        #expect(error.code == .notFound && error.suggestedFix == "ccorc list")
        let failure = CommandLineFailure(error, adding: "; nothing changed")
        #expect(failure.message == "session team not found (see `ccorc list`); nothing changed")
        #expect(failure.codeName == "notFound" && failure.kind.exitStatus == 1)
    }
}
